// Command echo is a test function for the local runner: it answers an HTTP API event
// with the event it received, so tests can check what the runner sent, and it
// misbehaves on request (?mode=…) so tests can check how the runner copes.
// It lives under testdata so that it is never mistaken for one of the product's
// functions, and it must keep compiling: the runner tests build it.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Binary is the body of ?mode=base64: bytes that are not valid UTF-8.
var Binary = []byte{0x00, 0xff, 0xfe, 'e', 'c', 'h', 'o'}

func main() {
	if os.Getenv("ECHO_MODE") == "crash-at-start" {
		fmt.Fprintln(os.Stderr, "echo: refusing to start because ECHO_MODE=crash-at-start")
		os.Exit(3)
	}
	lambda.Start(handle)
}

// envKeys are the variables echoed back, to check what the runner sets.
var envKeys = []string{
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_ACCESS_KEY_ID",
	"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SES", "AWS_ENDPOINT_URL_SESV2", "AWS_ENDPOINT_URL_S3", "_HANDLER", "TZ",
	"TABLE_NAME", "BUCKET", "GREETING", "ECHO_MODE", "BASE_URL",
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		RouteKey string `json:"routeKey"`
	}
	_ = json.Unmarshal(raw, &probe)
	if probe.RouteKey == "" {
		// Not an HTTP API event: a schedule or a direct invoke.
		return map[string]any{"received": raw, "pid": os.Getpid()}, nil
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	q := ev.QueryStringParameters
	switch q["mode"] {
	case "crash":
		fmt.Fprintln(os.Stderr, "echo: crashing as asked")
		os.Exit(2)
	case "slow":
		ms, _ := strconv.Atoi(q["ms"])
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-ctx.Done():
			// Keep running past the deadline, like a handler that ignores its context.
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
	case "error":
		return nil, errors.New("echo: failing as asked")
	case "panic":
		panic("echo: panicking as asked")
	case "string":
		return "plain string", nil
	case "object":
		return map[string]string{"no": "statusCode"}, nil
	case "base64":
		return events.APIGatewayV2HTTPResponse{
			StatusCode:      201,
			Headers:         map[string]string{"content-type": "application/octet-stream"},
			Body:            base64.StdEncoding.EncodeToString(Binary),
			IsBase64Encoded: true,
		}, nil
	}
	env := map[string]string{}
	for _, k := range envKeys {
		env[k] = os.Getenv(k)
	}
	body, err := json.Marshal(map[string]any{"event": json.RawMessage(raw), "env": env, "pid": os.Getpid()})
	if err != nil {
		return nil, err
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode:        200,
		Headers:           map[string]string{"content-type": "application/json", "x-echo": "yes"},
		MultiValueHeaders: map[string][]string{"x-multi": {"a", "b"}},
		Cookies:           []string{"echo=1; Path=/; HttpOnly", "second=2; Path=/"},
		Body:              string(body),
	}, nil
}
