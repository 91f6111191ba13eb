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

// Counted is one event Allow counted, for Uncount to take back. The zero value counted
// nothing.
type Counted struct{ pk string }

// RatePrefix begins the partition key of every rate counter.
const RatePrefix = "RATE#"

// Allow counts one event for key in the current fixed window of the given length and returns
// fault.Limited once limit events have been counted in it; a refused event is not counted. The
// window start is part of the item key, so a new window starts from zero without any reset;
// TTL only cleans up old counters. key should already be a keyed hash: counters must not hold
// addresses in clear, nor a hash anyone could reverse by trying every IP address.
func (s *Store) Allow(ctx context.Context, scope, key string, limit int, window time.Duration) (Counted, error) {
	now := s.now()
	start := now.Truncate(window)
	pk := RatePrefix + scope + "#" + key + "#" + strconv.FormatInt(start.Unix(), 10)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      rateKey(pk),
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
		return Counted{}, fmt.Errorf("store: %s: %w", scope, fault.Limited)
	case err != nil:
		return Counted{}, unavailable("store: rate limit", err)
	}
	return Counted{pk: pk}, nil
}

// Uncount takes back an event Allow counted, in the window it was counted in: an event
// refused by another limit must not spend this one (one source over its own limit could
// otherwise spend a victim's address's limit). Taking back the zero Counted does nothing.
func (s *Store) Uncount(ctx context.Context, c Counted) error {
	if c.pk == "" {
		return nil
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       rateKey(c.pk),
		UpdateExpression:          aws.String("ADD #n :minus"),
		ConditionExpression:       aws.String("#n > :zero"),
		ExpressionAttributeNames:  map[string]string{"#n": "n"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":minus": num(-1), ":zero": num(0)},
	})
	switch {
	case isConditionFailed(err):
		return nil // the window's counter is gone (TTL) or at zero: nothing to take back
	case err != nil:
		return unavailable("store: uncount", err)
	}
	return nil
}

func rateKey(pk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{AttrPK: str(pk), AttrSK: str("RATE")}
}

// UnconfirmedWindow is the period of the ceiling on unconfirmed requests: a UTC day.
const UnconfirmedWindow = 24 * time.Hour

// CountUnconfirmed counts one more request getting its confirmation link today, against the
// deployment's ceiling perDay, and returns fault.Limited once it is reached: the intake then
// holds a new request instead of mailing it (dsr.Request.Hold), and the sweep leaves a held
// one for another day. One counter for the whole deployment, so that a flood from many
// addresses and IPs still sends at most perDay links a day.
func (s *Store) CountUnconfirmed(ctx context.Context, perDay int) (Counted, error) {
	return s.Allow(ctx, "unconfirmed", "all", perDay, UnconfirmedWindow)
}
