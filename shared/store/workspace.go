package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// The DPO workspace's reads. The sweep index already holds exactly the requests someone must
// act on, so the worklist is a query on it; the rarer lookups (by address, the yearly report,
// the export) scan the table, which for a small company's few thousand requests is a handful
// of pages and needs no index of its own.

// limit caps the items per Query or Scan page of the workspace's reads: nil leaves DynamoDB's
// 1 MB pages. The store's tests lower it (export_test.go) so that the paging loops run without
// writing megabytes.
func (s *Store) limit() *int32 {
	if s.pageLimit == 0 {
		return nil
	}
	return aws.Int32(s.pageLimit)
}

// ActiveRequests returns the confirmed requests awaiting an answer (open, in progress), sorted
// by the deadline in force, earliest first.
func (s *Store) ActiveRequests(ctx context.Context) ([]*dsr.Request, error) {
	rs, err := s.sweepPartition(ctx, dsr.QueueOpen)
	if err != nil {
		return nil, err
	}
	// The index is eventually consistent and sweep_at may be pulled forward by a mail retry,
	// so the status is checked again and the order is the deadline's, not the index's.
	out := rs[:0]
	for _, r := range rs {
		if r.Status.Active() {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, dsr.ByDeadline)
	return out, nil
}

// UnverifiedRequests returns the requests still waiting for the requester's confirmation,
// oldest first.
func (s *Store) UnverifiedRequests(ctx context.Context) ([]*dsr.Request, error) {
	rs, err := s.sweepPartition(ctx, dsr.QueueUnverified)
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, r := range rs {
		if r.Status == dsr.PendingVerification {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ReceivedAt.Before(out[j].ReceivedAt) })
	return out, nil
}

func (s *Store) sweepPartition(ctx context.Context, q dsr.Queue) ([]*dsr.Request, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(SweepIndex),
		KeyConditionExpression:    aws.String("#p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": AttrSweepPK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": str(string(q))},
		Limit:                     s.limit(),
	}
	var out []*dsr.Request
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, unavailable("store: query "+string(q), err)
		}
		if out, err = s.appendRequests(out, page.Items); err != nil {
			return nil, err
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// RequestsByEmail returns every request (in any status, closed ones too) filed from email,
// newest first. It scans the table with a filter on the address hash: the DPO workspace is
// not a public route and searches are rare, so an index that only this lookup would use is
// not worth its write cost. Expired requests no longer hold an address and are not found.
func (s *Store) RequestsByEmail(ctx context.Context, email string) ([]*dsr.Request, error) {
	var out []*dsr.Request
	err := s.scanRequests(ctx, "email_hash = :h", map[string]ddbtypes.AttributeValue{":h": str(dsr.HashEmail(email))},
		func(r *dsr.Request) error { out = append(out, r); return nil })
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ReceivedAt.After(out[j].ReceivedAt) })
	return out, nil
}

// EachRequest calls fn for every stored request, in no particular order, page by page, so the
// report and the export never hold more than one page of raw items. An error from fn stops
// the scan and is returned as is.
func (s *Store) EachRequest(ctx context.Context, fn func(*dsr.Request) error) error {
	return s.scanRequests(ctx, "", nil, fn)
}

func (s *Store) scanRequests(ctx context.Context, filter string, values map[string]ddbtypes.AttributeValue, fn func(*dsr.Request) error) error {
	// Rate counters, sign-in links and sessions share the table; only request items count.
	expr := "#sk = :req"
	vals := map[string]ddbtypes.AttributeValue{":req": str(requestSK)}
	if filter != "" {
		expr += " AND " + filter
		for k, v := range values {
			vals[k] = v
		}
	}
	in := &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		FilterExpression:          aws.String(expr),
		ExpressionAttributeNames:  map[string]string{"#sk": AttrSK},
		ExpressionAttributeValues: vals,
		Limit:                     s.limit(),
	}
	for {
		page, err := s.db.Scan(ctx, in)
		if err != nil {
			return unavailable("store: scan requests", err)
		}
		rs, err := s.appendRequests(nil, page.Items)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// appendRequests decodes items, leaving out those past their expiry (TTL deletes lazily).
func (s *Store) appendRequests(out []*dsr.Request, items []map[string]ddbtypes.AttributeValue) ([]*dsr.Request, error) {
	for _, av := range items {
		r, err := s.decodeRequest(av)
		switch {
		case errors.Is(err, fault.NotFound):
			continue
		case err != nil:
			return nil, fmt.Errorf("store: list requests: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}
