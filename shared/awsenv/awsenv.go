// Package awsenv builds the SDK configuration a function runs with from the environment
// Lambda gives it: the region, the execution role's credentials and, locally, the emulators'
// endpoints (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SES).
//
// It reads the variables config.LoadDefaultConfig reads first, the way it reads them (a test
// holds the two to the same answers), and leaves the rest of that function's credential chain
// out: profiles and ~/.aws files, SSO, web identity, assume-role and the container and
// instance metadata endpoints, none of which a function uses, since Lambda puts the role's
// credentials in the environment. That chain is most of what importing the config package
// costs: the STS, SSO, SSO OIDC and sign-in clients, whose packages initialize their endpoint
// tables and schemas at every cold start and which html/template's reflection keeps whole in
// the binary: 2.2 MB of each arm64 binary and about 0.4× hello's time of each cold start
// (README, Performance). Endpoint overrides still resolve in the SDK's own code: the clients
// ask the configuration source given here, as they would ask config's.
package awsenv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Load returns the configuration for the SDK clients from getenv (os.Getenv), or an error
// naming what is missing or malformed.
func Load(getenv func(string) string) (aws.Config, error) {
	env := source{getenv: getenv}
	region := first(getenv, "AWS_REGION", "AWS_DEFAULT_REGION")
	if region == "" {
		return aws.Config{}, errors.New("aws environment: AWS_REGION is not set (Lambda sets it; set it for a local run)")
	}
	creds := aws.Credentials{
		AccessKeyID:     first(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
		SecretAccessKey: first(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		AccountID:       getenv("AWS_ACCOUNT_ID"),
		Source:          "EnvConfigCredentials",
	}
	if !creds.HasKeys() {
		return aws.Config{}, errors.New("aws environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set " +
			"(Lambda sets them from the function's role; set them for a local run)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: creds}),
		// One connection pool for both clients, as LoadDefaultConfig would give them.
		HTTPClient: awshttp.NewBuildableClient(),
		// The clients look up AWS_ENDPOINT_URL_<SERVICE> and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
		// here.
		ConfigSources: []any{env},
	}
	if v := getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return aws.Config{}, fmt.Errorf("aws environment: AWS_MAX_ATTEMPTS=%q is not a number of attempts", v)
		}
		cfg.RetryMaxAttempts = n
	}
	if v := getenv("AWS_RETRY_MODE"); v != "" {
		mode, err := aws.ParseRetryMode(v)
		if err != nil {
			return aws.Config{}, fmt.Errorf("aws environment: AWS_RETRY_MODE: %w", err)
		}
		cfg.RetryMode = mode
	}
	ignore, err := env.ignoreEndpoints()
	if err != nil {
		return aws.Config{}, err
	}
	if v := getenv("AWS_ENDPOINT_URL"); v != "" && !ignore {
		cfg.BaseEndpoint = aws.String(v)
	}
	return cfg, nil
}

// source answers the clients' questions about configured endpoints from the environment.
type source struct{ getenv func(string) string }

// GetServiceBaseEndpoint is AWS_ENDPOINT_URL_<SERVICE>, the SDK id upper-cased with
// underscores for spaces (DynamoDB → AWS_ENDPOINT_URL_DYNAMODB).
func (s source) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := s.getenv("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}

// GetIgnoreConfiguredEndpoints is AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (s source) GetIgnoreConfiguredEndpoints(context.Context) (value, found bool, err error) {
	if s.getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "" {
		return false, false, nil
	}
	v, err := s.ignoreEndpoints()
	return v, err == nil, err
}

func (s source) ignoreEndpoints() (bool, error) {
	switch v := strings.ToLower(s.getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, fmt.Errorf("aws environment: AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=%q is not true or false", v)
	}
}

func first(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}
