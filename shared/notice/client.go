package notice

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ses"
)

// Client hands an SES client to the mailer through SendEmail alone, which keeps SES's seventy
// other operations out of the function binaries (see store.Client for why the linker would
// keep them). main passes its client through Client; tests may pass the client itself.
func Client(c *ses.Client) SES { return sendEmail(c.SendEmail) }

type sendEmail func(context.Context, *ses.SendEmailInput, ...func(*ses.Options)) (*ses.SendEmailOutput, error)

func (f sendEmail) SendEmail(ctx context.Context, in *ses.SendEmailInput, o ...func(*ses.Options)) (*ses.SendEmailOutput, error) {
	return f(ctx, in, o...)
}
