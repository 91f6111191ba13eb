package awscount

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
)

// Replay makes recorded calls again through db and mail: round by round, the calls of a round
// in parallel, with the very inputs the recorded code built. That is the bare AWS work of an
// operation without the code that decided it, the baseline a handler's overhead is measured
// against.
//
// rekey rewrites the value of the partition key "pk" of every item read, written or updated,
// so the replay works on items of its own (a new request, a new rate-limit counter) and its
// conditions hold as they did for the recorded code; a Query's partition ("pk = :v" in its
// key condition) is rekeyed the same way. GetItem, PutItem, UpdateItem, DeleteItem,
// BatchWriteItem, Query and SendEmail can be replayed.
func Replay(ctx context.Context, calls []Call, db *dynamodb.Client, mail *ses.Client, rekey func(string) string) error {
	for _, round := range Rounds(calls) {
		errs := make([]error, len(round))
		var wg sync.WaitGroup
		for i, c := range round {
			wg.Go(func() { errs[i] = replay(ctx, c, db, mail, rekey) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

func replay(ctx context.Context, c Call, db *dynamodb.Client, mail *ses.Client, rekey func(string) string) error {
	var err error
	switch in := c.Input.(type) {
	case *dynamodb.GetItemInput:
		cp := *in
		cp.Key = rekeyed(in.Key, rekey)
		_, err = db.GetItem(ctx, &cp)
	case *dynamodb.PutItemInput:
		cp := *in
		cp.Item = rekeyed(in.Item, rekey)
		_, err = db.PutItem(ctx, &cp)
	case *dynamodb.UpdateItemInput:
		cp := *in
		cp.Key = rekeyed(in.Key, rekey)
		_, err = db.UpdateItem(ctx, &cp)
	case *dynamodb.DeleteItemInput:
		cp := *in
		cp.Key = rekeyed(in.Key, rekey)
		_, err = db.DeleteItem(ctx, &cp)
	case *dynamodb.BatchWriteItemInput:
		cp := *in
		cp.RequestItems = map[string][]ddbtypes.WriteRequest{}
		for table, writes := range in.RequestItems {
			for _, w := range writes {
				if w.PutRequest != nil {
					w.PutRequest = &ddbtypes.PutRequest{Item: rekeyed(w.PutRequest.Item, rekey)}
				}
				if w.DeleteRequest != nil {
					w.DeleteRequest = &ddbtypes.DeleteRequest{Key: rekeyed(w.DeleteRequest.Key, rekey)}
				}
				cp.RequestItems[table] = append(cp.RequestItems[table], w)
			}
		}
		_, err = db.BatchWriteItem(ctx, &cp)
	case *dynamodb.QueryInput:
		cp := *in
		if in.KeyConditionExpression != nil {
			if name := partitionValue(*in.KeyConditionExpression, in.ExpressionAttributeNames); name != "" {
				cp.ExpressionAttributeValues = maps.Clone(in.ExpressionAttributeValues)
				if v, ok := in.ExpressionAttributeValues[name].(*ddbtypes.AttributeValueMemberS); ok {
					cp.ExpressionAttributeValues[name] = &ddbtypes.AttributeValueMemberS{Value: rekey(v.Value)}
				}
			}
		}
		_, err = db.Query(ctx, &cp)
	case *ses.SendEmailInput:
		_, err = mail.SendEmail(ctx, in)
	default:
		return fmt.Errorf("awscount: cannot replay %s %s", c.Service, c.Operation)
	}
	if err != nil {
		return fmt.Errorf("awscount: replay %s: %w", c.Operation, err)
	}
	return nil
}

var keyCondition = regexp.MustCompile(`(#?\w+)\s*=\s*(:\w+)`)

// partitionValue returns the placeholder a key condition compares the table's "pk" with
// (directly or through an attribute name), or "" for a Query on an index.
func partitionValue(cond string, names map[string]string) string {
	for _, m := range keyCondition.FindAllStringSubmatch(cond, -1) {
		attr := m[1]
		if n, ok := names[attr]; ok {
			attr = n
		}
		if attr == "pk" {
			return m[2]
		}
	}
	return ""
}

func rekeyed(item map[string]ddbtypes.AttributeValue, rekey func(string) string) map[string]ddbtypes.AttributeValue {
	out := maps.Clone(item)
	if pk, ok := item["pk"].(*ddbtypes.AttributeValueMemberS); ok {
		out["pk"] = &ddbtypes.AttributeValueMemberS{Value: rekey(pk.Value)}
	}
	return out
}
