package notice

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
)

// SES is the part of *ses.Client the mailer uses.
type SES interface {
	SendEmail(ctx context.Context, in *ses.SendEmailInput, opts ...func(*ses.Options)) (*ses.SendEmailOutput, error)
}

// ErrSend is matched by every failed send; the cause is wrapped for the logs.
var ErrSend = errors.New("notice: send failed")

// Mailer sends messages through SES from the configured sender.
type Mailer struct {
	ses  SES
	from string
}

// NewMailer returns a Mailer sending from `from` (an address of a verified SES identity).
func NewMailer(c SES, from string) *Mailer { return &Mailer{ses: c, from: from} }

// Send sends msg. The SDK's retryer already retries throttling; what comes back is final for
// this attempt and the caller records the mail as failed for the sweep to retry.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	utf8 := aws.String("UTF-8")
	_, err := m.ses.SendEmail(ctx, &ses.SendEmailInput{
		Source:           aws.String(m.from),
		Destination:      &sestypes.Destination{ToAddresses: msg.To},
		ReplyToAddresses: msg.ReplyTo,
		Message: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String(msg.Subject), Charset: utf8},
			Body: &sestypes.Body{
				Text: &sestypes.Content{Data: aws.String(msg.Text), Charset: utf8},
				Html: &sestypes.Content{Data: aws.String(msg.HTML), Charset: utf8},
			},
		},
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSend, err)
	}
	return nil
}
