package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// The report's and the export's reads, which page through the table.

// limit caps the items per Query or Scan page of the workspace's reads: nil leaves DynamoDB's
// 1 MB pages. The store's tests lower it (export_test.go) so that the paging loops run without
// writing megabytes.
func (s *Store) limit() *int32 {
	if s.pageLimit == 0 {
		return nil
	}
	return aws.Int32(s.pageLimit)
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
