package templatecheck_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/infra/templatecheck"
	"github.com/dsrdesk/dsrdesk/shared/config"
)

// variables are a function's environment variables in the deploy.
func variables(t *testing.T, s *templatecheck.Stack, fn string) map[string]any {
	t.Helper()
	env, _ := eval(t, s, s.Resources()[fn].Properties["Environment"]).(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	return vars
}

// With InboundAddress, SES receives mail for it (and its +tag forms) into a private bucket
// (encrypted, public access blocked, TLS only, each mail gone InboundMailDays after, written by
// SES for this account's rule only) and hands each to the inbound function; without it,
// nothing of this is created. What the function reads is what the rule writes.
func checkInbound(t *testing.T, s *templatecheck.Stack, d deploy) {
	res := s.Resources()
	ids := []string{"InboundBucket", "InboundBucketPolicy", "InboundRuleSet", "InboundRule", "InboundInvokePermission"}
	for _, id := range ids {
		if res[id].Condition == "" {
			t.Errorf("%s has no Condition: every deploy would create it", id)
		}
		if s.Created(id) != d.inbound {
			t.Errorf("%s created %v, want %v", id, s.Created(id), d.inbound)
		}
	}
	for _, fn := range []string{"InboundFunction", "AdminFunction"} {
		want := ""
		if d.inbound {
			want = "{InboundBucket}"
		}
		if got := variables(t, s, fn)["INBOUND_BUCKET"]; got != want {
			t.Errorf("%s: INBOUND_BUCKET %v, want %q", fn, got, want)
		}
	}
	for _, fn := range s.CreatedOfType("AWS::Lambda::Function") {
		if got := variables(t, s, fn)["INBOUND_ADDRESS"]; got != d.params["InboundAddress"] {
			t.Errorf("%s: INBOUND_ADDRESS %v, want %q", fn, got, d.params["InboundAddress"])
		}
	}
	if !d.inbound {
		return
	}
	vars := variables(t, s, "InboundFunction")
	if _, err := config.LoadInbound(func(k string) string { v, _ := vars[k].(string); return v }); err != nil {
		t.Errorf("the inbound function's configuration does not load: %v", err)
	}

	b := eval(t, s, res["InboundBucket"].Properties).(map[string]any)
	enc := asList(b["BucketEncryption"].(map[string]any)["ServerSideEncryptionConfiguration"])[0].(map[string]any)
	if alg := enc["ServerSideEncryptionByDefault"].(map[string]any)["SSEAlgorithm"]; alg != "AES256" && alg != "aws:kms" {
		t.Errorf("bucket encryption %v", alg)
	}
	pab := b["PublicAccessBlockConfiguration"].(map[string]any)
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if fmt.Sprint(pab[k]) != "true" {
			t.Errorf("public access block %s is %v", k, pab[k])
		}
	}
	rule := asList(b["LifecycleConfiguration"].(map[string]any)["Rules"])[0].(map[string]any)
	if rule["Status"] != "Enabled" || fmt.Sprint(rule["ExpirationInDays"]) != d.params["InboundMailDays"] {
		t.Errorf("lifecycle %v, want the mails gone after %s days", rule, d.params["InboundMailDays"])
	}

	var tlsOnly, sesWrites bool
	for _, x := range asList(eval(t, s, res["InboundBucketPolicy"].Properties["PolicyDocument"]).(map[string]any)["Statement"]) {
		st := x.(map[string]any)
		cond, _ := st["Condition"].(map[string]any)
		switch st["Effect"] {
		case "Deny":
			secure, _ := cond["Bool"].(map[string]any)
			tlsOnly = fmt.Sprint(secure["aws:SecureTransport"]) == "false" && slices.Equal(strs(t, st["Resource"]),
				[]string{"{InboundBucket.Arn}", "{InboundBucket.Arn}/*"}) && slices.Contains(strs(t, st["Action"]), "s3:*")
		case "Allow":
			p, _ := st["Principal"].(map[string]any)
			eq, _ := cond["StringEquals"].(map[string]any)
			sesWrites = slices.Equal(strs(t, p["Service"]), []string{"ses.amazonaws.com"}) &&
				slices.Equal(strs(t, st["Action"]), []string{"s3:PutObject"}) &&
				slices.Equal(strs(t, st["Resource"]), []string{"{InboundBucket.Arn}/" + config.InboundPrefix + "*"}) &&
				eq["aws:SourceAccount"] == "123456789012"
			if !sesWrites {
				t.Errorf("bucket policy lets %v %v on %v if %v", p, st["Action"], st["Resource"], cond)
			}
		}
	}
	if !tlsOnly || !sesWrites {
		t.Errorf("bucket policy: TLS only %v, SES writes for this account only %v", tlsOnly, sesWrites)
	}

	r := eval(t, s, res["InboundRule"].Properties).(map[string]any)
	rr := r["Rule"].(map[string]any)
	name := fmt.Sprint(rr["Name"])
	if r["RuleSetName"] != "{InboundRuleSet}" || fmt.Sprint(rr["Enabled"]) != "true" || fmt.Sprint(rr["ScanEnabled"]) != "true" ||
		!slices.Equal(strs(t, rr["Recipients"]), []string{d.params["InboundAddress"]}) {
		t.Errorf("rule %v: want it on, scanning, for %s", rr, d.params["InboundAddress"])
	}
	actions := asList(rr["Actions"])
	if len(actions) != 2 {
		t.Fatalf("rule actions %v, want S3 then Lambda", actions)
	}
	s3a, _ := actions[0].(map[string]any)["S3Action"].(map[string]any)
	la, _ := actions[1].(map[string]any)["LambdaAction"].(map[string]any)
	if s3a["BucketName"] != "{InboundBucket}" || s3a["ObjectKeyPrefix"] != config.InboundPrefix {
		t.Errorf("S3 action %v: the function reads %s<message id>", s3a, config.InboundPrefix)
	}
	if la["FunctionArn"] != "{InboundFunction.Arn}" || la["InvocationType"] != "Event" {
		t.Errorf("Lambda action %v", la)
	}
	if !slices.Contains(res["InboundRule"].DependsOn, "InboundBucketPolicy") || !slices.Contains(res["InboundRule"].DependsOn, "InboundInvokePermission") {
		t.Errorf("the rule does not wait for the bucket policy and the permission: %v", res["InboundRule"].DependsOn)
	}
	perm := eval(t, s, res["InboundInvokePermission"].Properties).(map[string]any)
	if perm["Principal"] != "ses.amazonaws.com" || perm["FunctionName"] != "{InboundFunction.Arn}" || perm["SourceAccount"] != "123456789012" ||
		!strings.HasSuffix(fmt.Sprint(perm["SourceArn"]), ":receipt-rule-set/{InboundRuleSet}:receipt-rule/"+name) {
		t.Errorf("permission %v for rule %s", perm, name)
	}
}

