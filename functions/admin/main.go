// Command admin is the DPO workspace: sign-in by email link, the worklist by deadline, the
// request page with its actions, the report and the CSV export, all under /admin.
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
	after := postresponse.ForLambda(log, "admin-mail") // registers while the rest is built
	cfg, err := config.LoadAdmin(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	aws, err := awsenv.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "admin: aws config:", err)
		os.Exit(1)
	}
	files, err := bucket.New(aws, cfg.Deliveries.Bucket)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	opts := []handlerOption{withFiles(files)}
	if cfg.InboundBucket != "" {
		// The raw mails, for a DPO to open (rawmail.go): signed, never fetched.
		raw, err := bucket.New(aws, cfg.InboundBucket)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		opts = append(opts, withRawMails(raw))
	}
	h, err := newHandler(cfg, store.Client(dynamodb.NewFromConfig(aws)), notice.Client(ses.NewFromConfig(aws)), after, time.Now, log, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.StartHandler(after.Wrap(lambda.NewHandler(h.Handle)))
}
