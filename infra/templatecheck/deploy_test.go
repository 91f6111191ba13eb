package templatecheck_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/templatecheck"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// A deploy is one set of parameter values for template.yaml and what a deploy with them
// must get.
type deploy struct {
	name   string
	params map[string]string
	// conditions lists every condition of the template with its value for params.
	conditions map[string]bool
	// timezone is the sweep schedule's, alarmTo the address subscribed to the alarms.
	timezone, alarmTo string
	// domain is the host name served on a custom domain ("" for none); record whether
	// its Route 53 alias is created.
	domain string
	record bool
	// edge is whether the desk is served through CloudFront and a WAF web ACL.
	edge bool
	// inbound is whether the desk receives mail at InboundAddress.
	inbound bool
}

func dkParams(extra map[string]string) map[string]string {
	p := map[string]string{
		"ControllerName": "JMA A/S", "BaseUrl": "https://privacy.example.dk",
		"SenderAddress": "privacy@example.dk", "SenderIdentity": "example.dk",
		"DpoAddresses":      "dpo@example.dk , legal@example.dk",
		"ControllerAddress": "Vestergade 1, 8000 Aarhus C", "PrivacyPolicyUrl": "https://www.example.dk/privatliv",
	}
	maps.Copy(p, extra)
	return p
}

var deploys = []deploy{
	{
		name:   "DK with defaults",
		params: dkParams(nil),
		conditions: map[string]bool{"HasCustomDomain": false, "HasHostedZone": false, "HasAlarmEmail": false,
			"HasAllowedOrigins": false, "HasEscalationTimezone": false, "IsNorway": false, "HasEdge": false, "HasInbound": false},
		timezone: "Europe/Copenhagen", alarmTo: "dpo@example.dk",
	},
	{
		name: "NO in Norwegian",
		params: map[string]string{
			"ControllerName": "Eksempel AS", "Country": "NO", "DefaultLanguage": "nb",
			"BaseUrl": "https://personvern.example.no", "SenderAddress": "personvern@example.no",
			"SenderIdentity": "personvern@example.no", "DpoAddresses": "pvo@example.no",
			"AlarmEmail": "drift@example.no", "ControllerAddress": "Storgata 1, 0155 Oslo",
			"PrivacyPolicyUrl": "https://www.example.no/personvern", "PromptWorkingDays": "3",
		},
		conditions: map[string]bool{"HasCustomDomain": false, "HasHostedZone": false, "HasAlarmEmail": true,
			"HasAllowedOrigins": false, "HasEscalationTimezone": false, "IsNorway": true, "HasEdge": false, "HasInbound": false},
		timezone: "Europe/Oslo", alarmTo: "drift@example.no",
	},
	{
		name: "custom domain in a hosted zone",
		params: dkParams(map[string]string{
			"CertificateArn": "arn:aws:acm:eu-north-1:123456789012:certificate/0d6e8a3c-1b2f-4a5e-9c7d-2f1e0a9b8c7d",
			"HostedZoneId":   "Z0123456789ABCDEFGHIJ", "AllowedOrigins": "https://www.example.dk, https://example.dk",
			"EscalationTimezone": "Europe/Berlin",
		}),
		conditions: map[string]bool{"HasCustomDomain": true, "HasHostedZone": true, "HasAlarmEmail": false,
			"HasAllowedOrigins": true, "HasEscalationTimezone": true, "IsNorway": false, "HasEdge": false, "HasInbound": false},
		timezone: "Europe/Berlin", alarmTo: "dpo@example.dk", domain: "privacy.example.dk", record: true,
	},
	{
		name: "custom domain, DNS elsewhere",
		params: dkParams(map[string]string{
			"CertificateArn": "arn:aws:acm:eu-north-1:123456789012:certificate/0d6e8a3c-1b2f-4a5e-9c7d-2f1e0a9b8c7d",
		}),
		conditions: map[string]bool{"HasCustomDomain": true, "HasHostedZone": false, "HasAlarmEmail": false,
			"HasAllowedOrigins": false, "HasEscalationTimezone": false, "IsNorway": false, "HasEdge": false, "HasInbound": false},
		timezone: "Europe/Copenhagen", alarmTo: "dpo@example.dk", domain: "privacy.example.dk",
	},
	{
		name:   "receiving mail at the privacy address",
		params: dkParams(map[string]string{"InboundAddress": "privacy@example.dk", "InboundMailDays": "30"}),
		conditions: map[string]bool{"HasCustomDomain": false, "HasHostedZone": false, "HasAlarmEmail": false,
			"HasAllowedOrigins": false, "HasEscalationTimezone": false, "IsNorway": false, "HasEdge": false, "HasInbound": true},
		timezone: "Europe/Copenhagen", alarmTo: "dpo@example.dk", inbound: true,
	},
	{
		name: "behind CloudFront and a WAF web ACL",
		params: dkParams(map[string]string{
			"EdgeWebAclArn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/dsrdesk-edge/0d6e8a3c-1b2f-4a5e-9c7d-2f1e0a9b8c7d",
		}),
		conditions: map[string]bool{"HasCustomDomain": false, "HasHostedZone": false, "HasAlarmEmail": false,
			"HasAllowedOrigins": false, "HasEscalationTimezone": false, "IsNorway": false, "HasEdge": true, "HasInbound": false},
		timezone: "Europe/Copenhagen", alarmTo: "dpo@example.dk", edge: true,
	},
}

// requireTools skips a test that needs a tool this machine lacks, unless
// DSR_REQUIRE_TEMPLATE_TOOLS=1 (which .ci/run sets) makes the lack a failure.
func requireTools(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		msg := fmt.Sprintf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		if os.Getenv("DSR_REQUIRE_TEMPLATE_TOOLS") == "1" {
			t.Fatalf("DSR_REQUIRE_TEMPLATE_TOOLS=1 and %s", msg)
		}
		t.Skipf("needs the real template tools (set DSR_REQUIRE_TEMPLATE_TOOLS=1 to fail instead): %s", msg)
	}
}

var translations = struct {
	sync.Mutex
	byName map[string]map[string]any
}{byName: map[string]map[string]any{}}

