package awscount_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

func TestRounds(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(op string, from, to int) awscount.Call {
		return awscount.Call{Operation: op, Start: t0.Add(time.Duration(from) * time.Millisecond), End: t0.Add(time.Duration(to) * time.Millisecond)}
	}
	cases := []struct {
		name  string
		calls []awscount.Call
		want  string
		n     int
	}{
		{"none", nil, "", 0},
		{"one", []awscount.Call{at("GetItem", 0, 5)}, "GetItem", 1},
		{"in a row", []awscount.Call{at("GetItem", 0, 5), at("UpdateItem", 5, 9)}, "GetItem → UpdateItem", 2},
		{"together", []awscount.Call{at("UpdateItem", 0, 5), at("UpdateItem", 1, 4)}, "UpdateItem ‖ UpdateItem", 1},
		// A chain of overlaps is one round even where its ends do not overlap each other.
		{"chained", []awscount.Call{at("A", 0, 4), at("B", 3, 8), at("C", 7, 9)}, "A ‖ B ‖ C", 1},
		{"recorded out of order", []awscount.Call{at("SendEmail", 10, 12), at("PutItem", 6, 9), at("UpdateItem", 0, 5), at("UpdateItem", 1, 5)},
			"UpdateItem ‖ UpdateItem → PutItem → SendEmail", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := awscount.Describe(tc.calls); got != tc.want {
				t.Errorf("Describe = %q, want %q", got, tc.want)
			}
			if got := awscount.Sequential(tc.calls); got != tc.n {
				t.Errorf("Sequential = %d, want %d", got, tc.n)
			}
		})
	}
}

// Against the emulator: two reads in parallel, then one write, are two round trips; the
// operation names, results and errors are what the SDK saw.
func TestRecorderOnAClient(t *testing.T) {
	t.Parallel()
	env := emulator.Get(t)
	table := env.NewTable(t, store.TableDefinition("awscount"))
	rec := &awscount.Recorder{}
	db := dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(env.DynamoDBEndpoint)
	}, rec.DynamoDB)
	key := func(pk string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
			"sk": &ddbtypes.AttributeValueMemberS{Value: "X"},
		}
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, pk := range []string{"a", "b"} {
		wg.Go(func() {
			if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(pk)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("a"),
		ConditionExpression: aws.String("attribute_exists(pk)")})
	if err == nil {
		t.Fatal("conditional put on a missing item succeeded")
	}

	calls := rec.Take()
	if got := awscount.Describe(calls); got != "GetItem ‖ GetItem → PutItem!" {
		t.Errorf("Describe = %q", got)
	}
	if awscount.Count(calls, "GetItem") != 2 || awscount.Sequential(calls) != 2 {
		t.Errorf("calls %+v", calls)
	}
	for _, c := range calls {
		if c.Service != "DynamoDB" || c.Attempts != 1 || c.End.Before(c.Start) {
			t.Errorf("call %+v", c)
		}
		if c.Operation == "GetItem" {
			if _, ok := c.Output.(*dynamodb.GetItemOutput); !ok {
				t.Errorf("GetItem output %T", c.Output)
			}
		}
	}
	if len(rec.Take()) != 0 {
		t.Error("Take did not forget")
	}
}

// With a latency far above scheduling jitter, calls started together overlap even when one
// starts a little late; Replay makes the same calls again, in the same rounds, on items of
// its own.
func TestLatencyAndReplay(t *testing.T) {
	t.Parallel()
	env := emulator.Get(t)
	table := env.NewTable(t, store.TableDefinition("awscount"))
	rec := &awscount.Recorder{Latency: 30 * time.Millisecond}
	db := dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(env.DynamoDBEndpoint)
	}, rec.DynamoDB)
	item := func(pk string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
			"sk": &ddbtypes.AttributeValueMemberS{Value: "X"},
		}
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i, pk := range []string{"a", "b"} {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 3 * time.Millisecond)
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(pk),
				ConditionExpression: aws.String("attribute_not_exists(pk)")}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item("a")}); err != nil {
		t.Fatal(err)
	}
	calls := rec.Take()
	if got := awscount.Describe(calls); got != "PutItem ‖ PutItem → GetItem" {
		t.Fatalf("Describe = %q", got)
	}
	for _, c := range calls {
		if c.End.Sub(c.Start) < rec.Latency {
			t.Errorf("%s took %s, less than the latency", c.Operation, c.End.Sub(c.Start))
		}
	}

	// The puts are conditional on the item being new: a replay on the same keys would fail.
	if err := awscount.Replay(ctx, calls, env.DynamoDB(), env.SES(), func(pk string) string { return pk }); err == nil {
		t.Fatal("replay on the recorded keys passed the puts' condition")
	}
	if err := awscount.Replay(ctx, calls, env.DynamoDB(), env.SES(), func(pk string) string { return pk + "#2" }); err != nil {
		t.Fatal(err)
	}
	out, err := env.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item("b#2"), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		t.Fatalf("replayed put not stored: %v", err)
	}
}

// A batch write and a partition Query replay on the rekeyed partition, as the outbox's
// mail records and the request page's reads do.
func TestReplayBatchAndQuery(t *testing.T) {
	t.Parallel()
	env := emulator.Get(t)
	table := env.NewTable(t, store.TableDefinition("awscount"))
	rec := &awscount.Recorder{}
	db := dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(env.DynamoDBEndpoint)
	}, rec.DynamoDB)
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	ctx := context.Background()
	if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{table: {
		{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"pk": s("REQ#1"), "sk": s("MAIL#1")}}},
		{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"pk": s("REQ#1"), "sk": s("MAIL#2")}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("#p = :p AND begins_with(sk, :m)"),
		ExpressionAttributeNames: map[string]string{"#p": "pk"}, ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": s("REQ#1"), ":m": s("MAIL#")}}); err != nil {
		t.Fatal(err)
	}
	calls := rec.Take()

	replayed := &awscount.Recorder{}
	bare := dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(env.DynamoDBEndpoint)
	}, replayed.DynamoDB)
	if err := awscount.Replay(ctx, calls, bare, env.SES(), func(pk string) string { return pk + "#bare" }); err != nil {
		t.Fatal(err)
	}
	again := replayed.Take()
	if got := awscount.Describe(again); got != "BatchWriteItem → Query" {
		t.Fatalf("replayed %q", got)
	}
	if n := len(again[1].Output.(*dynamodb.QueryOutput).Items); n != 2 {
		t.Errorf("the replayed Query found %d items of the rekeyed partition, want the 2 the replayed batch wrote", n)
	}
}
