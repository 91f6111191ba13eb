// Command sweep is the daily escalation sweep: it tells the DPO, in one digest, which requests
// are near or past their Art. 12(3) deadline, reminds and expires unconfirmed requests, and
// retries mails that could not be sent. EventBridge Scheduler invokes it; it can be run by hand
// at any time, as often as wanted.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/awsenv"
	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.LoadSweep(os.Getenv)
	if err != nil {
		fail(err)
	}
	aws, err := awsenv.Load(os.Getenv)
	if err != nil {
		fail(fmt.Errorf("aws config: %w", err))
	}
	s, err := build(cfg, store.Client(dynamodb.NewFromConfig(aws)), notice.Client(ses.NewFromConfig(aws)), time.Now, log, os.Stdout, lambdacontext.FunctionName)
	if err != nil {
		fail(err)
	}
	lambda.Start(s.Handle)
}

// fail ends a cold start that cannot succeed; the message names what to fix.
func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
