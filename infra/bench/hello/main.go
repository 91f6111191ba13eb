// Command hello is the smallest aws-lambda-go function: the baseline the functions' cold
// starts are measured against (see infra/bench).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return "hello", nil })
}
