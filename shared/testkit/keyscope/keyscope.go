// Package keyscope holds the DynamoDB calls a function's tests make to what its role may do
// (store.Access): a client that checks the partition key of every item a call names before it
// passes the call on, so that a code path reaching for an item outside the function's
// prefixes fails its test here instead of being refused by IAM after a deploy.
package keyscope

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/store"
)

// Wrap returns db, checking every call against store.Access[function].
func Wrap(t testing.TB, function string, db store.DynamoDB) store.DynamoDB {
	access, ok := store.Access[function]
	if !ok {
		t.Fatalf("keyscope: store.Access knows no %s", function)
	}
	return &client{t: t, fn: function, access: access, db: db}
}

type client struct {
	t      testing.TB
	fn     string
	access map[string][]string
	db     store.DynamoDB
}

// check fails the test unless op may touch every partition in pks.
func (c *client) check(op string, pks ...string) {
	for _, pk := range pks {
		if !Allows(c.access, op, pk) {
			c.t.Errorf("keyscope: %s calls %s on %q, which its role does not allow (store.Access)", c.fn, op, pk)
		}
	}
}

// Allows reports whether access lets op touch the partition pk.
func Allows(access map[string][]string, op, pk string) bool {
	for prefix, ops := range access {
		if strings.HasPrefix(pk, prefix) && slices.Contains(ops, op) {
			return true
		}
	}
	return false
}

func pk(key map[string]ddbtypes.AttributeValue) string {
	if s, ok := key[store.AttrPK].(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func (c *client) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.check("GetItem", pk(in.Key))
	return c.db.GetItem(ctx, in, o...)
}

func (c *client) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.check("PutItem", pk(in.Item))
	return c.db.PutItem(ctx, in, o...)
}

func (c *client) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.check("UpdateItem", pk(in.Key))
	return c.db.UpdateItem(ctx, in, o...)
}

func (c *client) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.check("DeleteItem", pk(in.Key))
	return c.db.DeleteItem(ctx, in, o...)
}

// Query on an index is granted by the index's resource, not by partition.
func (c *client) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if in.IndexName == nil {
		c.check("Query", queryPartition(in))
	}
	return c.db.Query(ctx, in, o...)
}

// queryPartition is the partition key value a table Query names: the value compared with pk
// in its key condition.
func queryPartition(in *dynamodb.QueryInput) string {
	if in.KeyConditionExpression == nil {
		return ""
	}
	for _, part := range strings.Split(*in.KeyConditionExpression, " AND ") {
		name, value, ok := strings.Cut(part, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || (name != store.AttrPK && in.ExpressionAttributeNames[name] != store.AttrPK) {
			continue
		}
		if s, ok := in.ExpressionAttributeValues[value].(*ddbtypes.AttributeValueMemberS); ok {
			return s.Value
		}
	}
	return ""
}

func (c *client) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	for _, reqs := range in.RequestItems {
		for _, r := range reqs {
			switch {
			case r.PutRequest != nil:
				c.check("BatchWriteItem", pk(r.PutRequest.Item))
			case r.DeleteRequest != nil:
				c.check("BatchWriteItem", pk(r.DeleteRequest.Key))
			}
		}
	}
	return c.db.BatchWriteItem(ctx, in, o...)
}

func (c *client) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	for _, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			c.check("BatchGetItem", pk(k))
		}
	}
	return c.db.BatchGetItem(ctx, in, o...)
}
