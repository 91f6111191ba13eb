// Package store keeps requests, rate-limit counters and DPO sessions in one DynamoDB table.
//
// Its errors wrap the kinds of package fault: fault.NotFound (absent or past its expiry),
// fault.Conflict (a condition did not hold: changed concurrently, already taken),
// fault.Limited (over a rate limit) and fault.Unavailable (the table could not be reached),
// with the SDK's error beside it for the logs.
//
// Every state change of a request is one conditional UpdateItem that checks the version the
// change started from and appends the audit event, so a transition and its audit entry can
// never diverge. Nothing here relies on transactions (dynalite, the emulator used in tests and
// local runs, has none) or on TTL deleting anything on time.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// DynamoDB is the part of *dynamodb.Client the store uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// Store reads and writes the table.
type Store struct {
	db        DynamoDB
	table     string
	now       func() time.Time
	retention time.Duration
}

// Option configures a Store.
type Option func(*Store)

// WithClock replaces time.Now, for tests that move time.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithRetention sets how long closed requests are kept before TTL may remove them
// (dsr.Request.KeptUntil); dsr.DefaultRetention without it.
func WithRetention(d time.Duration) Option { return func(s *Store) { s.retention = d } }

// New returns a Store over table.
func New(db DynamoDB, table string, opts ...Option) *Store {
	s := &Store{db: db, table: table, now: time.Now, retention: dsr.DefaultRetention}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Table returns the table name.
func (s *Store) Table() string { return s.table }

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.now() }

// unavailable marks an SDK error as the database being unavailable, keeping the cause.
func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, fault.Unavailable, err)
}

func isConditionFailed(err error) bool {
	var ccf *ddbtypes.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
