// Package rawitem is a test helper: it reads a request's item as the table holds it, past the
// store, for tests that check what a write left there (the sweep index and TTL attributes,
// escalation marks) or that a refused write left nothing.
package rawitem

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Request returns request ref's item in table, read consistently; nil if there is none. The
// key is spelled out here, not taken from the store, so a test through it also checks the
// store's layout (docs/design.md, the table).
func Request(t testing.TB, db *dynamodb.Client, table, ref string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "REQ#" + ref},
			"sk": &ddbtypes.AttributeValueMemberS{Value: "REQ"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("raw get %s: %v", ref, err)
	}
	return out.Item
}

// Partition returns every item under request ref's partition key (the request and the items
// kept beside it), by sort key, read consistently.
func Partition(t testing.TB, db *dynamodb.Client, table, ref string) map[string]map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: "REQ#" + ref}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("raw query %s: %v", ref, err)
	}
	items := map[string]map[string]ddbtypes.AttributeValue{}
	for _, it := range out.Items {
		if sk, ok := it["sk"].(*ddbtypes.AttributeValueMemberS); ok {
			items[sk.Value] = it
		}
	}
	return items
}
