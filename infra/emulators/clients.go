package emulators

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Config is a config for the emulators: Region and the dummy static credentials. It is
// built by hand rather than with config.LoadDefaultConfig so that a developer's ~/.aws
// files, profile or session token cannot leak in. It carries no endpoint (aws.Config has
// only a global one): set BaseEndpoint on each client's options.
func Config() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	}
}

// DynamoDBClient returns a client for the DynamoDB emulator at endpoint.
func DynamoDBClient(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// S3Client returns a client for the S3 emulator at endpoint, with path-style addressing:
// http://127.0.0.1:port/bucket/key, since a bucket name in front of 127.0.0.1 resolves to
// nothing.
func S3Client(endpoint string) *s3.Client {
	return s3.NewFromConfig(Config(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
}

// WaitActive waits until the table and each of its global secondary indexes is ACTIVE.
// The SDK's TableExists waiter checks only the table and polls every 20 s by default.
func WaitActive(ctx context.Context, db *dynamodb.Client, table string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", table, err)
		}
		active := out.Table.TableStatus == dbtypes.TableStatusActive
		for _, gsi := range out.Table.GlobalSecondaryIndexes {
			active = active && gsi.IndexStatus == dbtypes.IndexStatusActive
		}
		if active {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table %s is still %s: %w", table, out.Table.TableStatus, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// CreateBucket creates a bucket, or finds it there already (kept data, or a shared
// emulator), and reports which.
func CreateBucket(ctx context.Context, client *s3.Client, name string) (created bool, err error) {
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	switch {
	case errors.As(err, &owned), errors.As(err, &exists):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("create bucket %s: %w", name, err)
	}
	return true, nil
}