// Every function sends with the configuration set, whose destination publishes bounces and
// complaints to a topic only SES may publish to, for this account, to which the inbound
// function is subscribed.
func checkFeedback(t *testing.T, s *templatecheck.Stack) {
	res := s.Resources()
	for _, fn := range s.CreatedOfType("AWS::Lambda::Function") {
		if got := variables(t, s, fn)["MAIL_CONFIGURATION_SET"]; got != "{MailConfigurationSet}" {
			t.Errorf("%s: MAIL_CONFIGURATION_SET %v", fn, got)
		}
	}
	dests := s.CreatedOfType("AWS::SES::ConfigurationSetEventDestination")
	if len(dests) != 1 {
		t.Fatalf("event destinations %v", dests)
	}
	d := eval(t, s, res[dests[0]].Properties).(map[string]any)
	ed := d["EventDestination"].(map[string]any)
	sns, _ := ed["SnsDestination"].(map[string]any)
	if d["ConfigurationSetName"] != "{MailConfigurationSet}" || fmt.Sprint(ed["Enabled"]) != "true" ||
		!slices.Equal(strs(t, ed["MatchingEventTypes"]), []string{"bounce", "complaint"}) || sns["TopicARN"] != "{MailFeedbackTopic}" {
		t.Errorf("event destination %v", d)
	}
	// No key of its own (an idle month's budget): see template.yaml.
	if ids := s.CreatedOfType("AWS::KMS::Key"); len(ids) != 0 {
		t.Errorf("KMS keys %v cost 1 USD a month each", ids)
	}
	publishes := false
	for _, id := range s.CreatedOfType("AWS::SNS::TopicPolicy") {
		p := eval(t, s, res[id].Properties).(map[string]any)
		if !slices.Contains(strs(t, p["Topics"]), "{MailFeedbackTopic}") {
			continue
		}
		for _, x := range asList(p["PolicyDocument"].(map[string]any)["Statement"]) {
			st := x.(map[string]any)
			pr, _ := st["Principal"].(map[string]any)
			cond, _ := st["Condition"].(map[string]any)
			eq, _ := cond["StringEquals"].(map[string]any)
			publishes = publishes || (slices.Contains(strs(t, pr["Service"]), "ses.amazonaws.com") &&
				slices.Contains(strs(t, st["Action"]), "sns:Publish") && eq["aws:SourceAccount"] == "123456789012")
		}
	}
	if !publishes {
		t.Error("SES may not publish to the feedback topic")
	}
	subscribed := false
	for _, id := range s.CreatedOfType("AWS::SNS::Subscription") {
		p := eval(t, s, res[id].Properties).(map[string]any)
		subscribed = subscribed || (p["TopicArn"] == "{MailFeedbackTopic}" && p["Protocol"] == "lambda" && p["Endpoint"] == "{InboundFunction.Arn}")
	}
	invokable := false
	for _, id := range s.CreatedOfType("AWS::Lambda::Permission") {
		p := eval(t, s, res[id].Properties).(map[string]any)
		invokable = invokable || (p["Principal"] == "sns.amazonaws.com" && p["SourceArn"] == "{MailFeedbackTopic}")
	}
	if !subscribed || !invokable {
		t.Errorf("the inbound function is subscribed to the feedback topic %v, may be invoked by it %v", subscribed, invokable)
	}
}

