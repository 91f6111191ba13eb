package cost

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/dsrdesk/dsrdesk/infra/emulators"
	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

func TestPricesAreComplete(t *testing.T) {
	p, err := LoadPrices()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"eu-north-1", "eu-west-1"} {
		if _, ok := p.Regions[want]; !ok {
			t.Errorf("prices.json has no %s", want)
		}
	}
	if p.Currency != "USD" {
		t.Errorf("currency %q", p.Currency)
	}
}

func TestPerMonth(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want float64 // runs in an average month
		bad  bool
	}{
		{expr: "cron(0 7 * * ? *)", want: daysPerMonth},
		{expr: "cron(0 7,15 * * ? *)", want: 2 * daysPerMonth},
		{expr: "cron(30 6 ? * MON-FRI *)", want: daysPerMonth * 5 / 7},
		{expr: "rate(1 day)", want: daysPerMonth},
		{expr: "rate(12 hours)", want: 2 * daysPerMonth},
		{expr: "rate(30 minutes)", want: 48 * daysPerMonth},
		{expr: "at(2027-01-01T07:00:00)", want: 0},
		{expr: "cron(0/5 * * * ? *)", bad: true},
		{expr: "cron(0 7 1 * ? *)", bad: true},
		{expr: "rate(1 fortnight)", bad: true},
	} {
		got, err := perMonth(tc.expr)
		if tc.bad {
			if err == nil {
				t.Errorf("%s: %v runs a month, want an error rather than a guess", tc.expr, got)
			}
			continue
		}
		if err != nil || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: %v, %v; want %v", tc.expr, got, err, tc.want)
		}
	}
}