// translate runs the real SAM translator on template.yaml with d's parameters, once per
// test binary.
func translate(t *testing.T, d deploy) map[string]any {
	t.Helper()
	requireTools(t, "python3", "-c", "import samtranslator")
	translations.Lock()
	defer translations.Unlock()
	if tpl, ok := translations.byName[d.name]; ok {
		return tpl
	}
	root := repoRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tpl, err := templatecheck.Translate(ctx, "python3", filepath.Join(root, "infra/templatecheck/translate.py"),
		filepath.Join(root, "template.yaml"), d.params)
	if err != nil {
		t.Fatal(err)
	}
	translations.byName[d.name] = tpl
	return tpl
}

func stackFor(t *testing.T, d deploy) *templatecheck.Stack {
	t.Helper()
	s, err := templatecheck.NewStack(translate(t, d), d.params)
	if err != nil {
		t.Fatalf("CloudFormation would refuse these parameters or conditions: %v", err)
	}
	return s
}

// Each parameter set goes through the real SAM translator, and what a deploy relies on is
// read from the CloudFormation it makes.
func TestTranslatedTemplate(t *testing.T) {
	for _, d := range deploys {
		t.Run(d.name, func(t *testing.T) {
			s := stackFor(t, d)
			t.Run("parameters", func(t *testing.T) { checkParameters(t, s, d) })
			t.Run("conditions", func(t *testing.T) {
				if !maps.Equal(s.Conditions, d.conditions) {
					t.Errorf("conditions %v, want %v", s.Conditions, d.conditions)
				}
			})
			t.Run("references", func(t *testing.T) {
				if err := s.CheckReferences(); err != nil {
					t.Error(err)
				}
			})
			t.Run("roles", func(t *testing.T) { checkRoles(t, s, d) })
			t.Run("item access", func(t *testing.T) { checkItemAccess(t, s) })
			t.Run("destinations", func(t *testing.T) { checkDestinations(t, s) })
			t.Run("alarms", func(t *testing.T) { checkAlarms(t, s, d) })
			t.Run("schedule", func(t *testing.T) { checkSchedule(t, s, d) })
			t.Run("domain", func(t *testing.T) { checkDomain(t, s, d) })
			t.Run("edge", func(t *testing.T) { checkEdge(t, s, d) })
			t.Run("deliveries", func(t *testing.T) { checkDeliveries(t, s, d) })
			t.Run("mail in", func(t *testing.T) { checkInbound(t, s, d) })
			t.Run("feedback", func(t *testing.T) { checkFeedback(t, s) })
		})
	}
}

