// Command floors3 is the floor (infra/bench/floor) of a function that also reads from S3:
// the AWS configuration from the environment, DynamoDB, SES and S3 clients making the calls
// the inbound function makes, and html/template. infra/bench holds the inbound function's
// cold start and size to it: what the function adds over the clients it must link.
package main

import (
	"context"
	"fmt"
	"html/template"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/awsenv"
)

func main() {
	cfg, err := awsenv.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	db, mail, objects := dynamodb.NewFromConfig(cfg), ses.NewFromConfig(cfg), s3.NewFromConfig(cfg)
	page := template.Must(template.New("page").Parse(`<p>{{.}}</p>`))
	lambda.Start(func(ctx context.Context) (string, error) {
		// Every operation the inbound function uses, so each is linked in as in it.
		_, _ = objects.GetObject(ctx, &s3.GetObjectInput{})
		_, _ = db.GetItem(ctx, &dynamodb.GetItemInput{})
		_, _ = db.PutItem(ctx, &dynamodb.PutItemInput{})
		_, _ = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{})
		_, _ = db.Query(ctx, &dynamodb.QueryInput{})
		_, _ = db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{})
		_, _ = mail.SendEmail(ctx, &ses.SendEmailInput{})
		var b strings.Builder
		err := page.Execute(&b, "floor")
		return b.String(), err
	})
}
