package awsfault_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awsfault"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

func item(pk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "X"},
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// What the SDK sees through the proxy is what it would see from AWS: its retryer retries
// throttling, server errors and dropped connections, and gives up after three attempts.
func TestDynamoDBFaults(t *testing.T) {
	t.Parallel()
	env := emulator.Get(t)
	table := env.NewTable(t, store.TableDefinition("awsfault"))
	p := awsfault.Start(t, env.DynamoDBEndpoint)
	db := p.DynamoDB(env.AWSConfig())
	ctx := context.Background()
	put := func(pk string) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(pk),
			ConditionExpression: aws.String("attribute_not_exists(pk)")})
		return err
	}
	stored := func(pk string) bool {
		out, err := env.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item(pk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item != nil
	}
	cases := []struct {
		name     string
		rule     awsfault.Rule
		code     string // of the error, "" for success
		attempts int
		stored   bool
	}{
		{"throttled", awsfault.Rule{Op: "PutItem", Fault: awsfault.Throttle}, "ThrottlingException", 3, false},
		{"throttled once", awsfault.Rule{Op: "PutItem", Fault: awsfault.Throttle, Times: 1}, "", 2, true},
		{"server error", awsfault.Rule{Op: "PutItem", Fault: awsfault.ServerError}, "InternalServerError", 3, false},
		{"dropped", awsfault.Rule{Op: "PutItem", Fault: awsfault.Drop}, "", 3, false},
		// The first attempt was written; the retry finds the item there.
		{"answer dropped once", awsfault.Rule{Op: "PutItem", Fault: awsfault.DropAnswer, Times: 1}, "ConditionalCheckFailedException", 2, true},
		{"slow", awsfault.Rule{Op: "PutItem", Latency: 50 * time.Millisecond}, "", 1, true},
		{"other operation", awsfault.Rule{Op: "GetItem", Fault: awsfault.Throttle}, "", 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p.Clear()
			p.Inject(tc.rule)
			before, _ := p.Requests("PutItem")
			start := time.Now()
			err := put(tc.name)
			after, _ := p.Requests("PutItem")
			switch {
			case tc.code != "" && code(err) != tc.code:
				t.Errorf("err = %v, want %s", err, tc.code)
			case tc.code == "" && tc.name != "dropped" && err != nil:
				t.Errorf("err = %v", err)
			case tc.name == "dropped" && err == nil:
				t.Error("a dropped connection succeeded")
			}
			if after-before != tc.attempts {
				t.Errorf("%d attempts, want %d", after-before, tc.attempts)
			}
			if stored(tc.name) != tc.stored {
				t.Errorf("stored = %v, want %v", !tc.stored, tc.stored)
			}
			if tc.rule.Latency > 0 && time.Since(start) < tc.rule.Latency {
				t.Errorf("took %s, less than the latency", time.Since(start))
			}
		})
	}
}

func TestSESFaults(t *testing.T) {
	t.Parallel()
	env := emulator.Get(t)
	p := awsfault.Start(t, env.SESEndpoint)
	client := p.SES(env.AWSConfig())
	send := func(to string) error {
		_, err := client.SendEmail(context.Background(), &ses.SendEmailInput{
			Source:      aws.String("privacy@example.dk"),
			Destination: &sestypes.Destination{ToAddresses: []string{to}},
			Message: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("s")},
				Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("t")}}},
		})
		return err
	}
	p.Inject(awsfault.Rule{Op: "SendEmail", Fault: awsfault.Throttle, Skip: 1})
	if err := send("awsfault-first@example.dk"); err != nil {
		t.Fatalf("the first send was to pass: %v", err)
	}
	if err := send("awsfault-second@example.dk"); code(err) != "Throttling" {
		t.Fatalf("err = %v, want Throttling", err)
	}
	if all, faulted := p.Requests("SendEmail"); all != 4 || faulted != 3 {
		t.Errorf("%d sends, %d throttled; want 4 and 3", all, faulted)
	}
	if len(env.Mails(t, "awsfault-second@example.dk")) != 0 || len(env.Mails(t, "awsfault-first@example.dk")) != 1 {
		t.Error("mails in the emulator do not match what the proxy let through")
	}
	p.Clear()
	p.Inject(awsfault.Rule{Fault: awsfault.ServerError})
	if err := send("awsfault-third@example.dk"); code(err) != "InternalFailure" {
		t.Fatalf("err = %v, want InternalFailure", err)
	}
}
