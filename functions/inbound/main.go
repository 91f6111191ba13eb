// Command inbound takes what comes back to the desk by mail: mail to the privacy address
// (SES receipt rule: the raw message in the inbound bucket, then this function), which
// becomes a request, joins the conversation of the request it answers, or is quarantined for the
// DPO; and SES's bounce and complaint notifications (configuration set → SNS → this
// function), which mark the mail that did not reach the requester on its request.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/awsenv"
	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.LoadInbound(os.Getenv)
	if err != nil {
		fail(err)
	}
	aws, err := awsenv.Load(os.Getenv)
	if err != nil {
		fail(fmt.Errorf("aws config: %w", err))
	}
	// An S3 emulator is reached by path (bucket names do not resolve on 127.0.0.1).
	pathStyle := os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	objects := getObject(s3.NewFromConfig(aws, func(o *s3.Options) { o.UsePathStyle = pathStyle }).GetObject)
	h, err := build(cfg, store.Client(dynamodb.NewFromConfig(aws)), notice.Client(ses.NewFromConfig(aws)), objects, time.Now, log)
	if err != nil {
		fail(err)
	}
	lambda.Start(h.Handle)
}

// fail ends a cold start that cannot succeed; the message names what to fix.
func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
