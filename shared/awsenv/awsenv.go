// Package awsenv builds the SDK configuration a function runs with from the environment
// Lambda gives it: the region, the execution role's credentials and, locally, the emulators'
// endpoints (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SES).
//
// It reads them with config.NewEnvConfig, the same reader config.LoadDefaultConfig starts
// with, and hands that to the clients as their configuration source, so endpoint overrides
// resolve exactly as they do under LoadDefaultConfig. What it leaves out is the rest of
// LoadDefaultConfig's credential chain (profiles and ~/.aws files, SSO, web identity,
// assume-role, the container and instance metadata endpoints), none of which a Lambda function
// uses: Lambda puts the role's credentials in the environment. That chain holds the STS, SSO,
// SSO OIDC and sign-in clients, which html/template's reflection keeps whole in every binary;
// leaving it out takes about 1.9 MB off each function (see the README's performance section).
package awsenv

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Load returns the configuration for the SDK clients, or an error naming what is missing.
func Load() (aws.Config, error) {
	env, err := config.NewEnvConfig()
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws environment: %w", err)
	}
	return fromEnv(env)
}

func fromEnv(env config.EnvConfig) (aws.Config, error) {
	if env.Region == "" {
		return aws.Config{}, errors.New("aws environment: AWS_REGION is not set (Lambda sets it; set it for a local run)")
	}
	if !env.Credentials.HasKeys() {
		return aws.Config{}, errors.New("aws environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set " +
			"(Lambda sets them from the function's role; set them for a local run)")
	}
	cfg := aws.Config{
		Region:      env.Region,
		Credentials: aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: env.Credentials}),
		// One connection pool for both clients, as LoadDefaultConfig would give them.
		HTTPClient:            awshttp.NewBuildableClient(),
		RetryMaxAttempts:      env.RetryMaxAttempts,
		RetryMode:             env.RetryMode,
		AppID:                 env.AppID,
		AccountIDEndpointMode: env.AccountIDEndpointMode,
		// The clients look up AWS_ENDPOINT_URL_<SERVICE> (and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)
		// in their configuration sources.
		ConfigSources: []any{env},
	}
	if env.BaseEndpoint != "" && (env.IgnoreConfiguredEndpoints == nil || !*env.IgnoreConfiguredEndpoints) {
		cfg.BaseEndpoint = aws.String(env.BaseEndpoint)
	}
	return cfg, nil
}
