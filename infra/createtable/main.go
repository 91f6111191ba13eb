// Command createtable creates the desk's table, as the code defines it, in a DynamoDB
// endpoint: DynamoDB Local for `sam local`, or any emulator. The local runner and the tests
// create their own tables; this is for running the functions in Docker.
//
//	go run ./infra/createtable -endpoint http://127.0.0.1:8000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/store"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:8000", "DynamoDB endpoint")
	// sam local resolves !Ref RequestsTable to the logical id, so that is the name the
	// functions look for unless env.json sets TABLE_NAME.
	table := flag.String("table", "RequestsTable", "table name")
	region := flag.String("region", "us-east-1", "region")
	flag.Parse()

	db := dynamodb.New(dynamodb.Options{
		Region:       *region,
		BaseEndpoint: aws.String(*endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	_, err := db.CreateTable(context.Background(), store.TableDefinition(*table))
	var inUse *ddbtypes.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		fmt.Printf("table %s already exists at %s\n", *table, *endpoint)
	case err != nil:
		fmt.Fprintf(os.Stderr, "createtable: %v\n", err)
		os.Exit(1)
	default:
		fmt.Printf("created table %s at %s\n", *table, *endpoint)
	}
}
