package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/infra/local/internal/emulators"
	"github.com/dsrdesk/dsrdesk/infra/local/internal/lambdart"
)

// Dummy credentials: the emulators want a signed request, not a real identity.
const (
	accessKeyID     = "local"
	secretAccessKey = "local"
)

func (r *Runner) startEmulators(ctx context.Context) error {
	r.DynamoDBEndpoint, r.SESEndpoint = r.opts.DynamoDBEndpoint, r.opts.SESEndpoint
	if r.DynamoDBEndpoint != "" && r.SESEndpoint != "" {
		return nil
	}
	nodeModules, installDir := r.opts.NodeModules, ""
	if nodeModules == "" {
		nodeModules = os.Getenv("DSR_NODE_MODULES")
	}
	if nodeModules == "" {
		installDir = findInfra(r.opts.Dir)
		nodeModules = filepath.Join(installDir, "node_modules")
	}
	if installDir != "" {
		if err := emulators.Install(ctx, nodeModules, installDir, r.log); err != nil {
			return err
		}
	}
	o := emulators.Options{NodeModules: nodeModules, Output: r.out, Logger: r.log}
	if r.DynamoDBEndpoint == "" {
		e, err := emulators.StartDynamoDB(ctx, o, r.opts.DynamoDBPort, r.opts.Persist)
		if err != nil {
			return err
		}
		r.emulators = append(r.emulators, e)
		r.DynamoDBEndpoint = e.Endpoint
	}
	if r.SESEndpoint == "" {
		e, err := emulators.StartSES(ctx, o, r.opts.SESPort)
		if err != nil {
			return err
		}
		r.emulators = append(r.emulators, e)
		r.SESEndpoint = e.Endpoint
	}
	return nil
}

// findInfra returns the nearest infra folder with a package.json at or above dir (the
// template may sit below the project root, as test fixtures do), else <dir>/infra.
func findInfra(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "infra", "package.json")); err == nil {
			return filepath.Join(d, "infra")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, "infra")
		}
	}
}

// createTables creates the template's tables, tolerating ones that exist (persisted
// data, or a shared emulator). TTL and backups are not set: dynalite has no API for them.
func (r *Runner) createTables(ctx context.Context) error {
	tables, err := r.stack.Tables()
	if err != nil {
		return err
	}
	if len(tables) == 0 {
		return nil
	}
	db := dynamodb.New(dynamodb.Options{
		Region:       r.stack.Region,
		BaseEndpoint: aws.String(r.DynamoDBEndpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, ""),
	})
	for _, t := range tables {
		_, err := db.CreateTable(ctx, t.CreateTableInput())
		var inUse *types.ResourceInUseException
		switch {
		case errors.As(err, &inUse):
			r.log.Info("table exists", "table", t.TableName)
		case err != nil:
			return fmt.Errorf("create table %s (%s) at %s: %w", t.LogicalID, t.TableName, r.DynamoDBEndpoint, err)
		default:
			r.log.Info("created table", "table", t.TableName)
		}
		if err := waitActive(ctx, db, t.TableName); err != nil {
			return err
		}
		r.Tables = append(r.Tables, t.TableName)
	}
	return nil
}

func waitActive(ctx context.Context, db *dynamodb.Client, name string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("table %s is still %s after 30s", name, out.Table.TableStatus)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// environment is what a function process sees: the template's variables (with the
// env file's overrides) and then what Lambda itself sets, which a template cannot
// override in AWS either.
func (r *Runner) environment(fn *function, ev envOverrides) []string {
	vars := ev.Apply(fn.def.LogicalID, fn.def.Environment)
	for k, v := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        fn.def.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.def.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.def.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local",
		"AWS_REGION":                      r.stack.Region,
		"AWS_DEFAULT_REGION":              r.stack.Region,
		"AWS_ACCESS_KEY_ID":               accessKeyID,
		"AWS_SECRET_ACCESS_KEY":           secretAccessKey,
		"AWS_ENDPOINT_URL_DYNAMODB":       r.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_SES":            r.SESEndpoint,
		"AWS_ENDPOINT_URL_SESV2":          r.SESEndpoint,
		"AWS_EC2_METADATA_DISABLED":       "true", // no IMDS probing on a laptop
		"LAMBDA_TASK_ROOT":                filepath.Dir(r.bootstrap(fn.def.LogicalID)),
		"_HANDLER":                        fn.def.Handler,
		"TZ":                              "UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            os.Getenv("PATH"),
	} {
		vars[k] = v
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env := make([]string, 0, len(keys))
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	return env
}

type envOverrides interface {
	Apply(logicalID string, env map[string]string) map[string]string
}

// startFunctions starts every function's workers; they start side by side, and the
// first that fails to start fails the runner with its output.
func (r *Runner) startFunctions(ctx context.Context, ev envOverrides) error {
	errs := make([]error, len(r.order))
	done := make(chan int, len(r.order))
	for i, id := range r.order {
		fn := r.functions[id]
		go func() {
			rt, err := lambdart.Start(ctx, lambdart.Config{
				Name:      id,
				ARN:       fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", r.stack.Partition, r.stack.Region, r.stack.AccountID, fn.def.Name),
				Bootstrap: r.bootstrap(id),
				Dir:       filepath.Dir(r.bootstrap(id)),
				Env:       r.environment(fn, ev),
				Timeout:   fn.def.Timeout,
				Workers:   r.opts.Workers,
				Output:    r.out,
				Logger:    r.log,
			})
			fn.rt, errs[i] = rt, err
			done <- i
		}()
	}
	for range r.order {
		<-done
	}
	return errors.Join(errs...)
}
