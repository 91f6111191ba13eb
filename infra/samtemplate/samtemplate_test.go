package samtemplate_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"

	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
)

func parse(t *testing.T) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.ParseFile("testdata/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func stack(t *testing.T, params map[string]string) *samtemplate.Stack {
	t.Helper()
	st, err := parse(t).Stack(samtemplate.StackOptions{Parameters: params})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestParseKeepsTheModel(t *testing.T) {
	tpl := parse(t)
	if got := tpl.Transform; !reflect.DeepEqual(got, []string{"AWS::Serverless-2016-10-31"}) {
		t.Errorf("Transform = %v", got)
	}
	country := tpl.Parameters["Country"]
	if country.Type != "String" || *country.Default != "DK" || !reflect.DeepEqual(country.AllowedValues, []string{"DK", "NO"}) ||
		country.Description == "" {
		t.Errorf("Country = %+v", country)
	}
	if tpl.Parameters["BaseUrl"].AllowedPattern == "" || !tpl.Parameters["DpoAddresses"].IsList() {
		t.Error("BaseUrl pattern or DpoAddresses list type lost")
	}
	if got := tpl.Globals.Function["Timeout"].Value; got != "10" {
		t.Errorf("Globals.Function.Timeout = %q", got)
	}
	if n := tpl.Globals.Function.Lookup("Environment", "Variables"); n == nil || n.Kind != yaml.MappingNode {
		t.Error("Globals.Function.Environment.Variables missing")
	}
	// The raw model keeps the author's intrinsics: a check can see TABLE_NAME is a !Ref.
	if n := tpl.Globals.Function.Lookup("Environment", "Variables", "TABLE_NAME"); n.Tag != "!Ref" || n.Value != "Table" {
		t.Errorf("TABLE_NAME node = %s %q", n.Tag, n.Value)
	}
	intake := tpl.Resources["IntakeFunction"]
	if intake.Type != samtemplate.TypeFunction || intake.Metadata["BuildMethod"].Value != "go1.x" {
		t.Errorf("IntakeFunction = %+v", intake)
	}
	if got := tpl.IDs(samtemplate.TypeFunction); !reflect.DeepEqual(got, []string{"AdminFunction", "IntakeFunction", "ProdOnlyFunction", "SweepFunction"}) {
		t.Errorf("function ids = %v", got)
	}
	if tpl.Resources["ProdOnlyFunction"].Condition != "IsProd" {
		t.Error("resource Condition lost")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"not yaml", "a: [", "parse template"},
		{"not a mapping", "- a", "not a mapping"},
		{"no resources", "Parameters: {}", "no Resources"},
		{"resource without type", "Resources:\n  X:\n    Properties: {}", "line 3: resource X has no Type"},
		{"parameter without type", "Parameters:\n  P: {Default: x}\nResources:\n  X: {Type: T}", "parameter P has no Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := samtemplate.Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestResolveEveryTag(t *testing.T) {
	st := stack(t, nil)
	fn, err := st.Function("IntakeFunction")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		// Globals, with the function's COUNTRY winning.
		"TABLE_NAME":                "local-requests",
		"COUNTRY":                   "NO",
		"CONTROLLER_NAME":           "Example ApS",
		"BASE_URL":                  "http://127.0.0.1:3000",
		"DPO_ADDRESSES":             "dpo@example.com,privacy@example.com",
		"DEFAULT_LANG":              "da", // the condition follows the Country parameter, not the variable.
		"AWS_ENDPOINT_URL_DYNAMODB": "",
		"AWS_ENDPOINT_URL_SES":      "",
		// The function's own.
		"ALLOWED_ORIGINS":  "http://127.0.0.1:3000,https://www.example.com",
		"MIN_FILL_SECONDS": "0",
		"LOG_LEVEL":        "debug",
		"FIRST_DPO":        "dpo@example.com",
		"SECOND_DPO":       "b@example.com",
		"TABLE_ARN":        "arn:aws:dynamodb:us-east-1:123456789012:table/local-requests",
		"API_URL":          "https://httpapi.execute-api.us-east-1.amazonaws.com",
		"REGION_TABLE":     "us-east-1/local-requests/${Literal}/arn:aws:dynamodb:us-east-1:123456789012:table/local-requests",
		"SUB_VARS":         "Hej, Example ApS",
		"RETENTION_DAYS":   "1095",
		"ACCOUNT":          "123456789012:aws",
		"STRICT":           "no",
		"NORWAY_PROD":      "no",
		"UPLOADS":          "local-uploads",
		"UPLOADS_ARN":      "arn:aws:s3:::local-uploads",
		"ARCHIVE":          "local-archive-123456789012", // not created (IsProd is false), but named
		"TOPIC":            "arn:aws:sns:us-east-1:123456789012:local-inbound",
	}
	if !reflect.DeepEqual(fn.Environment, want) {
		for k, v := range want {
			if fn.Environment[k] != v {
				t.Errorf("%s = %q, want %q", k, fn.Environment[k], v)
			}
		}
		for k, v := range fn.Environment {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected %s = %q", k, v)
			}
		}
	}
	if fn.CodeURI != "functions/intake/" || fn.Handler != "bootstrap" || fn.Runtime != "provided.al2023" ||
		fn.Timeout != 10*time.Second || fn.MemorySize != 512 || fn.BuildMethod != "go1.x" ||
		!reflect.DeepEqual(fn.Architectures, []string{"arm64"}) || fn.Name != "IntakeFunction" {
		t.Errorf("function = %+v", fn)
	}
	var events []string
	for _, e := range fn.Events {
		events = append(events, fmt.Sprint(e.Type, " ", e.Properties))
	}
	if want := []string{
		"HttpApi map[ApiId:HttpApi Method:get Path:/]",
		"SNS map[Topic:arn:aws:sns:us-east-1:123456789012:local-inbound]",
		"HttpApi map[ApiId:HttpApi Method:POST Path:/requests]",
		"S3 map[Bucket:local-uploads Events:s3:ObjectCreated:*]",
	}; !reflect.DeepEqual(events, want) {
		t.Errorf("events =\n%s\nwant\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}
}

func TestParametersAndConditions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		params  map[string]string
		wantErr string
		check   func(t *testing.T, st *samtemplate.Stack)
	}{
		{name: "defaults", check: func(t *testing.T, st *samtemplate.Stack) {
			fns, err := st.Functions()
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, f := range fns {
				ids = append(ids, f.LogicalID)
			}
			if !reflect.DeepEqual(ids, []string{"AdminFunction", "IntakeFunction", "SweepFunction"}) {
				t.Errorf("functions = %v (ProdOnlyFunction's condition is false)", ids)
			}
		}},
		{name: "prod", params: map[string]string{"Stage": "prod", "Country": "NO"}, check: func(t *testing.T, st *samtemplate.Stack) {
			fn, err := st.Function("IntakeFunction")
			if err != nil {
				t.Fatal(err)
			}
			if fn.Environment["MIN_FILL_SECONDS"] != "3" || fn.Environment["DEFAULT_LANG"] != "nb" ||
				fn.Environment["STRICT"] != "yes" || fn.Environment["NORWAY_PROD"] != "yes" ||
				fn.Environment["ARCHIVE"] != "local-archive-123456789012" {
				t.Errorf("env = %v", fn.Environment)
			}
			if _, ok := fn.Environment["LOG_LEVEL"]; ok {
				t.Error("LOG_LEVEL should be removed by AWS::NoValue")
			}
			fns, _ := st.Functions()
			if len(fns) != 4 {
				t.Errorf("%d functions, want 4 with ProdOnlyFunction", len(fns))
			}
			sweep, _ := st.Function("SweepFunction")
			if sweep.ScheduleEvents[0].Timezone != "Europe/Oslo" {
				t.Errorf("timezone = %q", sweep.ScheduleEvents[0].Timezone)
			}
			tbl, _ := st.Table("Table")
			if !tbl.PointInTimeRecovery {
				t.Error("PITR should follow IsProd")
			}
			if buckets, _ := st.Buckets(); len(buckets) != 2 || buckets[0].BucketName != "local-archive-123456789012" {
				t.Errorf("buckets = %v, want Archive too", buckets)
			}
		}},
		{name: "list parameter", params: map[string]string{"DpoAddresses": "a@x.dk, b@x.dk"}, check: func(t *testing.T, st *samtemplate.Stack) {
			fn, _ := st.Function("IntakeFunction")
			if fn.Environment["DPO_ADDRESSES"] != "a@x.dk,b@x.dk" || fn.Environment["FIRST_DPO"] != "a@x.dk" {
				t.Errorf("env = %v", fn.Environment)
			}
		}},
		{name: "not allowed", params: map[string]string{"Country": "SE"}, wantErr: `parameter Country: "SE" is not one of the AllowedValues`},
		{name: "pattern", params: map[string]string{"BaseUrl": "http://x/"}, wantErr: "does not match the AllowedPattern"},
		{name: "number", params: map[string]string{"RetentionDays": "many"}, wantErr: "is not a Number"},
		{name: "unknown", params: map[string]string{"Contry": "NO"}, wantErr: "declares no such parameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := parse(t).Stack(samtemplate.StackOptions{Parameters: tc.params})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, st)
		})
	}
}