func eval(t *testing.T, s *templatecheck.Stack, v any) any {
	t.Helper()
	out, err := s.Eval(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func evalString(t *testing.T, s *templatecheck.Stack, v any) string {
	t.Helper()
	out, err := s.EvalString(v)
	if err != nil {
		t.Fatalf("%v: %v", v, err)
	}
	return out
}

// symbol returns the logical id a "{Id}" or "{Id.Attribute}" value refers to.
func symbol(v string) (id, attr string) {
	if !strings.HasPrefix(v, "{") || !strings.HasSuffix(v, "}") {
		return "", ""
	}
	id, attr, _ = strings.Cut(v[1:len(v)-1], ".")
	return id, attr
}

// The values a deploy passes are the values the functions are configured with, and every
// AllowedValues entry is the text it is written as (no YAML 1.1 boolean in its place).
func checkParameters(t *testing.T, s *templatecheck.Stack, d deploy) {
	params := s.Template["Parameters"].(map[string]any)
	for name, decl := range params {
		for _, v := range asList(decl.(map[string]any)["AllowedValues"]) {
			if _, ok := v.(string); !ok && fmt.Sprintf("%T", v) != "json.Number" {
				t.Errorf("parameter %s: AllowedValues entry %v is a %T in the translation", name, v, v)
			}
		}
	}
	want := map[string]string{"COUNTRY": "DK", "DEFAULT_LANG": "da", "BASE_URL": d.params["BaseUrl"],
		"SENDER_ADDRESS": d.params["SenderAddress"], "DPO_ADDRESSES": d.params["DpoAddresses"],
		"CONTROLLER_ADDRESS": d.params["ControllerAddress"], "PRIVACY_POLICY_URL": d.params["PrivacyPolicyUrl"], "PROMPT_WORKING_DAYS": "2"}
	if n, ok := d.params["PromptWorkingDays"]; ok {
		want["PROMPT_WORKING_DAYS"] = n
	}
	if c, ok := d.params["Country"]; ok {
		want["COUNTRY"] = c
	}
	if l, ok := d.params["DefaultLanguage"]; ok {
		want["DEFAULT_LANG"] = l
	}
	for _, id := range s.CreatedOfType("AWS::Lambda::Function") {
		env, _ := eval(t, s, s.Resources()[id].Properties["Environment"]).(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		for k, v := range want {
			if vars[k] != v {
				t.Errorf("%s: %s is %v, want %q", id, k, vars[k], v)
			}
		}
		if vars["TABLE_NAME"] != "{RequestsTable}" {
			t.Errorf("%s: TABLE_NAME is %v", id, vars["TABLE_NAME"])
		}
	}
}

func asList(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	}
	return []any{v}
}

// statement is an IAM statement with every value resolved.
type statement struct {
	effect             string
	actions, resources []string
	condition          string
	// leading are the dynamodb:LeadingKeys patterns of a ForAllValues:StringLike condition,
	// the only condition on a table statement.
	leading []string
}

// grants reports whether st allows action on resource for a call naming items whose
// partition keys are keys, as IAM evaluates dynamodb:LeadingKeys under ForAllValues:StringLike:
// every key must match one of the patterns.
func (st statement) grants(action, resource string, keys []string) bool {
	if !st.allows(action, resource) {
		return false
	}
	if st.leading == nil {
		return st.condition == ""
	}
	for _, k := range keys {
		if !slices.ContainsFunc(st.leading, func(p string) bool { return like(p, k) }) {
			return false
		}
	}
	return true
}

// like is IAM's StringLike: * matches any run of characters, ? one.
func like(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(s)
}

func (st statement) String() string {
	s := fmt.Sprintf("%s %s on %s", st.effect, strings.Join(st.actions, ","), strings.Join(st.resources, ","))
	if st.condition != "" {
		s += " if " + st.condition
	}
	return s
}

func (st statement) allows(action, resource string) bool {
	return st.effect == "Allow" && slices.Contains(st.actions, action) &&
		(slices.Contains(st.resources, resource) || slices.Contains(st.resources, "*"))
}

func strs(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, x := range asList(v) {
		s, ok := x.(string)
		if !ok {
			t.Fatalf("%v is not a string", x)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func statements(t *testing.T, s *templatecheck.Stack, doc any) []statement {
	t.Helper()
	d, _ := eval(t, s, doc).(map[string]any)
	var out []statement
	for _, x := range asList(d["Statement"]) {
		m := x.(map[string]any)
		st := statement{effect: m["Effect"].(string), actions: strs(t, m["Action"]), resources: strs(t, m["Resource"])}
		if c, ok := m["Condition"].(map[string]any); ok {
			var parts []string
			for op, kv := range c {
				for k, v := range kv.(map[string]any) {
					parts = append(parts, fmt.Sprintf("%s %s=%s", op, k, strings.Join(strs(t, v), ",")))
					if op == "ForAllValues:StringLike" && k == "dynamodb:LeadingKeys" {
						st.leading = strs(t, v)
					}
				}
			}
			sort.Strings(parts)
			st.condition = strings.Join(parts, " and ")
		}
		out = append(out, st)
	}
	return out
}

// role returns what a role may do (its inline policies and the managed policies it has,
// ours expanded, AWS's by ARN) and whom it trusts.
func role(t *testing.T, s *templatecheck.Stack, id string) (stmts []statement, managed, trust []string) {
	t.Helper()
	r, ok := s.Resources()[id]
	if !ok || r.Type != "AWS::IAM::Role" || !s.Created(id) {
		t.Fatalf("%s is not a role the deploy creates", id)
	}
	for _, p := range asList(r.Properties["Policies"]) {
		stmts = append(stmts, statements(t, s, p.(map[string]any)["PolicyDocument"])...)
	}
	for _, arn := range strs(t, eval(t, s, r.Properties["ManagedPolicyArns"])) {
		if ref, _ := symbol(arn); ref != "" {
			mp := s.Resources()[ref]
			if mp.Type != "AWS::IAM::ManagedPolicy" {
				t.Fatalf("%s: managed policy %s is a %s", id, ref, mp.Type)
			}
			stmts = append(stmts, statements(t, s, mp.Properties["PolicyDocument"])...)
			continue
		}
		managed = append(managed, arn)
	}
	for _, st := range statements(t, s, r.Properties["AssumeRolePolicyDocument"]) {
		trust = append(trust, st.actions...)
	}
	ap := eval(t, s, r.Properties["AssumeRolePolicyDocument"]).(map[string]any)
	for _, x := range asList(ap["Statement"]) {
		p, _ := x.(map[string]any)["Principal"].(map[string]any)
		trust = append(trust, strs(t, p["Service"])...)
	}
	sort.Strings(trust)
	return stmts, managed, trust
}

// itemStatements are the statements store.Access makes of a function's access to the table's
// items: one per key prefix, its actions under a dynamodb:LeadingKeys condition.
func itemStatements(function string) []string {
	var out []string
	for prefix, ops := range store.Access[function] {
		var actions []string
		for _, op := range ops {
			actions = append(actions, "dynamodb:"+op)
		}
		sort.Strings(actions)
		out = append(out, fmt.Sprintf("Allow %s on {RequestsTable.Arn} if ForAllValues:StringLike dynamodb:LeadingKeys=%s*", strings.Join(actions, ","), prefix))
	}
	return out
}

// Every function's role, and the schedule's, may do exactly what the code needs: the
// table's items by key prefix (store.Access), its indexes, mail from the sender only, and the
// sweep's failure queue.
func checkRoles(t *testing.T, s *templatecheck.Stack, d deploy) {
	ses := fmt.Sprintf("Allow ses:SendEmail on arn:aws:ses:eu-north-1:123456789012:configuration-set/{MailConfigurationSet},arn:aws:ses:eu-north-1:123456789012:identity/%s if StringEquals ses:FromAddress=%s",
		d.params["SenderIdentity"], d.params["SenderAddress"])
	basic := []string{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
	lambda := []string{"lambda.amazonaws.com", "sts:AssumeRole"}
	want := map[string]struct {
		stmts          []string
		managed, trust []string
	}{
		"IntakeFunction": {append(itemStatements("IntakeFunction"),
			ses,
		), basic, lambda},
		"AdminFunction": {append(itemStatements("AdminFunction"),
			"Allow dynamodb:Query on {RequestsTable.Arn}/index/sweep,{RequestsTable.Arn}/index/workspace",
			// The answer's files: uploaded by a form this role signs, listed, removed; never read.
			"Allow s3:DeleteObject,s3:PutObject on {DeliveriesBucket.Arn}/*",
			"Allow s3:ListBucket on {DeliveriesBucket.Arn}",
			ses,
		), basic, lambda},
		"SweepFunction": {append(itemStatements("SweepFunction"),
			"Allow dynamodb:Query on {RequestsTable.Arn}/index/sweep",
			"Allow sqs:SendMessage on {SweepFailureQueue.Arn}",
			ses,
		), basic, lambda},
		"PortalFunction": {append(itemStatements("PortalFunction"),
			"Allow dynamodb:Query on {RequestsTable.Arn}/index/workspace",
			// A download is a GET this role presigns.
			"Allow s3:GetObject on {DeliveriesBucket.Arn}/*",
			ses,
		), basic, lambda},
		"InboundFunction": {append(itemStatements("InboundFunction"),
			"Allow sqs:SendMessage on {InboundFailureQueue.Arn}",
			ses,
		), basic, lambda},
		"SweepFunctionDaily": {[]string{
			"Allow lambda:InvokeFunction on {SweepFunction.Arn}",
			"Allow sqs:SendMessage on {SweepScheduleDeadLetterQueue.Arn}",
		}, nil, []string{"scheduler.amazonaws.com", "sts:AssumeRole"}},
	}
	if d.inbound {
		// Only the mails, and only to read them: the function reads each once, the workspace
		// signs a short-lived link to one with its own role.
		read := "Allow s3:GetObject on {InboundBucket.Arn}/mail/*"
		for _, fn := range []string{"InboundFunction", "AdminFunction"} {
			w := want[fn]
			w.stmts = append(slices.Clone(w.stmts), read)
			want[fn] = w
		}
	}
	roles := map[string]string{}
	for _, id := range s.CreatedOfType("AWS::Lambda::Function") {
		roles[id] = evalString(t, s, s.Resources()[id].Properties["Role"])
	}
	for _, id := range s.CreatedOfType("AWS::Scheduler::Schedule") {
		target, _ := s.Resources()[id].Properties["Target"].(map[string]any)
		roles[id] = evalString(t, s, target["RoleArn"])
	}
	if got, w := slices.Sorted(maps.Keys(roles)), slices.Sorted(maps.Keys(want)); !slices.Equal(got, w) {
		t.Fatalf("functions and schedules %v, this test knows the roles of %v", got, w)
	}
	for id, arn := range roles {
		roleID, attr := symbol(arn)
		if attr != "Arn" {
			t.Errorf("%s runs as %q, not a role of the stack", id, arn)
			continue
		}
		stmts, managed, trust := role(t, s, roleID)
		var got []string
		for _, st := range stmts {
			got = append(got, st.String())
		}
		sort.Strings(got)
		w := want[id]
		wantStmts := slices.Sorted(slices.Values(w.stmts))
		if !slices.Equal(got, wantStmts) {
			t.Errorf("%s (%s) may:\n  %s\nwant:\n  %s", id, roleID, strings.Join(got, "\n  "), strings.Join(wantStmts, "\n  "))
		}
		if !slices.Equal(managed, w.managed) {
			t.Errorf("%s: AWS managed policies %v, want %v", id, managed, w.managed)
		}
		if !slices.Equal(trust, w.trust) {
			t.Errorf("%s: role trusts %v, want %v", id, trust, w.trust)
		}
	}
}

// checkItemAccess evaluates each function's role as IAM would, with the partition keys of
// the items a call names (dynamodb:LeadingKeys): what the code does is allowed, and the
// attacks of issue 19, item 10 are not: the intake forging a session or a sign-in link or
// deleting a request, the sweep touching anything but requests, the workspace deleting a
// request item, any function sending raw mail.
func checkItemAccess(t *testing.T, s *templatecheck.Stack) {
	table := "{RequestsTable.Arn}"
	roles := map[string][]statement{}
	for _, fn := range []string{"IntakeFunction", "AdminFunction", "SweepFunction", "PortalFunction", "InboundFunction"} {
		roleID, _ := symbol(evalString(t, s, s.Resources()[fn].Properties["Role"]))
		roles[fn], _, _ = role(t, s, roleID)
	}
	may := func(fn, action, resource string, keys ...string) bool {
		return slices.ContainsFunc(roles[fn], func(st statement) bool { return st.grants(action, resource, keys) })
	}
	for fn, access := range store.Access {
		for prefix, ops := range access {
			for _, op := range ops {
				if !may(fn, "dynamodb:"+op, table, prefix+"X") {
					t.Errorf("%s may not %s on %sX, which its code does", fn, op, prefix)
				}
			}
		}
	}
	for _, a := range []struct {
		fn, action, key string
	}{
		{"IntakeFunction", "dynamodb:PutItem", store.SessionPrefix + "forged"},
		{"IntakeFunction", "dynamodb:PutItem", store.LoginPrefix + "forged"},
		{"IntakeFunction", "dynamodb:UpdateItem", store.LoginPrefix + "forged"},
		{"IntakeFunction", "dynamodb:GetItem", store.SessionPrefix + "x"},
		{"IntakeFunction", "dynamodb:DeleteItem", store.RequestPrefix + "ABCD-EFGH"},
		{"IntakeFunction", "dynamodb:UpdateItem", store.KeyPrefix + "deployment"},
		{"SweepFunction", "dynamodb:GetItem", store.SessionPrefix + "x"},
		{"SweepFunction", "dynamodb:UpdateItem", store.SessionPrefix + "x"},
		{"SweepFunction", "dynamodb:PutItem", store.KeyPrefix + "deployment"},
		{"SweepFunction", "dynamodb:DeleteItem", store.RatePrefix + "x"},
		{"SweepFunction", "dynamodb:DeleteItem", store.RequestPrefix + "ABCD-EFGH"},
		{"SweepFunction", "dynamodb:PutItem", store.RequestPrefix + "ABCD-EFGH"},
		{"AdminFunction", "dynamodb:DeleteItem", store.RequestPrefix + "ABCD-EFGH"},
		{"AdminFunction", "dynamodb:PutItem", store.RequestPrefix + "ABCD-EFGH"},
		{"AdminFunction", "dynamodb:DeleteItem", store.RatePrefix + "x"},
		{"AdminFunction", "dynamodb:DeleteItem", store.KeyPrefix + "deployment"},
		// The requester's side writes no request whole, deletes nothing, and reaches no session.
		{"PortalFunction", "dynamodb:PutItem", store.RequestPrefix + "ABCD-EFGH"},
		{"PortalFunction", "dynamodb:DeleteItem", store.RequestPrefix + "ABCD-EFGH"},
		{"PortalFunction", "dynamodb:PutItem", store.SessionPrefix + "forged"},
		{"PortalFunction", "dynamodb:GetItem", store.SessionPrefix + "x"},
		{"PortalFunction", "dynamodb:PutItem", store.LoginPrefix + "forged"},
		{"PortalFunction", "dynamodb:UpdateItem", store.KeyPrefix + "deployment"},
		// Mail from outside reaches requests and nothing else.
		{"InboundFunction", "dynamodb:PutItem", store.SessionPrefix + "forged"},
		{"InboundFunction", "dynamodb:PutItem", store.LoginPrefix + "forged"},
		{"InboundFunction", "dynamodb:UpdateItem", store.RatePrefix + "x"},
		{"InboundFunction", "dynamodb:GetItem", store.KeyPrefix + "deployment"},
		{"InboundFunction", "dynamodb:DeleteItem", store.RequestPrefix + "ABCD-EFGH"},
		// A batch is allowed only if every item in it is.
		{"SweepFunction", "dynamodb:BatchWriteItem", store.SessionPrefix + "x"},
		{"AdminFunction", "dynamodb:BatchGetItem", store.SessionPrefix + "x"},
	} {
		if may(a.fn, a.action, table, a.key) {
			t.Errorf("%s may %s on %s", a.fn, a.action, a.key)
		}
	}
	if may("SweepFunction", "dynamodb:BatchWriteItem", table, store.RequestPrefix+"A", store.SessionPrefix+"x") {
		t.Error("the sweep may write a session in a batch beside a request")
	}
	for fn := range roles {
		if slices.ContainsFunc(roles[fn], func(st statement) bool { return slices.Contains(st.actions, "ses:SendRawEmail") }) {
			t.Errorf("%s may send raw mail", fn)
		}
	}
}

// Whatever a function or schedule hands its failures to, its role may send there: Lambda
// and EventBridge Scheduler deliver with the role of the function or schedule, and refuse
// the deploy (or drop the failure) without the permission.
func checkDestinations(t *testing.T, s *templatecheck.Stack) {
	sendAction := map[string]string{
		"AWS::SQS::Queue": "sqs:SendMessage", "AWS::SNS::Topic": "sns:Publish",
		"AWS::Lambda::Function": "lambda:InvokeFunction", "AWS::Events::EventBus": "events:PutEvents",
	}
	may := func(roleArn, action, resource string) bool {
		roleID, _ := symbol(roleArn)
		stmts, _, _ := role(t, s, roleID)
		return slices.ContainsFunc(stmts, func(st statement) bool { return st.allows(action, resource) })
	}
	target := func(who, arn string) string {
		id, attr := symbol(arn)
		r := s.Resources()[id]
		if attr != "Arn" || sendAction[r.Type] == "" {
			t.Errorf("%s delivers to %q, not a queue, topic, function or bus of the stack", who, arn)
		}
		return sendAction[r.Type]
	}
	configs := s.CreatedOfType("AWS::Lambda::EventInvokeConfig")
	if len(configs) == 0 {
		t.Error("no function has an on-failure destination: a failed sweep would go unnoticed")
	}
	for _, id := range configs {
		p := eval(t, s, s.Resources()[id].Properties).(map[string]any)
		fn, _ := symbol(p["FunctionName"].(string))
		roleArn := evalString(t, s, s.Resources()[fn].Properties["Role"])
		dc, _ := p["DestinationConfig"].(map[string]any)
		if _, ok := dc["OnFailure"]; !ok {
			t.Errorf("%s has no OnFailure destination", id)
		}
		for _, on := range []string{"OnFailure", "OnSuccess"} {
			dest, ok := dc[on].(map[string]any)
			if !ok {
				continue
			}
			arn := dest["Destination"].(string)
			if action := target(id, arn); action != "" && !may(roleArn, action, arn) {
				t.Errorf("%s: %s's role %s may not %s on %s", id, fn, roleArn, action, arn)
			}
		}
	}
	for _, id := range s.CreatedOfType("AWS::Scheduler::Schedule") {
		tg := eval(t, s, s.Resources()[id].Properties["Target"]).(map[string]any)
		roleArn, arn := tg["RoleArn"].(string), tg["Arn"].(string)
		if action := target(id, arn); action != "" && !may(roleArn, action, arn) {
			t.Errorf("%s's role may not %s on its target %s", id, action, arn)
		}
		dlq, _ := tg["DeadLetterConfig"].(map[string]any)
		arn, _ = dlq["Arn"].(string)
		if arn == "" {
			t.Errorf("%s has no dead-letter queue", id)
		} else if action := target(id, arn); action != "" && !may(roleArn, action, arn) {
			t.Errorf("%s's role may not %s on its dead-letter queue %s", id, action, arn)
		}
	}
}

// Every alarm goes to a topic CloudWatch can publish to, someone is subscribed to it, and
// every failure path (each queue, each function's errors) has an alarm.
func checkAlarms(t *testing.T, s *templatecheck.Stack, d deploy) {
	res := s.Resources()
	topics := map[string]bool{}
	watched := map[string]bool{}
	for _, id := range s.CreatedOfType("AWS::CloudWatch::Alarm") {
		p := eval(t, s, res[id].Properties).(map[string]any)
		actions := strs(t, p["AlarmActions"])
		if len(actions) == 0 {
			t.Errorf("%s has no AlarmActions: nobody is told", id)
		}
		for _, a := range actions {
			topic, attr := symbol(a)
			if attr != "" || res[topic].Type != "AWS::SNS::Topic" {
				t.Errorf("%s alarms %q, not a topic of the stack", id, a)
				continue
			}
			topics[topic] = true
		}
		if p["ComparisonOperator"] != "GreaterThanThreshold" || fmt.Sprint(p["Threshold"]) != "0" || p["TreatMissingData"] != "notBreaching" {
			t.Errorf("%s does not fire on the first failure: %v %v, missing data %v", id, p["ComparisonOperator"], p["Threshold"], p["TreatMissingData"])
		}
		for _, dim := range asList(p["Dimensions"]) {
			dm := dim.(map[string]any)
			watched[fmt.Sprintf("%s %s %s=%s", p["Namespace"], p["MetricName"], dm["Name"], dm["Value"])] = true
		}
	}
	for _, q := range s.CreatedOfType("AWS::SQS::Queue") {
		if !watched[fmt.Sprintf("AWS/SQS ApproximateNumberOfMessagesVisible QueueName={%s.QueueName}", q)] {
			t.Errorf("no alarm on queue %s: what lands there goes unnoticed", q)
		}
	}
	for _, fn := range s.CreatedOfType("AWS::Lambda::Function") {
		if !watched[fmt.Sprintf("AWS/Lambda Errors FunctionName={%s}", fn)] {
			t.Errorf("no alarm on %s's errors", fn)
		}
	}
	if len(topics) == 0 {
		t.Fatal("no alarm topic")
	}
	for topic := range topics {
		p := eval(t, s, res[topic].Properties).(map[string]any)
		if key, ok := p["KmsMasterKeyId"]; ok {
			checkAlarmKey(t, s, topic, fmt.Sprint(key))
		}
		var to []string
		for _, id := range s.CreatedOfType("AWS::SNS::Subscription") {
			sp := eval(t, s, res[id].Properties).(map[string]any)
			if sp["TopicArn"] == "{"+topic+"}" && sp["Protocol"] == "email" {
				to = append(to, fmt.Sprint(sp["Endpoint"]))
			}
		}
		if !slices.Equal(to, []string{d.alarmTo}) {
			t.Errorf("%s mails %v, want %s", topic, to, d.alarmTo)
		}
	}
}

// checkAlarmKey fails unless key is a customer-managed key of the stack whose policy lets
// CloudWatch encrypt for the topic: the AWS-managed alias/aws/sns cannot grant that, and
// an alarm that cannot publish tells nobody.
func checkAlarmKey(t *testing.T, s *templatecheck.Stack, topic, key string) {
	id, _ := symbol(key)
	r, ok := s.Resources()[id]
	if !ok || r.Type != "AWS::KMS::Key" {
		t.Errorf("%s is encrypted with %q, which CloudWatch cannot use: use a key of the stack whose policy allows cloudwatch.amazonaws.com, or none", topic, key)
		return
	}
	policy := eval(t, s, r.Properties["KeyPolicy"]).(map[string]any)
	granted := map[string]bool{}
	for _, x := range asList(policy["Statement"]) {
		m := x.(map[string]any)
		p, _ := m["Principal"].(map[string]any)
		if m["Effect"] == "Allow" && slices.Contains(strs(t, p["Service"]), "cloudwatch.amazonaws.com") {
			for _, a := range strs(t, m["Action"]) {
				granted[a] = true
			}
		}
	}
	if !granted["kms:Decrypt"] || !granted["kms:GenerateDataKey*"] {
		t.Errorf("%s's key %s does not let cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*: %v", topic, id, granted)
	}
}

// One schedule runs the sweep, at the configured time in the controller's zone, exactly
// then, with retries and a dead-letter queue, under a name no other stack in the account has.
func checkSchedule(t *testing.T, s *templatecheck.Stack, d deploy) {
	ids := s.CreatedOfType("AWS::Scheduler::Schedule")
	if len(ids) != 1 {
		t.Fatalf("schedules %v, want one", ids)
	}
	p := eval(t, s, s.Resources()[ids[0]].Properties).(map[string]any)
	tg := p["Target"].(map[string]any)
	expr := d.params["EscalationSchedule"]
	if expr == "" {
		expr = "cron(0 7 * * ? *)"
	}
	mode, _ := p["FlexibleTimeWindow"].(map[string]any)
	retry, _ := tg["RetryPolicy"].(map[string]any)
	for _, c := range []struct{ what, got, want string }{
		{"target", fmt.Sprint(tg["Arn"]), "{SweepFunction.Arn}"},
		{"expression", fmt.Sprint(p["ScheduleExpression"]), expr},
		{"time zone", fmt.Sprint(p["ScheduleExpressionTimezone"]), d.timezone},
		{"flexible window", fmt.Sprint(mode["Mode"]), "OFF"},
		{"name", fmt.Sprint(p["Name"]), s.Name + "-sweep"},
		{"retries", fmt.Sprint(retry["MaximumRetryAttempts"]), "3"},
	} {
		if c.got != c.want {
			t.Errorf("schedule %s: %s, want %s", c.what, c.got, c.want)
		}
	}
	if state, ok := p["State"]; ok && state != "ENABLED" {
		t.Errorf("schedule state %v", state)
	}
}

// The API is served on BaseUrl's host exactly when a certificate is given, and the alias
// record exists exactly when a hosted zone is given too. The resources are in the
// translation either way: what decides is their condition, evaluated for these values.
func checkDomain(t *testing.T, s *templatecheck.Stack, d deploy) {
	res := s.Resources()
	types := []string{"AWS::ApiGatewayV2::DomainName", "AWS::ApiGatewayV2::ApiMapping", "AWS::Route53::RecordSet"}
	for id, r := range res {
		if slices.Contains(types, r.Type) && r.Condition == "" {
			t.Errorf("%s (%s) has no Condition: every deploy would create it", id, r.Type)
		}
	}
	domains := s.CreatedOfType(types[0])
	mappings := s.CreatedOfType(types[1])
	records := s.CreatedOfType(types[2])
	if d.domain == "" {
		if len(domains)+len(mappings)+len(records) > 0 {
			t.Errorf("without a certificate the deploy creates %v %v %v", domains, mappings, records)
		}
		return
	}
	if len(domains) != 1 || len(mappings) != 1 {
		t.Fatalf("domains %v, mappings %v; want one of each", domains, mappings)
	}
	dn := eval(t, s, res[domains[0]].Properties).(map[string]any)
	cfg, _ := asList(dn["DomainNameConfigurations"])[0].(map[string]any)
	if dn["DomainName"] != d.domain || cfg["CertificateArn"] != d.params["CertificateArn"] || cfg["EndpointType"] != "REGIONAL" {
		t.Errorf("domain %v with %v, want %s with %s, REGIONAL", dn["DomainName"], cfg, d.domain, d.params["CertificateArn"])
	}
	m := eval(t, s, res[mappings[0]].Properties).(map[string]any)
	api, _ := symbol(fmt.Sprint(m["ApiId"]))
	stage, _ := symbol(fmt.Sprint(m["Stage"]))
	if m["DomainName"] != "{"+domains[0]+"}" || res[api].Type != "AWS::ApiGatewayV2::Api" || m["ApiMappingKey"] != nil {
		t.Errorf("mapping %v: want the domain's root on the HTTP API", m)
	}
	st := eval(t, s, res[stage].Properties).(map[string]any)
	if res[stage].Type != "AWS::ApiGatewayV2::Stage" || st["StageName"] != "$default" || st["ApiId"] != "{"+api+"}" {
		t.Errorf("mapping's stage %s is not the API's $default stage: %v", stage, st)
	}
	if !d.record {
		if len(records) > 0 {
			t.Errorf("without a hosted zone the deploy creates %v", records)
		}
		return
	}
	if len(records) != 1 {
		t.Fatalf("records %v, want one", records)
	}
	r := eval(t, s, res[records[0]].Properties).(map[string]any)
	alias, _ := r["AliasTarget"].(map[string]any)
	want := map[string]any{"HostedZoneId": d.params["HostedZoneId"], "Name": "{" + domains[0] + "}", "Type": "A",
		"AliasTarget": map[string]any{"DNSName": "{" + domains[0] + ".RegionalDomainName}", "HostedZoneId": "{" + domains[0] + ".RegionalHostedZoneId}"}}
	if fmt.Sprint(r) != fmt.Sprint(want) {
		t.Errorf("record %v\nwant   %v (alias %v)", r, want, alias)
	}
}

// cfn-lint, the linter CloudFormation's team maintains, finds nothing: not in the template
// as written, nor with each deploy's values.
// With EdgeWebAclArn the desk is served through a CloudFront distribution carrying that web ACL,
// from the HTTP API, caching nothing, passing on the viewer's address, and adding the edge
// secret that the two HTTP functions require (and, without it, they require none).
func checkEdge(t *testing.T, s *templatecheck.Stack, d deploy) {
	secret := func(fn string) string {
		env := eval(t, s, s.Resources()[fn].Properties["Environment"]).(map[string]any)["Variables"].(map[string]any)
		v, _ := env["EDGE_SECRET"].(string)
		return v
	}
	for _, fn := range []string{"IntakeFunction", "AdminFunction", "PortalFunction"} {
		if got := secret(fn); (got != "") != d.edge {
			t.Errorf("%s: EDGE_SECRET %q with the edge %v", fn, got, d.edge)
		}
	}
	if s.Created("EdgeDistribution") != d.edge || s.Created("EdgeOriginPolicy") != d.edge {
		t.Fatalf("distribution created %v, origin policy %v, want %v", s.Created("EdgeDistribution"), s.Created("EdgeOriginPolicy"), d.edge)
	}
	if !d.edge {
		return
	}
	cfg := eval(t, s, s.Resources()["EdgeDistribution"].Properties["DistributionConfig"]).(map[string]any)
	if cfg["WebACLId"] != d.params["EdgeWebAclArn"] {
		t.Errorf("web ACL %v", cfg["WebACLId"])
	}
	origin := asList(cfg["Origins"])[0].(map[string]any)
	if origin["DomainName"] != "{HttpApi}.execute-api.eu-north-1.amazonaws.com" {
		t.Errorf("origin %v, want the HTTP API", origin["DomainName"])
	}
	header := asList(origin["OriginCustomHeaders"])[0].(map[string]any)
	if !strings.EqualFold(header["HeaderName"].(string), web.EdgeHeader) || header["HeaderValue"] != secret("IntakeFunction") ||
		secret("IntakeFunction") != secret("AdminFunction") || secret("IntakeFunction") != secret("PortalFunction") {
		t.Errorf("the edge adds %v, the functions expect %q and %q", header, secret("IntakeFunction"), secret("AdminFunction"))
	}
	behavior := cfg["DefaultCacheBehavior"].(map[string]any)
	if behavior["CachePolicyId"] != "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" || behavior["ViewerProtocolPolicy"] != "redirect-to-https" ||
		!slices.Contains(strs(t, behavior["AllowedMethods"]), "POST") {
		t.Errorf("cache behavior %v: want no caching, https, posts", behavior)
	}
	policy := eval(t, s, s.Resources()["EdgeOriginPolicy"].Properties["OriginRequestPolicyConfig"]).(map[string]any)
	headers := strs(t, policy["HeadersConfig"].(map[string]any)["Headers"])
	for _, h := range []string{"CloudFront-Viewer-Address", "accept", "accept-language", "content-type", "origin", "sec-fetch-site"} {
		if !slices.Contains(headers, h) {
			t.Errorf("the origin policy forwards %v, not %s", headers, h)
		}
	}
	if slices.ContainsFunc(headers, func(h string) bool { return strings.EqualFold(h, "host") }) {
		t.Error("the origin policy forwards Host, which API Gateway refuses")
	}
}

func TestCfnLint(t *testing.T) {
	requireTools(t, "cfn-lint", "--version")
	root := repoRoot(t)
	t.Run("the edge firewall", func(t *testing.T) {
		cmd := exec.Command("cfn-lint", "--format", "parseable", "--", "infra/edge-waf.yaml")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("cfn-lint: %v\n%s", err, out)
		}
	})
	runs := map[string][]string{"as written": nil}
	for _, d := range deploys {
		args := []string{"--parameters"}
		for _, k := range slices.Sorted(maps.Keys(d.params)) {
			args = append(args, k+"="+d.params[k])
		}
		runs[d.name] = args
	}
	for name, args := range runs {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command("cfn-lint", append(append([]string{"--format", "parseable"}, args...), "--", "template.yaml")...)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("cfn-lint: %v\n%s", err, out)
			}
		})
	}
}

// The bucket of the answers' files (issue 15): encrypted, never public, unversioned, emptied
// after DeliveryRetentionDays, CORS for the workspace's origin alone, reached over TLS only,
// written by the workspace's role alone and read by the status page's alone, whatever else
// the account grants; the two functions are told its name and no other function may touch it.
func checkDeliveries(t *testing.T, s *templatecheck.Stack, d deploy) {
	res := s.Resources()
	buckets := s.CreatedOfType("AWS::S3::Bucket")
	wantBuckets := []string{"DeliveriesBucket"}
	if d.inbound {
		// The raw mails' bucket (checkInbound).
		wantBuckets = append(wantBuckets, "InboundBucket")
	}
	if !slices.Equal(buckets, wantBuckets) {
		t.Fatalf("buckets %v, want %v", buckets, wantBuckets)
	}
	b := res["DeliveriesBucket"]
	if b.DeletionPolicy != "Retain" {
		t.Errorf("DeletionPolicy %q: a bucket with files cannot be deleted, and the lifecycle empties it", b.DeletionPolicy)
	}
	p := eval(t, s, b.Properties).(map[string]any)
	if _, ok := p["VersioningConfiguration"]; ok {
		t.Errorf("versioning is configured: an expired file would live on as an old version")
	}
	enc := fmt.Sprint(p["BucketEncryption"])
	if enc != "map[ServerSideEncryptionConfiguration:[map[ServerSideEncryptionByDefault:map[SSEAlgorithm:AES256]]]]" {
		t.Errorf("encryption %s, want SSE-S3 (AES256)", enc)
	}
	if fmt.Sprint(p["PublicAccessBlockConfiguration"]) != "map[BlockPublicAcls:true BlockPublicPolicy:true IgnorePublicAcls:true RestrictPublicBuckets:true]" {
		t.Errorf("public access %v, want all of it blocked", p["PublicAccessBlockConfiguration"])
	}
	if fmt.Sprint(p["OwnershipControls"]) != "map[Rules:[map[ObjectOwnership:BucketOwnerEnforced]]]" {
		t.Errorf("ownership %v, want ACLs off (BucketOwnerEnforced)", p["OwnershipControls"])
	}
	days := d.params["DeliveryRetentionDays"]
	if days == "" {
		days = "30"
	}
	rules := asList(p["LifecycleConfiguration"].(map[string]any)["Rules"])
	if len(rules) != 1 {
		t.Fatalf("lifecycle rules %v, want one", rules)
	}
	rule := rules[0].(map[string]any)
	if fmt.Sprint(rule["ExpirationInDays"]) != days || rule["Status"] != "Enabled" || rule["Prefix"] != nil || rule["Filter"] != nil {
		t.Errorf("lifecycle %v, want every object deleted after %s days", rule, days)
	}
	origin := strings.Join(strings.Split(d.params["BaseUrl"], "/")[:3], "/")
	cors := asList(p["CorsConfiguration"].(map[string]any)["CorsRules"])
	for _, r := range cors {
		r := r.(map[string]any)
		if !slices.Equal(strs(t, r["AllowedOrigins"]), []string{origin}) || !slices.Equal(strs(t, r["AllowedMethods"]), []string{"POST"}) || r["AllowedHeaders"] != nil {
			t.Errorf("CORS rule %v, want POST from %s alone", r, origin)
		}
	}

	var policy map[string]any
	for _, id := range s.CreatedOfType("AWS::S3::BucketPolicy") {
		bp := eval(t, s, res[id].Properties).(map[string]any)
		if bp["Bucket"] == "{DeliveriesBucket}" {
			policy = bp["PolicyDocument"].(map[string]any)
		}
	}
	if policy == nil {
		t.Fatal("DeliveriesBucket has no bucket policy")
	}
	var denies []string
	for _, x := range asList(policy["Statement"]) {
		m := x.(map[string]any)
		if m["Effect"] != "Deny" || m["Principal"] != "*" {
			t.Errorf("bucket policy statement %v: want denies for everyone but whom they name", m)
			continue
		}
		denies = append(denies, fmt.Sprintf("%s on %s if %v", strings.Join(strs(t, m["Action"]), ","), strings.Join(strs(t, m["Resource"]), ","), m["Condition"]))
	}
	slices.Sort(denies)
	want := []string{
		"s3:* on {DeliveriesBucket.Arn},{DeliveriesBucket.Arn}/* if map[Bool:map[aws:SecureTransport:false]]",
		"s3:DeleteObject,s3:PutObject on {DeliveriesBucket.Arn}/* if map[ArnNotEquals:map[aws:PrincipalArn:{AdminFunctionRole.Arn}]]",
		"s3:GetObject on {DeliveriesBucket.Arn}/* if map[ArnNotEquals:map[aws:PrincipalArn:{PortalFunctionRole.Arn}]]",
	}
	if !slices.Equal(denies, want) {
		t.Errorf("bucket policy denies\n  %s\nwant\n  %s", strings.Join(denies, "\n  "), strings.Join(want, "\n  "))
	}
	if evalString(t, s, res["AdminFunction"].Properties["Role"]) != "{AdminFunctionRole.Arn}" ||
		evalString(t, s, res["PortalFunction"].Properties["Role"]) != "{PortalFunctionRole.Arn}" {
		t.Error("the policy names roles the functions do not run as")
	}

	for _, fn := range s.CreatedOfType("AWS::Lambda::Function") {
		env, _ := eval(t, s, res[fn].Properties["Environment"]).(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		uses := fn == "AdminFunction" || fn == "PortalFunction"
		if got := vars["DELIVERY_BUCKET"]; (got == "{DeliveriesBucket}") != uses || (!uses && got != nil) {
			t.Errorf("%s: DELIVERY_BUCKET is %v", fn, got)
		}
		if vars["DELIVERY_RETENTION_DAYS"] != days {
			t.Errorf("%s: DELIVERY_RETENTION_DAYS is %v, want %s", fn, vars["DELIVERY_RETENTION_DAYS"], days)
		}
		roleID, _ := symbol(evalString(t, s, res[fn].Properties["Role"]))
		stmts, _, _ := role(t, s, roleID)
		for _, st := range stmts {
			// The raw mails' bucket is another's (checkInbound): only this bucket counts here.
			onDeliveries := slices.ContainsFunc(st.resources, func(r string) bool { return strings.Contains(r, "{DeliveriesBucket") })
			for _, a := range st.actions {
				if strings.HasPrefix(a, "s3:") && !uses && onDeliveries {
					t.Errorf("%s may %s on the deliveries bucket", fn, a)
				}
			}
		}
	}
}
