package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/smithy-go"

	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// errAttr describes an error for the log without its text: an SES error can name the
// recipient's address, and the log must not. The kind of failure, the operation and the API
// error code are what an operator needs to act.
func errAttr(err error) slog.Attr {
	var kind string
	switch {
	case errors.Is(err, errOutOfTime):
		kind = "out_of_time"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		kind = "timeout"
	case errors.Is(err, store.ErrUnavailable):
		kind = "store_unavailable"
	case errors.Is(err, store.ErrConflict):
		kind = "conflict"
	case errors.Is(err, notice.ErrSend):
		kind = "send"
	default:
		kind = "other"
	}
	attrs := []any{"kind", kind}
	var op *smithy.OperationError
	if errors.As(err, &op) {
		attrs = append(attrs, "op", op.Service()+"."+op.Operation())
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		attrs = append(attrs, "code", api.ErrorCode())
	}
	return slog.Group("error", attrs...)
}
