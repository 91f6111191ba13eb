package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/infra/emulators"
	"github.com/dsrdesk/dsrdesk/infra/local/internal/lambdart"
)

// needed lists the emulators the stack uses: each that is needed by a resource type
// the template declares (and creates), and those needed always.
func (r *Runner) needed() []*emulators.Emulator {
	var out []*emulators.Emulator
	for _, e := range emulators.All {
		if len(e.Resources) == 0 || slices.ContainsFunc(e.Resources, r.stack.Declares) {
			out = append(out, e)
		}
	}
	return out
}

// checkPorts fails at once, naming the flag, when a fixed port for an emulator the runner
// is to start is busy on 127.0.0.1.
func (r *Runner) checkPorts(context.Context) error {
	var errs []error
	for _, e := range r.needed() {
		port := r.opts.Ports[e]
		if port == 0 || r.opts.Endpoints[e] != "" {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s emulator port 127.0.0.1:%d is busy (another runner, or a test?): choose another with -%s-port, or use a running one with -%s-endpoint: %w",
				e.Service, port, e.ID, e.ID, err))
			continue
		}
		_ = ln.Close()
	}
	return errors.Join(errs...)
}

// startEmulators starts, side by side, each emulator the stack needs that Options does
// not give an endpoint for.
func (r *Runner) startEmulators(ctx context.Context) error {
	var start []*emulators.Emulator
	for _, e := range r.needed() {
		if url := r.opts.Endpoints[e]; url != "" {
			r.Endpoints[e] = url
		} else {
			start = append(start, e)
		}
	}
	if len(start) == 0 {
		return nil
	}
	nodeModules := cmp.Or(r.opts.NodeModules, os.Getenv("DSR_NODE_MODULES"))
	if nodeModules == "" {
		infra, err := emulators.FindInfra(r.opts.Dir)
		if err != nil {
			return err
		}
		if err := emulators.Install(ctx, infra, r.log); err != nil {
			return err
		}
		nodeModules = filepath.Join(infra, "node_modules")
	}
	procs := make([]*emulators.Process, len(start))
	errs := make([]error, len(start))
	var wg sync.WaitGroup
	for i, e := range start {
		o := emulators.Options{NodeModules: nodeModules, Port: r.opts.Ports[e], Output: r.out}
		if e == emulators.DynamoDB {
			o.Dir = r.opts.Persist
		}
		wg.Go(func() { procs[i], errs[i] = emulators.Start(ctx, e, o) })
	}
	wg.Wait()
	for i, p := range procs {
		if p != nil {
			r.emulators = append(r.emulators, p)
			r.Endpoints[start[i]] = p.Endpoint
		}
	}
	return errors.Join(errs...)
}

// createResources creates the template's tables and buckets, tolerating ones that exist
// (persisted data, or a shared emulator). TTL and backups are not set: dynalite has no
// API for them.
func (r *Runner) createResources(ctx context.Context) error {
	tables, err := r.stack.Tables()
	if err != nil {
		return err
	}
	db := emulators.DynamoDBClient(r.Endpoints[emulators.DynamoDB])
	for _, t := range tables {
		_, err := db.CreateTable(ctx, t.CreateTableInput())
		var inUse *types.ResourceInUseException
		switch {
		case errors.As(err, &inUse):
			r.log.Info("table exists", "table", t.TableName)
		case err != nil:
			return fmt.Errorf("create table %s (%s) at %s: %w", t.LogicalID, t.TableName, r.Endpoints[emulators.DynamoDB], err)
		default:
			r.log.Info("created table", "table", t.TableName)
		}
		if err := emulators.WaitActive(ctx, db, t.TableName); err != nil {
			return err
		}
		r.Tables = append(r.Tables, t.TableName)
	}
	buckets, err := r.stack.Buckets()
	if err != nil {
		return err
	}
	for _, b := range buckets {
		created, err := emulators.CreateBucket(ctx, emulators.S3Client(r.Endpoints[emulators.S3]), b.BucketName)
		if err != nil {
			return fmt.Errorf("bucket %s: %w", b.LogicalID, err)
		}
		if created {
			r.log.Info("created bucket", "bucket", b.BucketName)
		} else {
			r.log.Info("bucket exists", "bucket", b.BucketName)
		}
		r.Buckets = append(r.Buckets, b.BucketName)
	}
	return nil
}

// environment is what a function process sees: the template's variables (with the
// env file's overrides) and then what Lambda itself sets, which a template cannot
// override in AWS either.
func (r *Runner) environment(fn *function, ev envOverrides) []string {
	vars := r.withBaseURL(ev.Apply(fn.def.LogicalID, fn.def.Environment))
	for k, v := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        fn.def.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.def.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.def.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local",
		"AWS_REGION":                      r.stack.Region,
		"AWS_DEFAULT_REGION":              r.stack.Region,
		"AWS_ACCESS_KEY_ID":               emulators.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":           emulators.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED":       "true", // no IMDS probing on a laptop
		"LAMBDA_TASK_ROOT":                filepath.Dir(r.bootstrap(fn.def.LogicalID)),
		"_HANDLER":                        fn.def.Handler,
		"TZ":                              "UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            os.Getenv("PATH"),
	} {
		vars[k] = v
	}
	maps.Copy(vars, r.Endpoints.Vars())
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

// withBaseURL sets BASE_URL, for a function that has one, to the URL the options ask for:
// -base-url's, or the runner's own. A function that builds links from a BASE_URL on another
// port sends every link, and every redirect after a post, where nothing listens (and the
// browser refuses the redirect: form-action 'self').
func (r *Runner) withBaseURL(vars map[string]string) map[string]string {
	if _, ok := vars["BASE_URL"]; !ok {
		return vars
	}
	switch {
	case r.opts.BaseURL != "":
		vars["BASE_URL"] = r.opts.BaseURL
	case r.opts.OwnBaseURL:
		vars["BASE_URL"] = r.URL
	}
	return vars
}

type envOverrides interface {
	Apply(logicalID string, env map[string]string) map[string]string
}

// startFunctions starts every function's workers; they start side by side, and the
// first that fails to start fails the runner with its output.
func (r *Runner) startFunctions(ctx context.Context) error {
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
				Env:       r.environment(fn, r.envVars),
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
