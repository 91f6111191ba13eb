package store

import (
	"errors"
	"fmt"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

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
