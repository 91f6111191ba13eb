package awsenv

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

// setEnv makes vars the whole AWS environment of the test: every variable either loader reads
// is blanked first, so the developer's own cannot change a case.
func setEnv(t *testing.T, vars ...string) {
	for _, k := range []string{
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY",
		"AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_ACCOUNT_ID", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
		"AWS_ENDPOINT_URL_SES", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

func TestLoadRefuses(t *testing.T) {
	keys := []string{"AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b"}
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no region", keys, "AWS_REGION"},
		{"no credentials", []string{"AWS_REGION=eu-north-1"}, "AWS_ACCESS_KEY_ID"},
		{"no secret", []string{"AWS_REGION=eu-north-1", "AWS_ACCESS_KEY_ID=a"}, "AWS_SECRET_ACCESS_KEY"},
		{"bad retry count", append([]string{"AWS_REGION=eu-north-1", "AWS_MAX_ATTEMPTS=many"}, keys...), "AWS_MAX_ATTEMPTS"},
		{"bad retry mode", append([]string{"AWS_REGION=eu-north-1", "AWS_RETRY_MODE=eager"}, keys...), "AWS_RETRY_MODE"},
		{"bad ignore flag", append([]string{"AWS_REGION=eu-north-1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=yes"}, keys...), "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, tc.env...)
			_, err := Load(os.Getenv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// TestLoadAsTheSDK holds Load to config.LoadDefaultConfig: for every environment a function
// can be given, the clients get the same region, credentials, retries and endpoints.
func TestLoadAsTheSDK(t *testing.T) {
	base := []string{"AWS_REGION=eu-north-1", "AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=secret"}
	tests := []struct {
		name string
		env  []string
	}{
		{"as Lambda sets it", append(base, "AWS_SESSION_TOKEN=token")},
		{"the other names", []string{"AWS_DEFAULT_REGION=eu-west-1", "AWS_ACCESS_KEY=AKID", "AWS_SECRET_KEY=secret"}},
		{"both regions", append(base, "AWS_DEFAULT_REGION=eu-west-1")},
		{"emulators", append(base, "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000", "AWS_ENDPOINT_URL_SES=http://127.0.0.1:8005")},
		{"one endpoint for all", append(base, "AWS_ENDPOINT_URL=http://127.0.0.1:4566")},
		{"a service's endpoint wins", append(base, "AWS_ENDPOINT_URL=http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SES=http://127.0.0.1:8005")},
		{"endpoints ignored", append(base, "AWS_ENDPOINT_URL=http://127.0.0.1:4566", "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true")},
		{"retries", append(base, "AWS_MAX_ATTEMPTS=5", "AWS_RETRY_MODE=adaptive")},
		{"account", append(base, "AWS_ACCOUNT_ID=123456789012")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, tc.env...)
			ctx := t.Context()
			ours, err := Load(os.Getenv)
			if err != nil {
				t.Fatal(err)
			}
			sdk, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, want := describe(ctx, t, ours), describe(ctx, t, sdk)
			if got != want {
				t.Errorf("Load gives\n  %s\nLoadDefaultConfig gives\n  %s", got, want)
			}
		})
	}
}

// describe is what the clients built from cfg will use.
func describe(ctx context.Context, t *testing.T, cfg aws.Config) string {
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, mail := dynamodb.NewFromConfig(cfg).Options(), ses.NewFromConfig(cfg).Options()
	return strings.Join([]string{
		"region " + cfg.Region,
		"keys " + creds.AccessKeyID + "/" + creds.SecretAccessKey + "/" + creds.SessionToken + "/" + creds.AccountID,
		"attempts " + strconv.Itoa(db.RetryMaxAttempts) + " mode " + string(db.RetryMode),
		"dynamodb " + aws.ToString(db.BaseEndpoint), "ses " + aws.ToString(mail.BaseEndpoint),
	}, ", ")
}

// TestLoadReachesTheEmulators loads the configuration the local runner gives a function and
// reaches both emulators through it.
func TestLoadReachesTheEmulators(t *testing.T) {
	env := emulator.Get(t)
	setEnv(t, env.Environ()...)
	cfg, err := Load(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Errorf("DynamoDB through AWS_ENDPOINT_URL_DYNAMODB: %v", err)
	}
	to := "awsenv." + strconv.Itoa(os.Getpid()) + "@example.test"
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
}