func stackOf(t *testing.T, doc string) *samtemplate.Stack {
	t.Helper()
	tpl, err := samtemplate.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	s, err := tpl.Stack(samtemplate.StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The project's own template: every resource priced, its alarms counted as written.
func TestFixedOfTheTemplate(t *testing.T) {
	path := filepath.Join("..", "..", "template.yaml")
	tpl, err := samtemplate.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tpl.Stack(samtemplate.StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Fixed(s)
	if err != nil {
		t.Fatal(err)
	}
	alarms := 0
	for _, r := range tpl.Resources {
		if r.Type == "AWS::CloudWatch::Alarm" && r.Condition == "" {
			alarms++
		}
	}
	if f.Alarms < alarms || alarms == 0 {
		t.Errorf("%d alarms counted, the template declares %d unconditionally", f.Alarms, alarms)
	}
	if !f.PITR {
		t.Error("the table's point-in-time recovery is not seen")
	}
	if f.TableClass != "STANDARD_INFREQUENT_ACCESS" {
		t.Errorf("table class %q", f.TableClass)
	}
	p, _ := LoadPrices()
	for id, r := range p.Regions {
		ia, err := r.ForTableClass(f.TableClass)
		if err != nil || ia.DynamoDBStorageGBMonth >= r.DynamoDBStorageGBMonth || ia.DynamoDBWriteUnit <= r.DynamoDBWriteUnit {
			t.Errorf("%s: Standard-IA prices %+v, %v", id, ia, err)
		}
	}
	if f.SchedulesPerMonth < 28 || f.SchedulesPerMonth > 32 || len(f.Scheduled) != 1 || f.Scheduled[0] != "SweepFunction" {
		t.Errorf("schedules: %v a month by %v, want the daily sweep", f.SchedulesPerMonth, f.Scheduled)
	}
	if f.AccessLogBytes < 100 || f.AccessLogBytes > 1000 {
		t.Errorf("an access log line of %d bytes", f.AccessLogBytes)
	}
	if f.RetentionMonths < 35 || f.RetentionMonths > 37 || f.LogMonths < 2.9 || f.LogMonths > 3.0 {
		t.Errorf("retention %v months, logs %v months: not the defaults (1095 and 90 days)", f.RetentionMonths, f.LogMonths)
	}
	if f.Memory["SweepFunction"] == 0 || f.Memory["IntakeFunction"] == 0 {
		t.Errorf("memory sizes %v", f.Memory)
	}
}

func TestFixedRefusesAnUnpricedResource(t *testing.T) {
	s := stackOf(t, `
Transform: AWS::Serverless-2016-10-31
Parameters:
  RetentionDays: {Type: Number, Default: 365}
  LogRetentionDays: {Type: Number, Default: 30}
Resources:
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties: {}
  Cache:
    Type: AWS::ElastiCache::CacheCluster
    Properties: {}
`)
	_, err := Fixed(s)
	if err == nil || !strings.Contains(err.Error(), "Cache (AWS::ElastiCache::CacheCluster)") {
		t.Fatalf("Fixed: %v, want a refusal naming the unpriced resource", err)
	}
}

func TestFixedCountsAlarmsAndKeys(t *testing.T) {
	s := stackOf(t, `
Transform: AWS::Serverless-2016-10-31
Parameters:
  RetentionDays: {Type: Number, Default: 365}
  LogRetentionDays: {Type: Number, Default: 30}
  Email: {Type: String, Default: ""}
Conditions:
  HasEmail: !Not [!Equals [!Ref Email, ""]]
Resources:
  One:
    Type: AWS::CloudWatch::Alarm
    Properties: {}
  MathOnThree:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Metrics: [{Id: a}, {Id: b}, {Id: e}]
  OnlyWithEmail:
    Type: AWS::CloudWatch::Alarm
    Condition: HasEmail
    Properties: {}
  Key:
    Type: AWS::KMS::Key
    Properties: {}
`)
	f, err := Fixed(s)
	if err != nil {
		t.Fatal(err)
	}
	if f.Alarms != 4 || f.KMSKeys != 1 {
		t.Errorf("alarms %d, keys %d; want 4 (1 + 3 metrics, the conditional one not created), 1", f.Alarms, f.KMSKeys)
	}
	p, _ := LoadPrices()
	if got := f.Price(p.Regions["eu-west-1"]).Total(); math.Abs(got-1.4) > 1e-9 {
		t.Errorf("monthly %v, want 4 × 0.10 + 1.00", got)
	}
}

// The meter against the real emulators: DynamoDB's own consumed capacity, mails per
// recipient.
func TestMeter(t *testing.T) {
	ctx := context.Background()
	env := emulator.Get(t)
	m := NewMeter()
	t.Cleanup(m.Close)
	dbURL, err := m.Proxy(DynamoDB, env.DynamoDBEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	sesURL, err := m.Proxy(SES, env.SESEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	table := env.NewTable(t, &dynamodb.CreateTableInput{
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("g"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName:  aws.String("by-g"),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: ddbtypes.KeyTypeHash}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		}},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	})
	db := emulators.DynamoDBClient(dbURL)
	m.Take()

	small := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "small"}, "g": &ddbtypes.AttributeValueMemberS{Value: "in"}}
	big := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "big"}, "text": &ddbtypes.AttributeValueMemberS{Value: strings.Repeat("x", 2500)}}
	for _, item := range []map[string]ddbtypes.AttributeValue{small, big} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{"pk": small["pk"]}})
	if err != nil || out.Item == nil {
		t.Fatalf("get through the meter: %v", err)
	}
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{"pk": big["pk"]}, ConsistentRead: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	u, ops := m.Take()
	// 1 KB per write unit: 1 + 3. 4 KB per read unit, half for an eventually consistent read.
	// The small item is in the index, the big one is not.
	if u.WriteUnits != 4 || u.ReadUnits != 1.5 || u.IndexWriteUnits != 1 {
		t.Errorf("units: %+v; want 4 written and 1 in the index, 1.5 read", u)
	}
	if ops["PutItem"] != 2 || ops["GetItem"] != 2 {
		t.Errorf("operations %v", ops)
	}
	// Moving the small item under another index key: a delete and a put in the index.
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{"pk": small["pk"]},
		UpdateExpression: aws.String("SET g = :g"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":g": &ddbtypes.AttributeValueMemberS{Value: "moved"}}}); err != nil {
		t.Fatal(err)
	}
	// A query that finds nothing still costs half a unit.
	if _, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, IndexName: aws.String("by-g"), KeyConditionExpression: aws.String("g = :g"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":g": &ddbtypes.AttributeValueMemberS{Value: "none"}}}); err != nil {
		t.Fatal(err)
	}
	if u, _ := m.Take(); u.WriteUnits != 1 || u.IndexWriteUnits != 2 || u.ReadUnits != 0.5 {
		t.Errorf("an index key moved, an empty query: %+v; want 1 written, 2 in the index, 0.5 read", u)
	}

	mail := ses.NewFromConfig(emulators.Config(), func(o *ses.Options) { o.BaseEndpoint = aws.String(sesURL) })
	_, err = mail.SendEmail(ctx, &ses.SendEmailInput{
		Source:      aws.String("desk@example.dk"),
		Destination: &sestypes.Destination{ToAddresses: []string{"a@example.dk", "b@example.dk"}, BccAddresses: []string{"c@example.dk"}},
		Message: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Hej")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("Hej")}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := m.Take(); u.Mails != 3 {
		t.Errorf("one mail to three recipients counted as %d", u.Mails)
	}
}

