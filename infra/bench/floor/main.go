// Command floor is what every function carries before any code of its own: the AWS
// configuration read from the environment (shared/awsenv), a DynamoDB and an SES client making
// the calls the functions make, and html/template, which the pages and mails need.
// infra/bench measures its cold start and size next to the functions', so the table shows
// what is ours to cut.
package main

import (
	"context"
	"fmt"
	"html/template"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/awsenv"
)

func main() {
	cfg, err := awsenv.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	db, mail := dynamodb.NewFromConfig(cfg), ses.NewFromConfig(cfg)
	page := template.Must(template.New("page").Parse(`<p>{{.}}</p>`))
	lambda.Start(func(ctx context.Context) (string, error) {
		// Every operation the functions use, so each is linked in as in theirs.
		_, _ = db.GetItem(ctx, &dynamodb.GetItemInput{})
		_, _ = db.PutItem(ctx, &dynamodb.PutItemInput{})
		_, _ = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{})
		_, _ = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{})
		_, _ = db.Query(ctx, &dynamodb.QueryInput{})
		_, _ = db.Scan(ctx, &dynamodb.ScanInput{})
		_, _ = mail.SendEmail(ctx, &ses.SendEmailInput{})
		var b strings.Builder
		err := page.Execute(&b, "floor")
		return b.String(), err
	})
}
