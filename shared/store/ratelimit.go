package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// Allow counts one event for key in the current fixed window of the given length and returns
// fault.Limited once limit events have been counted in it. The window start is part of the item
// key, so a new window starts from zero without any reset; TTL only cleans up old counters.
// key should already be a hash: counters must not hold addresses in clear.
func (s *Store) Allow(ctx context.Context, scope, key string, limit int, window time.Duration) error {
	now := s.now()
	start := now.Truncate(window)
	pk := "RATE#" + scope + "#" + key + "#" + strconv.FormatInt(start.Unix(), 10)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key: map[string]ddbtypes.AttributeValue{
			AttrPK: str(pk),
			AttrSK: str("RATE"),
		},
		UpdateExpression:         aws.String("ADD #n :one SET #exp = :exp"),
		ConditionExpression:      aws.String("attribute_not_exists(#n) OR #n < :limit"),
		ExpressionAttributeNames: map[string]string{"#n": "n", "#exp": AttrExpiresAt},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":one":   num(1),
			":limit": num(limit),
			":exp":   num64(start.Add(2 * window).Unix()),
		},
	})
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: %s: %w", scope, fault.Limited)
	case err != nil:
		return unavailable("store: rate limit", err)
	}
	return nil
}
