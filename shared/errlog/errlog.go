// Package errlog turns an error into log attributes without its text. An SES error can quote
// the recipient's address and a DynamoDB error a key holding a reference or a hashed address;
// the log must hold neither personal data nor anything an operator does not need. What an
// operator needs to act is the kind of failure, the AWS operation and its error code.
package errlog

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/smithy-go"

	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/notice"
)

// Kind names a caller's own sentinel error, checked before the common ones.
type Kind struct {
	Err  error
	Name string
}

// Attr describes err as the group "error" with kind, op and code.
func Attr(err error, own ...Kind) slog.Attr {
	kind := "other"
	for _, k := range own {
		if errors.Is(err, k.Err) {
			kind = k.Name
			break
		}
	}
	if kind == "other" {
		kind = commonKind(err)
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

func commonKind(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	case errors.Is(err, notice.ErrSend):
		return "send"
	}
	return fault.Of(err).String()
}
