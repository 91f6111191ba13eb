package errlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/notice"
)

var errMine = errors.New("mine")

func TestAttrKeepsPersonalDataOut(t *testing.T) {
	sesErr := &smithy.OperationError{ServiceID: "SES", OperationName: "SendEmail",
		Err: &smithy.GenericAPIError{Code: "MessageRejected", Message: "Email address is not verified: jens@example.dk"}}
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: %w", notice.ErrSend, sesErr), `"error":{"kind":"send","op":"SES.SendEmail","code":"MessageRejected"}`},
		{fmt.Errorf("get: %w", fault.Unavailable), `"error":{"kind":"store_unavailable"}`},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), `"error":{"kind":"timeout"}`},
		{fmt.Errorf("x: %w", errMine), `"error":{"kind":"out_of_time"}`},
		{errors.New("boom jens@example.dk"), `"error":{"kind":"other"}`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		slog.New(slog.NewJSONHandler(&b, nil)).Info("x", Attr(tt.err, Kind{errMine, "out_of_time"}))
		if !strings.Contains(b.String(), tt.want) || strings.Contains(b.String(), "@") {
			t.Errorf("%v logged as %s, want %s", tt.err, b.String(), tt.want)
		}
	}
}