func TestStackOptions(t *testing.T) {
	st, err := parse(t).Stack(samtemplate.StackOptions{
		StackName: "dsr", Region: "eu-north-1", AccountID: "000000000000",
		Attributes: map[string]string{"HttpApi.ApiEndpoint": "http://127.0.0.1:3000"},
	})
	if err != nil {
		t.Fatal(err)
	}
	fn, err := st.Function("IntakeFunction")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Environment["TABLE_NAME"] != "dsr-requests" || fn.Environment["API_URL"] != "http://127.0.0.1:3000" ||
		fn.Environment["TABLE_ARN"] != "arn:aws:dynamodb:eu-north-1:000000000000:table/dsr-requests" {
		t.Errorf("env = %v", fn.Environment)
	}
	admin, _ := st.Function("AdminFunction")
	if admin.Name != "dsr-admin" {
		t.Errorf("FunctionName = %q", admin.Name)
	}
}

func TestEvents(t *testing.T) {
	st := stack(t, nil)
	var routes []string
	fns, err := st.Functions()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		for _, e := range fn.HTTPAPIEvents {
			routes = append(routes, fn.LogicalID+" "+e.APIID+" "+e.RouteKey())
		}
	}
	want := []string{
		"AdminFunction ServerlessHttpApi $default",
		"AdminFunction ServerlessHttpApi ANY /admin/requests/{ref}",
		"AdminFunction ServerlessHttpApi ANY /admin/{proxy+}",
		"IntakeFunction HttpApi GET /",
		"IntakeFunction HttpApi POST /requests",
	}
	if !reflect.DeepEqual(routes, want) {
		t.Errorf("routes =\n%s\nwant\n%s", strings.Join(routes, "\n"), strings.Join(want, "\n"))
	}
	sweep, err := st.Function("SweepFunction")
	if err != nil {
		t.Fatal(err)
	}
	if sweep.Timeout != time.Minute || sweep.MemorySize != 256 {
		t.Errorf("sweep timeout %v memory %d", sweep.Timeout, sweep.MemorySize)
	}
	wantSchedules := []samtemplate.ScheduleV2Event{
		{Name: "Daily", ScheduleName: "SweepFunctionDaily", GroupName: "default", ScheduleExpression: "cron(0 6 ? * MON-FRI *)",
			Timezone: "Europe/Copenhagen", State: "ENABLED"},
		{Name: "Hourly", ScheduleName: "hourly-sweep", GroupName: "default", ScheduleExpression: "rate(1 hour)",
			Timezone: "UTC", State: "DISABLED", Input: `{"kind":"hourly"}`},
	}
	if !reflect.DeepEqual(sweep.ScheduleEvents, wantSchedules) {
		t.Errorf("schedules = %+v", sweep.ScheduleEvents)
	}
	if sweep.ScheduleEvents[1].Enabled() {
		t.Error("DISABLED schedule reports enabled")
	}
	if len(sweep.Events) != 2 || sweep.Events[0].Properties["ScheduleExpression"] != "cron(0 6 ? * MON-FRI *)" {
		t.Errorf("raw events = %+v", sweep.Events)
	}
}