func TestPrice(t *testing.T) {
	p, _ := LoadPrices()
	r := p.Regions["eu-west-1"]
	u := Usage{Invocations: 1_000_000, Mails: 1000, APICalls: 1_000_000, WriteUnits: 1_000_000, ReadUnits: 1_000_000, LogBytes: gb}
	b := u.Price(r, 0)
	for line, want := range map[string]float64{
		"Lambda": 0.2, "SES": 0.1, "HTTP API": r.HTTPAPIRequest * 1e6, "DynamoDB": (r.DynamoDBWriteUnit + r.DynamoDBReadUnit) * 1e6, "Logs": r.LogsIngestGB,
	} {
		if math.Abs(b[line]-want) > 1e-9 {
			t.Errorf("%s: %v, want %v", line, b[line], want)
		}
	}
	s := Stored{TableBytes: gb, Months: 12}.Price(r, true)
	if math.Abs(s.Total()-12*(r.DynamoDBStorageGBMonth+r.DynamoDBPITRGBMonth)) > 1e-9 {
		t.Errorf("a GB kept a year: %v", s)
	}
}

func TestIndexUnits(t *testing.T) {
	keys := [][]string{{"sweep_pk", "sweep_at"}, {"ws_pk", "ws_sk"}}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item := func(kv ...string) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{"pk": s("REQ#1"), "sk": s("REQ")}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = s(kv[i+1])
		}
		return m
	}
	big := strings.Repeat("x", 1500) // with the keys: 2 units
	for _, tc := range []struct {
		name     string
		old, now map[string]types.AttributeValue
		want     float64
	}{
		{"a new item in no index", nil, item(), 0},
		{"a new item in one index", nil, item("ws_pk", "a", "ws_sk", "b"), 1},
		{"a new 2 KB item in both", nil, item("ws_pk", "a", "ws_sk", "b", "sweep_pk", "c", "sweep_at", "d", "text", big), 4},
		{"unchanged", item("ws_pk", "a", "ws_sk", "b"), item("ws_pk", "a", "ws_sk", "b"), 0},
		{"another attribute changed", item("ws_pk", "a", "ws_sk", "b"), item("ws_pk", "a", "ws_sk", "b", "status", "open"), 1},
		{"its index key moved", item("ws_pk", "a", "ws_sk", "b"), item("ws_pk", "a", "ws_sk", "c"), 2},
		{"out of the sweep index, still in the workspace's", item("ws_pk", "a", "ws_sk", "b", "sweep_pk", "c", "sweep_at", "d"), item("ws_pk", "a", "ws_sk", "b", "status", "done"), 2},
		{"deleted from one index", item("ws_pk", "a", "ws_sk", "b", "text", big), nil, 2},
	} {
		if got := indexUnits(keys, tc.old, tc.now); got != tc.want {
			t.Errorf("%s: %v index write units, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSub(t *testing.T) {
	run := Usage{Invocations: 1, ReadUnits: 1.5, Mails: 1, LogBytes: 100, Scheduled: 1}
	idle := Usage{Invocations: 1, ReadUnits: 2, LogBytes: 40, Scheduled: 1}
	got := run.Sub(idle)
	if want := (Usage{Mails: 1, LogBytes: 60}); got != want {
		t.Errorf("%+v less %+v = %+v, want %+v (never below zero)", run, idle, got, want)
	}
}
