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
	// configurationSet names the SES configuration set each mail is sent with, "" for none.
	// Its event destination publishes bounces and complaints with the mail's tags, which name
	// the request and the mail (Message.Ref, Message.Kind): the desk finds them without a
	// look-up.
	configurationSet string
}

// NewMailer returns a Mailer sending from `from` (an address of a verified SES identity).
func NewMailer(c SES, from string) *Mailer { return &Mailer{ses: c, from: from} }

// Send sends msg. The SDK's retryer already retries throttling; what comes back is final for
// this attempt and the caller records the mail as failed for the sweep to retry.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	utf8 := aws.String("UTF-8")
	in := &ses.SendEmailInput{
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
	}
	if m.configurationSet != "" {
		in.ConfigurationSetName = aws.String(m.configurationSet)
		in.Tags = Tags(msg)
	}
	_, err := m.ses.SendEmail(ctx, in)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSend, err)
	}
	return nil
}

// Tag names the mail's tags carry. SES gives them back in every event of the mail
// (mail.tags), so a bounce names its request and mail.
const (
	TagRef  = "ref"
	TagKind = "kind"
)

// Tags are the SES message tags of msg: the request's reference and the mail's kind, each
// only if SES accepts it as a tag value (ASCII letters, digits, _ and -, at most 256).
func Tags(msg Message) []sestypes.MessageTag {
	var tags []sestypes.MessageTag
	for _, t := range [][2]string{{TagRef, msg.Ref}, {TagKind, string(msg.Kind)}} {
		if tagValue(t[1]) {
			tags = append(tags, sestypes.MessageTag{Name: aws.String(t[0]), Value: aws.String(t[1])})
		}
	}
	return tags
}

func tagValue(v string) bool {
	if v == "" || len(v) > 256 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
