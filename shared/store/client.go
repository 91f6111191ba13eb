package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Client hands a DynamoDB client to the store through the methods the store calls and
// nothing else, which keeps the other fifty-odd operations out of the function binaries.
//
// The linker drops methods nothing calls, except on a type stored in an interface when the
// program calls methods by name through reflection, as html/template does: then every
// exported method stays. A *dynamodb.Client in the DynamoDB interface (or in a struct that is)
// keeps every DynamoDB operation; method values, which reflection cannot look into, keep only
// these. main passes its client through Client; tests may pass the client itself.
func Client(c *dynamodb.Client) DynamoDB {
	return clientFuncs{
		getItem:    c.GetItem,
		putItem:    c.PutItem,
		updateItem: c.UpdateItem,
		deleteItem: c.DeleteItem,
		query:      c.Query,
		scan:       c.Scan,
		batchWrite: c.BatchWriteItem,
		batchGet:   c.BatchGetItem,
	}
}

// clientFunc is the shape of a DynamoDB client method value.
type clientFunc[In, Out any] func(context.Context, *In, ...func(*dynamodb.Options)) (*Out, error)

type clientFuncs struct {
	getItem    clientFunc[dynamodb.GetItemInput, dynamodb.GetItemOutput]
	putItem    clientFunc[dynamodb.PutItemInput, dynamodb.PutItemOutput]
	updateItem clientFunc[dynamodb.UpdateItemInput, dynamodb.UpdateItemOutput]
	deleteItem clientFunc[dynamodb.DeleteItemInput, dynamodb.DeleteItemOutput]
	query      clientFunc[dynamodb.QueryInput, dynamodb.QueryOutput]
	scan       clientFunc[dynamodb.ScanInput, dynamodb.ScanOutput]
	batchWrite clientFunc[dynamodb.BatchWriteItemInput, dynamodb.BatchWriteItemOutput]
	batchGet   clientFunc[dynamodb.BatchGetItemInput, dynamodb.BatchGetItemOutput]
}

func (c clientFuncs) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return c.getItem(ctx, in, o...)
}

func (c clientFuncs) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return c.putItem(ctx, in, o...)
}

func (c clientFuncs) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return c.updateItem(ctx, in, o...)
}

func (c clientFuncs) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return c.deleteItem(ctx, in, o...)
}

func (c clientFuncs) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return c.query(ctx, in, o...)
}

func (c clientFuncs) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return c.scan(ctx, in, o...)
}

func (c clientFuncs) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return c.batchWrite(ctx, in, o...)
}

func (c clientFuncs) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return c.batchGet(ctx, in, o...)
}
