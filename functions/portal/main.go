// Command portal is the requester's side of a confirmed request: the status page that the link
// in every mail to them opens, their replies to the controller's questions, and the form that
// mails an address new links to its requests. It runs on AWS Lambda behind the same API
// Gateway HTTP API as the form and the workspace, under /status.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/awsenv"
	"github.com/dsrdesk/dsrdesk/shared/bucket"
	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/postresponse"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	after := postresponse.ForLambda(log, "portal-mail") // registers while the rest is built
	cfg, err := config.LoadPortal(os.Getenv)
	if err != nil {
		fail(err)
	}
	awsCfg, err := awsenv.Load(os.Getenv)
	if err != nil {
		fail(fmt.Errorf("aws config: %w", err))
	}
	files, err := bucket.New(awsCfg, cfg.Deliveries.Bucket)
	if err != nil {
		fail(err)
	}
	h, err := build(cfg, store.Client(dynamodb.NewFromConfig(awsCfg)), notice.Client(ses.NewFromConfig(awsCfg)), files, after, time.Now, log)
	if err != nil {
		fail(err)
	}
	lambda.StartHandler(after.Wrap(lambda.NewHandler(h.Handle)))
}

// fail ends a cold start that cannot succeed; the message names what to fix.
func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
