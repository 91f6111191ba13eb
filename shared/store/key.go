package store

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// KeyPrefix begins the partition key of the deployment's secret key (shared/keyed).
const KeyPrefix = "KEY#"

// keySize is the secret's length: 256 bits.
const keySize = 32

func deploymentKeyKey() map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{AttrPK: str(KeyPrefix + "deployment"), AttrSK: str("KEY")}
}

// DeploymentKey returns the deployment's secret key, making it on first use: 256 random bits,
// stored once by a conditional put, so that of two containers making it at once both end up
// with the one that was stored. It never expires; deleting the item makes a new one, which
// starts every rate counter afresh and makes forms rendered before it unreadable.
func (s *Store) DeploymentKey(ctx context.Context) ([]byte, error) {
	for range 2 {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(s.table),
			Key:            deploymentKeyKey(),
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, unavailable("store: get key", err)
		}
		if b, ok := out.Item["secret"].(*ddbtypes.AttributeValueMemberB); ok && len(b.Value) == keySize {
			return b.Value, nil
		}
		secret := make([]byte, keySize)
		_, _ = rand.Read(secret)
		item := deploymentKeyKey()
		item["secret"] = &ddbtypes.AttributeValueMemberB{Value: secret}
		item["created_at"] = str(TimeKey(s.now()))
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(s.table),
			Item:                item,
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		switch {
		case err == nil:
			return secret, nil
		case !isConditionFailed(err):
			return nil, unavailable("store: create key", err)
		}
		// Another container stored one first: read that one.
	}
	return nil, fmt.Errorf("store: the deployment key is stored but unreadable")
}
