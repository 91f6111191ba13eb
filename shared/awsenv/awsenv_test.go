package awsenv

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/dsrdesk/dsrdesk/shared/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

// clearEnv blanks every variable Load reads, so the developer's own cannot change a case.
func clearEnv(t *testing.T) {
	for _, k := range []string{
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY",
		"AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
		"AWS_ENDPOINT_URL_SES", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
	} {
		t.Setenv(k, "")
	}
}

func setEnv(t *testing.T, vars []string) {
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no region", []string{"AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b"}, "AWS_REGION"},
		{"no credentials", []string{"AWS_REGION=eu-north-1"}, "AWS_ACCESS_KEY_ID"},
		{"no secret", []string{"AWS_REGION=eu-north-1", "AWS_ACCESS_KEY_ID=a"}, "AWS_SECRET_ACCESS_KEY"},
		{"bad retry count", []string{"AWS_REGION=eu-north-1", "AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b", "AWS_MAX_ATTEMPTS=many"}, "AWS_MAX_ATTEMPTS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			setEnv(t, tc.env)
			_, err := Load()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load() error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// TestLoadAsLambda loads the configuration from the variables Lambda (or the local runner)
// sets and reaches both emulators through the per-service endpoint variables, as the
// functions do.
func TestLoadAsLambda(t *testing.T) {
	env := emulator.Get(t)
	tests := []struct {
		name  string
		extra []string
		want  string // the retry count the clients get
	}{
		{"defaults", nil, "0"},
		{"session token and retries", []string{"AWS_SESSION_TOKEN=token", "AWS_MAX_ATTEMPTS=5"}, "5"},
		{"global endpoint elsewhere", []string{"AWS_ENDPOINT_URL=http://127.0.0.1:1"}, "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			setEnv(t, env.Environ())
			setEnv(t, tc.extra)
			cfg, err := Load()
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Region; got != emulator.Region {
				t.Errorf("Region = %q, want %q", got, emulator.Region)
			}
			if got := strconv.Itoa(cfg.RetryMaxAttempts); got != tc.want {
				t.Errorf("RetryMaxAttempts = %s, want %s", got, tc.want)
			}
			ctx := t.Context()
			if _, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
				t.Errorf("DynamoDB through AWS_ENDPOINT_URL_DYNAMODB: %v", err)
			}
			to := "awsenv." + strings.ReplaceAll(tc.name, " ", "-") + "@example.test"
			_, err = ses.NewFromConfig(cfg).SendEmail(ctx, &ses.SendEmailInput{
				Source:      aws.String("no-reply@example.test"),
				Destination: &sestypes.Destination{ToAddresses: []string{to}},
				Message: &sestypes.Message{
					Subject: &sestypes.Content{Data: aws.String("awsenv")},
					Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("awsenv")}},
				},
			})
			if err != nil {
				t.Fatalf("SES through AWS_ENDPOINT_URL_SES: %v", err)
			}
			if n := len(env.Mails(t, to)); n != 1 {
				t.Errorf("%d mails to %s in the SES emulator, want 1", n, to)
			}
		})
	}
}
