package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsrdesk/dsrdesk/shared/config"
)

// eventFunctions maps the prefix of a file in events/ to the function it is for.
var eventFunctions = map[string]string{
	"intake": "IntakeFunction",
	"admin":  "AdminFunction",
	"portal": "PortalFunction",
	"sweep":  "SweepFunction",
	// A receipt of a mail SES stored first (the sample's message id is put into the bucket
	// here, as a real mail), and a bounce as SNS delivers it.
	"inbound": "InboundFunction",
}

// TestEveryEventWorks invokes each file in events/ with its function, as `sam local invoke
// -e events/<file>` would, through the runner's Lambda Runtime API: a developer must be able
// to try any of them. An HTTP event must get a structured answer that is not a server error
// (most are refusals: the events' cookies and tokens are placeholders); the scheduled one
// must run without a function error.
func TestEveryEventWorks(t *testing.T) {
	d := desk(t)
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no events in events/")
	}
	used := map[string]bool{}
	for _, file := range files {
		name := filepath.Base(file)
		prefix, _, _ := strings.Cut(name, "-")
		fn, ok := eventFunctions[prefix]
		if !ok {
			t.Errorf("%s: no function for the prefix %q; name events <intake|admin|portal|sweep|inbound>-….json", name, prefix)
			continue
		}
		used[fn] = true
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if strings.HasPrefix(name, "inbound-ses") {
				storeSampleMail(t, d, payload)
			}
			out, err := d.Invoke(ctx, fn, payload)
			if err != nil {
				t.Fatalf("invoke %s: %v", fn, err)
			}
			if fn == "SweepFunction" || fn == "InboundFunction" {
				return // no error is the whole contract: Lambda retries and alarms on one
			}
			var res events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("%s answered %s, not an HTTP API response: %v", fn, out, err)
			}
			if res.StatusCode < 200 || res.StatusCode >= 500 {
				t.Errorf("%s: status %d:\n%s", fn, res.StatusCode, out)
			}
			// Only the sample that shows a cross-site post being refused may be refused: the
			// others must work with infra/env.json, as sam local invoke --env-vars uses it.
			if (res.StatusCode == 403) != strings.Contains(name, "cross-site") {
				t.Errorf("%s: status %d", name, res.StatusCode)
			}
			if res.StatusCode != 204 && res.Headers["Content-Type"] == "" {
				t.Errorf("%s: status %d without a Content-Type: %v", fn, res.StatusCode, res.Headers)
			}
			t.Logf("%s → %d", name, res.StatusCode)
		})
	}
	for _, fn := range eventFunctions {
		if !used[fn] {
			t.Errorf("events/ has no sample event for %s", fn)
		}
	}
}

// storeSampleMail puts a mail into the runner's bucket under the sample receipt's message id,
// where SES's S3 action would have put it before invoking the function.
func storeSampleMail(t *testing.T, d *stack, payload []byte) {
	t.Helper()
	var ev events.SimpleEmailEvent
	if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records) == 0 {
		t.Fatalf("not an SES receipt: %v", err)
	}
	bucket := d.InboundBucket()
	if bucket == "" {
		t.Fatal("the runner plays no receipt rule")
	}
	_, err := d.aws.S3(t).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(config.InboundPrefix + ev.Records[0].SES.Mail.MessageID),
		Body: bytes.NewReader(mailFixture(t, "gmail-da-utf8.eml")),
	})
	if err != nil {
		t.Fatal(err)
	}
}