func TestCreateTableInput(t *testing.T) {
	tables, err := stack(t, nil).Tables()
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 1 {
		t.Fatalf("%d tables", len(tables))
	}
	tbl := tables[0]
	if tbl.TimeToLive == nil || *tbl.TimeToLive.AttributeName != "expires_at" || !*tbl.TimeToLive.Enabled {
		t.Errorf("TTL = %+v", tbl.TimeToLive)
	}
	key := func(name string, kt types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
	}
	attr := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	want := &dynamodb.CreateTableInput{
		TableName:            aws.String("local-requests"),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{key("pk", types.KeyTypeHash), key("sk", types.KeyTypeRange)},
		AttributeDefinitions: []types.AttributeDefinition{attr("pk"), attr("sk"), attr("sweep_pk"), attr("sweep_at")},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("sweep"),
			KeySchema:  []types.KeySchemaElement{key("sweep_pk", types.KeyTypeHash), key("sweep_at", types.KeyTypeRange)},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
		SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true)},
	}
	if got := tbl.CreateTableInput(); !reflect.DeepEqual(got, want) {
		t.Errorf("CreateTableInput =\n%#v\nwant\n%#v", got, want)
	}
}

func TestSimpleTable(t *testing.T) {
	tpl, err := samtemplate.Parse([]byte(`
Resources:
  Plain: {Type: AWS::Serverless::SimpleTable}
  Keyed:
    Type: AWS::Serverless::SimpleTable
    Properties: {TableName: keyed, PrimaryKey: {Name: n, Type: Number}}
`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := tpl.Stack(samtemplate.StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tables, err := st.Tables()
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 2 || tables[0].TableName != "keyed" || *tables[0].KeySchema[0].AttributeName != "n" ||
		tables[0].AttributeDefinitions[0].AttributeType != types.ScalarAttributeTypeN ||
		tables[1].TableName != "Plain" || *tables[1].KeySchema[0].AttributeName != "id" {
		t.Errorf("tables = %+v %+v", tables[0], tables[1])
	}
}

func TestResolveErrors(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"unknown ref", "!Ref Nope", "no such parameter or resource"},
		{"import", "!ImportValue x", "unsupported intrinsic Fn::ImportValue (line 1)"},
		{"select range", "!Select [3, [a, b]]", "out of range"},
		{"bad getatt", "!GetAtt Nope", "expected Resource.Attribute"},
		{"sub unknown", `!Sub "${Nope}"`, "Nope"},
		{"list in string", "!Split [',', 'a,b']", "expected a scalar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tc.value), &n); err != nil {
				t.Fatal(err)
			}
			_, err := stack(t, nil).ResolveString(n.Content[0])
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestEnvVars(t *testing.T) {
	ev, err := samtemplate.ParseEnvVars([]byte(`{
		"Parameters": {"BASE_URL": "http://localhost:3000", "COUNTRY": "NO", "NOT_DECLARED": "x"},
		"IntakeFunction": {"COUNTRY": "DK", "MIN_FILL_SECONDS": 1, "LOG_LEVEL": null, "DEBUG": true}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	st := stack(t, nil)
	intake, _ := st.Function("IntakeFunction")
	admin, _ := st.Function("AdminFunction")
	for _, tc := range []struct {
		fn   *samtemplate.Function
		want map[string]string
	}{
		{intake, map[string]string{"BASE_URL": "http://localhost:3000", "COUNTRY": "DK", "MIN_FILL_SECONDS": "1", "LOG_LEVEL": ""}},
		{admin, map[string]string{"BASE_URL": "http://localhost:3000", "COUNTRY": "NO", "SESSION_HOURS": "8"}},
	} {
		got := ev.Apply(tc.fn.LogicalID, tc.fn.Environment)
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", tc.fn.LogicalID, k, got[k], v)
			}
		}
		for _, k := range []string{"NOT_DECLARED", "DEBUG"} {
			if _, ok := got[k]; ok {
				t.Errorf("%s: %s is not declared by the template and must not be added", tc.fn.LogicalID, k)
			}
		}
		if len(got) != len(tc.fn.Environment) {
			t.Errorf("%s: %d variables, want %d", tc.fn.LogicalID, len(got), len(tc.fn.Environment))
		}
	}
	if intake.Environment["COUNTRY"] != "NO" {
		t.Error("Apply changed its input")
	}
	if _, err := samtemplate.ParseEnvVars([]byte(`{"Parameters": {"X": {"nested": 1}}}`)); err == nil {
		t.Error("nested value accepted")
	}
}

func TestUnsetParameter(t *testing.T) {
	tpl, err := samtemplate.Parse([]byte(`
Parameters:
  BaseUrl: {Type: String, AllowedPattern: "^https://.+$"}
  Country: {Type: String, Default: DK}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
      Environment: {Variables: {BASE_URL: !Ref BaseUrl, COUNTRY: !Ref Country}}
`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := tpl.Stack(samtemplate.StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.Unset, []string{"BaseUrl"}) {
		t.Errorf("Unset = %v", st.Unset)
	}
	fn, err := st.Function("Fn")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := fn.Environment["BASE_URL"]; !ok || v != "" {
		t.Errorf("BASE_URL = %q, %v; want declared and empty", v, ok)
	}
	if _, err := tpl.Stack(samtemplate.StackOptions{Parameters: map[string]string{"BaseUrl": "http://x"}}); err == nil {
		t.Error("an override is still checked against AllowedPattern")
	}
}

func TestBuckets(t *testing.T) {
	st := stack(t, nil)
	buckets, err := st.Buckets()
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets) != 1 || *buckets[0] != (samtemplate.Bucket{LogicalID: "Uploads", BucketName: "local-uploads"}) {
		t.Errorf("buckets = %+v, want Uploads alone (Archive's condition is false)", buckets)
	}
	for typ, want := range map[string]bool{
		samtemplate.TypeBucket: true, "AWS::SES::ReceiptRule": true, "AWS::ApiGatewayV2::DomainName": false, "AWS::SQS::Queue": false,
	} {
		if got := st.Declares(typ); got != want {
			t.Errorf("Declares(%s) = %v, want %v", typ, got, want)
		}
	}
}

// Only the intrinsics the template and its planned resources use are evaluated; any other
// in a resource the runner resolves, or in a condition, is an error that names it and
// where it is, never a silent guess.
func TestUnsupportedIntrinsic(t *testing.T) {
	const doc = `
Parameters:
  Stage: {Type: String, Default: dev}
Conditions:
  IsProd: %s
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
      Environment: {Variables: {VALUE: %s}}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: %s
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
  Bucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: %s}
  Ignored:
    Type: AWS::SES::ReceiptRuleSet
    Properties: {RuleSetName: !Base64 "not resolved locally"}
`
	const cond, value, table, bucket = "!Equals [!Ref Stage, prod]", "plain", "t", "b"
	for _, tc := range []struct {
		name                       string
		cond, value, table, bucket string
		intrinsic, where           string
	}{
		{name: "Base64 in a function", value: "!Base64 x", intrinsic: "Fn::Base64", where: "resource Fn"},
		{name: "FindInMap in a function", value: "!FindInMap [M, a, b]", intrinsic: "Fn::FindInMap", where: "resource Fn"},
		{name: "GetAZs in a function", value: "!Select [0, !GetAZs '']", intrinsic: "Fn::GetAZs", where: "resource Fn"},
		{name: "ImportValue in a table", table: "!ImportValue shared-table", intrinsic: "Fn::ImportValue", where: "resource Table"},
		{name: "Cidr in a bucket", bucket: "!Select [0, !Cidr [10.0.0.0/16, 2, 8]]", intrinsic: "Fn::Cidr", where: "resource Bucket"},
		{name: "long form", value: `{"Fn::Transform": {Name: x}}`, intrinsic: "Fn::Transform", where: "resource Fn"},
		{name: "pseudo parameter", value: `!Sub "${AWS::StackId}"`, intrinsic: "AWS::StackId", where: "resource Fn"},
		{name: "through a reference", value: "!Ref Bucket", bucket: "!Base64 b", intrinsic: "Fn::Base64", where: "resource Bucket"},
		{name: "in a condition", cond: "!Equals [!FindInMap [M, a, b], prod]", intrinsic: "Fn::FindInMap", where: "condition IsProd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			or := func(v, def string) string {
				if v == "" {
					return def
				}
				return v
			}
			tpl, err := samtemplate.Parse([]byte(fmt.Sprintf(doc, or(tc.cond, cond), or(tc.value, value), or(tc.table, table), or(tc.bucket, bucket))))
			if err != nil {
				t.Fatal(err)
			}
			st, err := tpl.Stack(samtemplate.StackOptions{})
			if err == nil {
				_, err = st.Functions()
			}
			if err == nil {
				_, err = st.Tables()
			}
			if err == nil {
				_, err = st.Buckets()
			}
			var u *samtemplate.UnsupportedError
			if !errors.As(err, &u) || u.Intrinsic != tc.intrinsic || u.Where != tc.where {
				t.Fatalf("err = %v, want an unsupported %s in %s", err, tc.intrinsic, tc.where)
			}
			if want := "unsupported intrinsic " + tc.intrinsic + " in " + tc.where; !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q, want it to say %q", err, want)
			}
			if testing.Verbose() {
				t.Log(err)
			}
		})
	}
}

// The receipt rule of template.yaml, with InboundAddress: the runner plays it; without, it
// is not created.
func TestReceiptRules(t *testing.T) {
	tpl, err := samtemplate.ParseFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{
		"ControllerName": "JMA A/S", "BaseUrl": "https://privacy.example.dk", "SenderAddress": "privacy@example.dk",
		"SenderIdentity": "example.dk", "DpoAddresses": "dpo@example.dk", "ControllerAddress": "Vestergade 1",
		"PrivacyPolicyUrl": "https://www.example.dk/privatliv",
	}
	st, err := tpl.Stack(samtemplate.StackOptions{Parameters: params})
	if err != nil {
		t.Fatal(err)
	}
	if rules, err := st.ReceiptRules(); err != nil || len(rules) != 0 {
		t.Fatalf("without InboundAddress: %v, %v", rules, err)
	}
	params["InboundAddress"] = "privacy@example.dk"
	if st, err = tpl.Stack(samtemplate.StackOptions{Parameters: params, StackName: "desk"}); err != nil {
		t.Fatal(err)
	}
	rules, err := st.ReceiptRules()
	if err != nil || len(rules) != 1 {
		t.Fatalf("rules %v, %v", rules, err)
	}
	r := rules[0]
	buckets, err := st.Buckets()
	if err != nil {
		t.Fatal(err)
	}
	inbound := ""
	for _, b := range buckets {
		if b.LogicalID == "InboundBucket" {
			inbound = b.BucketName
		}
	}
	if r.Name != "desk-privacy" || len(r.Recipients) != 1 || r.Recipients[0] != "privacy@example.dk" || inbound == "" || r.Bucket != inbound ||
		r.Prefix != "mail/" || r.Function != "InboundFunction" || !strings.HasSuffix(r.FunctionARN, ":function:InboundFunction") {
		t.Fatalf("rule %+v", r)
	}
}
