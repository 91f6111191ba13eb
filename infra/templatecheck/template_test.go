package templatecheck_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"

	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// functions maps each function in the template to its folder and the config loader its main
// calls. A function added to the template without a row here fails TestEveryFunctionIsKnown.
var functions = map[string]struct {
	dir    string
	loader string
	load   func(func(string) string) error
}{
	"IntakeFunction": {"intake", "config.LoadIntake", func(g func(string) string) error { _, err := config.LoadIntake(g); return err }},
	"SweepFunction":  {"sweep", "config.LoadSweep", func(g func(string) string) error { _, err := config.LoadSweep(g); return err }},
	"AdminFunction":  {"admin", "config.LoadAdmin", func(g func(string) string) error { _, err := config.LoadAdmin(g); return err }},
	"PortalFunction": {"portal", "config.LoadPortal", func(g func(string) string) error { _, err := config.LoadPortal(g); return err }},
	"InboundFunction": {"inbound", "config.LoadInbound", func(g func(string) string) error {
		_, err := config.LoadInbound(g)
		return err
	}},
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func load(t *testing.T) (*samtemplate.Template, *samtemplate.Stack) {
	t.Helper()
	tpl, err := samtemplate.ParseFile(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Parameters without a default get deploy-time-like values.
	st, err := tpl.Stack(samtemplate.StackOptions{Parameters: map[string]string{
		"ControllerName": "JMA A/S", "BaseUrl": "https://privacy.example.dk",
		"SenderAddress": "privacy@example.dk", "SenderIdentity": "example.dk",
		"DpoAddresses": "dpo@example.dk", "ControllerAddress": "Vestergade 1, 8000 Aarhus C",
		"PrivacyPolicyUrl": "https://www.example.dk/privatliv",
	}})
	if err != nil {
		t.Fatal(err)
	}
	return tpl, st
}

func TestEveryFunctionIsKnown(t *testing.T) {
	tpl, _ := load(t)
	ids := tpl.IDs(samtemplate.TypeFunction)
	sort.Strings(ids)
	var want []string
	for id := range functions {
		want = append(want, id)
	}
	sort.Strings(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("template functions %v, tests know %v", ids, want)
	}
	entries, err := os.ReadDir(filepath.Join(repoRoot(t), "functions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		found := false
		for _, f := range functions {
			found = found || f.dir == e.Name()
		}
		if e.IsDir() && !found {
			t.Errorf("functions/%s is not deployed by template.yaml", e.Name())
		}
	}
}

// The table the template deploys is the table the store is written for.
func TestTableMatchesStore(t *testing.T) {
	tpl, st := load(t)
	tables, err := st.Tables()
	if err != nil || len(tables) != 1 {
		t.Fatalf("tables %v, %v; want exactly one", tables, err)
	}
	got, want := tables[0].CreateTableInput(), store.TableDefinition("x")
	if got.BillingMode != want.BillingMode {
		t.Errorf("billing mode %s, want %s", got.BillingMode, want.BillingMode)
	}
	if k, w := keys(got.KeySchema), keys(want.KeySchema); k != w {
		t.Errorf("key schema %s, want %s", k, w)
	}
	if a, w := attrs(got.AttributeDefinitions), attrs(want.AttributeDefinitions); a != w {
		t.Errorf("attribute definitions %s, want %s", a, w)
	}
	if g, w := gsis(got.GlobalSecondaryIndexes), gsis(want.GlobalSecondaryIndexes); g != w {
		t.Errorf("indexes %s, want %s", g, w)
	}
	tb := tables[0]
	if tb.TimeToLive == nil || !aws.ToBool(tb.TimeToLive.Enabled) || aws.ToString(tb.TimeToLive.AttributeName) != store.AttrExpiresAt {
		t.Errorf("TTL must be enabled on %s", store.AttrExpiresAt)
	}
	if tb.SSESpecification == nil || !aws.ToBool(tb.SSESpecification.Enabled) || !tb.PointInTimeRecovery || !tb.DeletionProtectionEnabled {
		t.Errorf("table must have SSE, point-in-time recovery and deletion protection: %+v", tb)
	}
	res := tpl.Resources[tb.LogicalID]
	for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
		if v := mappingValue(res.Node, policy); v != "Retain" {
			t.Errorf("%s is %q, want Retain", policy, v)
		}
	}
}

func keys(ks []ddbtypes.KeySchemaElement) string {
	var out []string
	for _, k := range ks {
		out = append(out, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
	}
	return strings.Join(out, ",")
}

func attrs(as []ddbtypes.AttributeDefinition) string {
	var out []string
	for _, a := range as {
		out = append(out, aws.ToString(a.AttributeName)+":"+string(a.AttributeType))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func gsis(gs []ddbtypes.GlobalSecondaryIndex) string {
	var out []string
	for _, g := range gs {
		p := ""
		if g.Projection != nil {
			p = string(g.Projection.ProjectionType)
		}
		out = append(out, aws.ToString(g.IndexName)+"("+keys(g.KeySchema)+";"+p+")")
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// mappingValue finds a key of a resource's own mapping node (attributes beside Properties).
func mappingValue(n *yaml.Node, key string) string {
	if n == nil {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// Every variable a function's config loader reads is declared in its environment (so sam
// deploy sets it and sam local --env-vars can override it), and every variable declared is
// read by someone: a typo on either side fails here, not at a cold start in production.
func TestEnvironmentMatchesConfig(t *testing.T) {
	_, st := load(t)
	for id, f := range functions {
		t.Run(id, func(t *testing.T) {
			fn, err := st.Function(id)
			if err != nil {
				t.Fatal(err)
			}
			read := map[string]bool{}
			if err := f.load(func(k string) string { read[k] = true; return fn.Environment[k] }); err != nil {
				t.Errorf("the template's values do not load: %v", err)
			}
			for k := range read {
				if _, ok := fn.Environment[k]; !ok {
					t.Errorf("%s reads %s, which the template does not declare", f.loader, k)
				}
			}
			for k := range fn.Environment {
				if !read[k] && !strings.HasPrefix(k, "AWS_ENDPOINT_URL_") && !readByAnother(k) {
					t.Errorf("the template declares %s, which no function reads", k)
				}
			}
			src, err := os.ReadFile(filepath.Join(repoRoot(t), "functions", f.dir, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(src), f.loader+"(os.Getenv)") {
				t.Errorf("functions/%s/main.go does not call %s(os.Getenv)", f.dir, f.loader)
			}
		})
	}
}

// readByAnother reports whether some function's loader reads k (Globals are shared, so a
// variable only the sweep reads may still be declared for everyone).
func readByAnother(k string) bool {
	for _, f := range functions {
		seen := false
		_ = f.load(func(name string) string { seen = seen || name == k; return "" })
		if seen {
			return true
		}
	}
	return false
}

// Each function builds with the Makefile target sam build runs, for Lambda's architecture.
func TestFunctionsBuildWithTheirMakeTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three arm64 binaries")
	}
	_, st := load(t)
	root := repoRoot(t)
	for id, f := range functions {
		t.Run(id, func(t *testing.T) {
			fn, err := st.Function(id)
			if err != nil {
				t.Fatal(err)
			}
			if fn.BuildMethod != "makefile" || fn.CodeURI != "." || fn.Handler != "bootstrap" || fn.Runtime != "provided.al2023" || !slices.Equal(fn.Architectures, []string{"arm64"}) {
				t.Fatalf("build settings %+v", fn)
			}
			out := t.TempDir()
			cmd := exec.Command("make", "--no-print-directory", "build-"+id, "ARTIFACTS_DIR="+out)
			cmd.Dir = root
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", id, err, b)
			} else if !strings.Contains(string(b), "./functions/"+f.dir) {
				t.Errorf("make build-%s does not build ./functions/%s:\n%s", id, f.dir, b)
			}
			bin, err := os.ReadFile(filepath.Join(out, "bootstrap"))
			if err != nil {
				t.Fatal(err)
			}
			// ELF, 64-bit, little-endian, machine 0xB7 = AArch64.
			if len(bin) < 20 || string(bin[:4]) != "\x7fELF" || bin[18] != 0xB7 {
				t.Fatalf("bootstrap is not a linux/arm64 ELF binary")
			}
		})
	}
}

// Routes point at a function on the desk's own API, and every path the handlers serve has a
// route; the schedule runs the sweep in the controller's zone.
func TestRoutesAndSchedules(t *testing.T) {
	_, st := load(t)
	want := map[string]string{
		"GET /":                "IntakeFunction",
		"POST /requests":       "IntakeFunction",
		"OPTIONS /requests":    "IntakeFunction",
		"GET /sent":            "IntakeFunction",
		"GET /verify":          "IntakeFunction",
		"POST /verify":         "IntakeFunction",
		"ANY /admin":           "AdminFunction",
		"ANY /admin/{proxy+}":  "AdminFunction",
		"ANY /status":          "PortalFunction",
		"ANY /status/{proxy+}": "PortalFunction",
	}
	got := map[string]string{}
	var schedules int
	for id := range functions {
		fn, err := st.Function(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range fn.HTTPAPIEvents {
			if e.APIID != "HttpApi" {
				t.Errorf("%s %s is on API %q, not HttpApi", id, e.RouteKey(), e.APIID)
			}
			if prev, dup := got[e.RouteKey()]; dup {
				t.Errorf("route %s on %s and %s", e.RouteKey(), prev, id)
			}
			got[e.RouteKey()] = id
		}
		for _, s := range fn.ScheduleEvents {
			schedules++
			if id != "SweepFunction" || !s.Enabled() || s.Timezone != "Europe/Copenhagen" ||
				!regexp.MustCompile(`^cron\(.+\)$`).MatchString(s.ScheduleExpression) {
				t.Errorf("schedule %s on %s: %+v", s.Name, id, s)
			}
		}
	}
	if schedules != 1 {
		t.Errorf("%d schedules, want the sweep's one", schedules)
	}
	for route, fn := range want {
		if got[route] != fn {
			t.Errorf("route %s → %q, want %s", route, got[route], fn)
		}
	}
	for route := range got {
		if _, ok := want[route]; !ok {
			t.Errorf("unexpected route %s", route)
		}
	}
}

// Least privilege: no wildcard action or resource, no Scan anywhere, nothing but Query on an
// index, SES only from the sender identity, and SQS only to hand
// a failed sweep to its queue.
// (TestTranslatedTemplate checks the roles SAM makes of these, where python3 is at hand.)
func TestPoliciesAreLeastPrivilege(t *testing.T) {
	tpl, st := load(t)
	allowed := map[string][]string{
		"IntakeFunction": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchWriteItem"},
		"SweepFunction":  {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "sqs:SendMessage"},
		"AdminFunction": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
			"dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"},
		"PortalFunction": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "s3:GetObject"},
		"InboundFunction": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchWriteItem",
			"sqs:SendMessage"},
	}
	// Only these name no item, so only they may go without a dynamodb:LeadingKeys condition.
	unkeyed := []string{"sqs:SendMessage", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetObject"}
	// With InboundAddress, the inbound function reads the raw mails and the workspace signs
	// links to them (checked on the translated template, TestTranslatedTemplate).
	for id := range functions {
		t.Run(id, func(t *testing.T) {
			policies, err := st.Resolve(tpl.Resources[id].Properties.Lookup("Policies"))
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, p := range policies.([]any) {
				switch p := p.(type) {
				case string: // a managed policy: only ours, which sends mail
					if p != "SendMailPolicy" {
						t.Errorf("managed policy %q", p)
					}
				case map[string]any:
					stmts, _ := p["Statement"].([]any)
					if len(stmts) == 0 {
						t.Errorf("policy %v is not an inline statement list (policy templates are too broad to check)", p)
					}
					for _, s := range stmts {
						s := s.(map[string]any)
						acts := checkStatement(t, s)
						actions = append(actions, acts...)
						onTable := !slices.ContainsFunc(list(s["Resource"]), func(r string) bool {
							return strings.Contains(r, "/index/") || deliveries(r)
						})
						cond, _ := s["Condition"].(map[string]any)
						like, _ := cond["ForAllValues:StringLike"].(map[string]any)
						_, keyed := like["dynamodb:LeadingKeys"]
						for _, a := range acts {
							if onTable && !keyed && !slices.Contains(unkeyed, a) {
								t.Errorf("%s on the table without a dynamodb:LeadingKeys condition (%v)", a, s["Sid"])
							}
						}
					}
				}
			}
			sort.Strings(actions)
			want := slices.Clone(allowed[id])
			sort.Strings(want)
			if !slices.Equal(slices.Compact(actions), want) {
				t.Errorf("actions %v, want %v", actions, want)
			}
		})
	}
	mail, err := st.Resolve(tpl.Resources["SendMailPolicy"].Properties.Lookup("PolicyDocument"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range mail.(map[string]any)["Statement"].([]any) {
		s := s.(map[string]any)
		res := list(s["Resource"])
		if len(res) != 2 || !strings.HasSuffix(res[0], ":identity/example.dk") || !strings.HasSuffix(res[1], ":configuration-set/MailConfigurationSet") || s["Condition"] == nil {
			t.Errorf("SES statement not limited to the sender identity, its configuration set and address: %v", s)
		}
	}
}

// s3Actions are what the workspace (the first three) and the status page (GetObject) may do
// with the deliveries bucket, and no more.
var s3Actions = []string{"s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetObject"}

// deliveries reports whether resource is the deliveries bucket or its objects (the runner's
// resolver names the bucket as CloudFormation would, in lower case).
func deliveries(resource string) bool {
	return strings.HasPrefix(resource, "arn:aws:s3:::") && strings.Contains(resource, "deliveriesbucket")
}

func checkStatement(t *testing.T, s map[string]any) []string {
	var actions []string
	for _, a := range list(s["Action"]) {
		if a == "*" || strings.HasSuffix(a, ":*") || !strings.HasPrefix(a, "dynamodb:") && a != "sqs:SendMessage" && !slices.Contains(s3Actions, a) {
			t.Errorf("action %q is a wildcard or neither DynamoDB, sqs:SendMessage nor an S3 action on the deliveries", a)
		}
		actions = append(actions, a)
	}
	s3 := slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "s3:") })
	for _, r := range list(s["Resource"]) {
		// S3 names every object of a bucket <bucket ARN>/*: the one wildcard allowed, on the
		// deliveries bucket alone, for object actions alone.
		objects := strings.HasSuffix(r, "/*") && deliveries(r) && s3 && !slices.Contains(actions, "s3:ListBucket")
		if strings.Contains(r, "*") && !objects {
			t.Errorf("resource %q has a wildcard", r)
		}
		if s3 && !deliveries(r) {
			t.Errorf("S3 actions %v on %q, not the deliveries bucket", actions, r)
		}
		failureQueue := strings.HasSuffix(r, ":SweepFailureQueue") || strings.HasSuffix(r, ":InboundFailureQueue")
		if failureQueue != slices.Contains(actions, "sqs:SendMessage") {
			t.Errorf("resource %q: sqs:SendMessage goes to a failure queue and nothing else does", r)
		}
		if strings.Contains(r, "/index/") && !strings.HasSuffix(r, "/index/"+store.SweepIndex) && !strings.HasSuffix(r, "/index/"+store.WorkspaceIndex) {
			t.Errorf("resource %q is not one of the table's indexes", r)
		}
	}
	for _, a := range actions {
		onIndex := slices.ContainsFunc(list(s["Resource"]), func(r string) bool { return strings.Contains(r, "/index/") })
		if onIndex && a != "dynamodb:Query" {
			t.Errorf("%s on %v: only Query belongs on an index", a, s["Resource"])
		}
	}
	return actions
}

func list(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