// The README names the regions where SES receives mail: those where CloudFormation offers
// AWS::SES::ReceiptRule in cfn-lint's region data (commercial regions only), which follows
// SES's list of email receiving endpoints. A cfn-lint that knows a region more or less makes
// the README say so.
func TestReadmeNamesTheReceivingRegions(t *testing.T) {
	requireTools(t, "python3", "-c", "import cfnlint")
	out, err := exec.Command("python3", "-c", "import cfnlint, os; print(os.path.dirname(cfnlint.__file__))").Output()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "data", "schemas", "providers", "*.py"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cfn-lint region data: %v", err)
	}
	var receiving []string
	for _, f := range files {
		region := strings.ReplaceAll(strings.TrimSuffix(filepath.Base(f), ".py"), "_", "-")
		if region == "--init--" || strings.Contains(region, "iso") || strings.Contains(region, "gov") ||
			strings.HasPrefix(region, "cn-") || strings.HasPrefix(region, "eusc-") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), `"AWS::SES::ReceiptRule":`) {
			receiving = append(receiving, region)
		}
	}
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, para, ok := strings.Cut(string(readme), "**Deploy in a region where SES receives mail.**")
	if !ok {
		t.Fatal("the README does not say where SES receives mail")
	}
	listed, _, _ := strings.Cut(para, "; not,")
	var named []string
	for _, m := range backticked.FindAllStringSubmatch(listed, -1) {
		if regionName.MatchString(m[1]) {
			named = append(named, m[1])
		}
	}
	slices.Sort(named)
	slices.Sort(receiving)
	if !slices.Equal(named, receiving) {
		t.Errorf("the README names %v, cfn-lint's data %v", named, receiving)
	}
}

var regionName = regexp.MustCompile(`^[a-z]{2}-[a-z]+-\d$`)
