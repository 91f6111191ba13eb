// Package runner is the Docker-less stand-in for sam local start-api: it reads
// template.yaml, starts the AWS emulators it needs through the one launcher
// (infra/emulators), creates the tables and buckets, builds every function for the host,
// runs each behind a Lambda Runtime API, serves the HTTP API routes and fires the
// schedules. Resources of other types are not run.
//
// The command in infra/local only parses flags; tests start the same runner with
// Start and free ports.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/emulators"
	"github.com/dsrdesk/dsrdesk/infra/local/internal/httpapi"
	"github.com/dsrdesk/dsrdesk/infra/local/internal/lambdart"
	"github.com/dsrdesk/dsrdesk/infra/proc"
	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
)

// Options configures a runner. The zero value of a port or address means a free
// loopback port; the command's flags supply the fixed defaults (3000, and each
// emulator's Port).
type Options struct {
	// Template is the path to template.yaml (-template). Required.
	Template string
	// Dir is the project root: CodeUri paths are relative to it. Default: the
	// template's folder.
	Dir string
	// EnvFile is a sam local --env-vars JSON file (-env-file); empty for none.
	EnvFile string
	// Parameters override template parameter Defaults (-param Key=Value).
	Parameters map[string]string
	// Addr is where the HTTP API listens (-addr). Default 127.0.0.1:0.
	Addr string
	// BaseURL, if set, is every function's BASE_URL, whatever the template and the env file
	// say (-base-url). OwnBaseURL makes it the runner's own URL once it listens, so the links
	// in mails and the redirects after a post lead where it serves (the command's default
	// when BASE_URL is not set explicitly).
	BaseURL    string
	OwnBaseURL bool
	// Endpoints are emulators already running (-dynamodb-endpoint, -ses-endpoint, …):
	// the runner uses them instead of starting its own.
	Endpoints emulators.Endpoints
	// Ports are where the runner starts its emulators (-dynamodb-port, -ses-port, …);
	// missing or 0: a free port.
	Ports map[*emulators.Emulator]int
	// Persist keeps dynalite's data in this folder (-persist); empty: in memory.
	Persist string
	// Workers is the number of processes per function (-workers); default 1.
	Workers int
	// NoSchedules stops ScheduleV2 events from firing (-no-schedules); they can still be
	// invoked on demand.
	NoSchedules bool
	// NodeModules holds the emulators' npm packages. Default: $DSR_NODE_MODULES, else
	// infra/node_modules in the nearest folder at or above Dir that has an
	// infra/package.json, installed with npm ci --prefix <that>/infra if missing.
	NodeModules string
	// Region, StackName and AccountID are the local pseudo parameters and what the
	// functions see as AWS_REGION (defaults: samtemplate's).
	Region    string
	StackName string
	AccountID string
	// Output receives the functions' and emulators' output, one prefixed line at a
	// time. Default os.Stdout.
	Output io.Writer
	// Logger gets the runner's own logs, one line per invocation. Default
	// slog.Default().
	Logger *slog.Logger
}

// Runner is a running local stack.
type Runner struct {
	// Addr is the HTTP API's bound host:port and URL its base URL, no trailing slash.
	Addr string
	URL  string
	// Endpoints are the base URLs of the emulators in use, started or given.
	Endpoints emulators.Endpoints
	// Tables and Buckets are the names created from the template.
	Tables  []string
	Buckets []string

	opts      Options
	log       *slog.Logger
	envVars   samtemplate.EnvVars
	stack     *samtemplate.Stack
	functions map[string]*function
	order     []string
	router    *httpapi.Router
	ln        net.Listener
	srv       *http.Server
	emulators []*emulators.Process
	buildDir  string
	schedules []*scheduled
	// rules are the template's receipt rules: POST /_local/inbound plays the first.
	rules []*samtemplate.ReceiptRule

	out       *proc.Output
	stopCtx   context.Context
	stopAll   context.CancelFunc
	bg        sync.WaitGroup
	stopOnce  sync.Once
	done      chan struct{}
	closeDone func()
	errMu     sync.Mutex
	err       error
}

type function struct {
	def *samtemplate.Function
	rt  *lambdart.Function
}

// Start brings the stack up and returns once every function has polled for work. ctx
// bounds the start-up only; the runner runs until Stop. On error everything started so
// far is stopped.
func Start(ctx context.Context, opts Options) (*Runner, error) {
	if opts.Template == "" {
		return nil, errors.New("no template: set Options.Template (-template)")
	}
	r := newRunner(opts)
	for _, step := range []func(context.Context) error{
		r.load,
		r.checkPorts, // cheap, before the slow steps, so that a busy port fails at once
		r.build,
		r.startEmulators,
		r.createResources,
		r.startFunctions,
	} {
		if err := step(ctx); err != nil {
			r.Stop()
			return nil, err
		}
	}
	r.serve()
	return r, nil
}

func newRunner(opts Options) *Runner {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Output == nil {
		opts.Output = os.Stdout
	}
	opts.Workers = max(opts.Workers, 1)
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	r := &Runner{opts: opts, log: opts.Logger, functions: map[string]*function{}, done: make(chan struct{}),
		out: proc.NewOutput(opts.Output), Endpoints: emulators.Endpoints{}}
	r.closeDone = sync.OnceFunc(func() { close(r.done) })
	r.stopCtx, r.stopAll = context.WithCancel(context.Background())
	return r
}

// load reads the template and the env file, binds the HTTP API's address and resolves
// the stack. It binds first so that the URL is known before the functions' environment
// is resolved: !GetAtt <Api>.ApiEndpoint resolves to it.
func (r *Runner) load(context.Context) error {
	tplPath, err := filepath.Abs(r.opts.Template)
	if err != nil {
		return fmt.Errorf("template path: %w", err)
	}
	if r.opts.Dir == "" {
		r.opts.Dir = filepath.Dir(tplPath)
	}
	tpl, err := samtemplate.ParseFile(tplPath)
	if err != nil {
		return err
	}
	if r.opts.EnvFile != "" {
		if r.envVars, err = samtemplate.ReadEnvVars(r.opts.EnvFile); err != nil {
			return fmt.Errorf("-env-file: %w", err)
		}
	}
	if r.ln, err = net.Listen("tcp", r.opts.Addr); err != nil {
		return fmt.Errorf("HTTP API address %s is not available: choose another with -addr: %w", r.opts.Addr, err)
	}
	r.Addr = r.ln.Addr().String()
	r.URL = "http://" + r.Addr
	attrs := map[string]string{"ServerlessHttpApi.ApiEndpoint": r.URL}
	for _, id := range tpl.IDs(samtemplate.TypeHTTPAPI) {
		attrs[id+".ApiEndpoint"] = r.URL
	}
	r.stack, err = tpl.Stack(samtemplate.StackOptions{
		Parameters: r.opts.Parameters, StackName: r.opts.StackName, Region: r.opts.Region, AccountID: r.opts.AccountID,
		Attributes: attrs,
	})
	if err != nil {
		return err
	}
	if err := r.plan(); err != nil {
		return err
	}
	if empty := r.emptyVariables(r.envVars); len(r.stack.Unset) > 0 && len(empty) > 0 {
		r.log.Warn("variables are empty: parameters without a Default or -param resolve to \"\"; set the variables in the -env-file or pass -param",
			"parameters", strings.Join(r.stack.Unset, ","), "variables", strings.Join(empty, ","))
	}
	return nil
}

// serve starts the HTTP API, the watch on the emulators and the schedules.
func (r *Runner) serve() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_local/invoke/{function}", r.serveInvoke)
	mux.HandleFunc("POST /_local/inbound", r.serveInbound)
	mux.Handle("/", &httpapi.Handler{
		Router:  r.router,
		Invoke:  r.Invoke,
		Context: httpapi.Context{AccountID: r.stack.AccountID},
		Logger:  r.log,
	})
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	r.bg.Go(func() {
		if err := r.srv.Serve(r.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.fail(fmt.Errorf("HTTP API server: %w", err))
		}
	})
	for _, e := range r.emulators {
		r.bg.Go(func() {
			select {
			case <-e.Exited():
				r.fail(fmt.Errorf("%s exited", e.Emulator.Bin))
			case <-r.stopCtx.Done():
			}
		})
	}
	if !r.opts.NoSchedules {
		r.startSchedules()
	}
}

// emptyVariables lists, as Function.VARIABLE, the variables the template declares that are
// still empty once the env file is applied, leaving out the endpoints the runner sets itself.
// Only these matter when a parameter has no value: one whose variables the env file sets
// (infra/env.json sets them all) deserves no warning.
func (r *Runner) emptyVariables(ev envOverrides) []string {
	var out []string
	for _, id := range r.order {
		for k, v := range ev.Apply(id, r.functions[id].def.Environment) {
			if v == "" && !strings.HasPrefix(k, "AWS_ENDPOINT_URL_") {
				out = append(out, id+"."+k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// plan reads the functions and routes from the stack and checks the schedules parse.
func (r *Runner) plan() error {
	fns, err := r.stack.Functions()
	if err != nil {
		return err
	}
	if len(fns) == 0 {
		return errors.New("the template declares no AWS::Serverless::Function")
	}
	var routes []httpapi.Route
	for _, fn := range fns {
		r.functions[fn.LogicalID] = &function{def: fn}
		r.order = append(r.order, fn.LogicalID)
		for _, e := range fn.HTTPAPIEvents {
			if e.PayloadFormatVersion != "2.0" {
				return fmt.Errorf("function %s, event %s: PayloadFormatVersion %s is not supported locally (only 2.0)", fn.LogicalID, e.Name, e.PayloadFormatVersion)
			}
			routes = append(routes, httpapi.Route{Key: e.RouteKey(), Function: fn.LogicalID, APIID: e.APIID})
		}
		if fn.CodeURI == "" {
			return fmt.Errorf("function %s has no CodeUri", fn.LogicalID)
		}
	}
	if r.router, err = httpapi.NewRouter(routes); err != nil {
		return err
	}
	if r.rules, err = r.stack.ReceiptRules(); err != nil {
		return err
	}
	return r.planSchedules()
}

// Banner tells a developer where everything is.
func (r *Runner) Banner() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\ndsrdesk local runner (stands in for sam local start-api)\n\n")
	fmt.Fprintf(&b, "  request form    %s/\n", r.URL)
	fmt.Fprintf(&b, "  DPO workspace   %s/admin\n", r.URL)
	fmt.Fprintf(&b, "  status pages    %s/status/lost  (each requester's opens from the link in their mails)\n", r.URL)
	fmt.Fprintf(&b, "  mail viewer     %s/\n", r.Endpoints[emulators.SES])
	fmt.Fprintf(&b, "  DynamoDB        %s  (tables: %s)\n", r.Endpoints[emulators.DynamoDB], strings.Join(r.Tables, ", "))
	if url := r.Endpoints[emulators.S3]; url != "" {
		fmt.Fprintf(&b, "  S3              %s  (buckets: %s)\n", url, strings.Join(r.Buckets, ", "))
	}
	fmt.Fprintf(&b, "\n  routes\n")
	for _, rt := range r.router.Keys() {
		fmt.Fprintf(&b, "    %-36s %s\n", rt.Key, rt.Function)
	}
	if len(r.schedules) > 0 {
		fmt.Fprintf(&b, "\n  schedules\n")
		for _, s := range r.schedules {
			fmt.Fprintf(&b, "    %-36s %s %s (%s)%s\n", s.fn+"."+s.ev.Name, s.ev.ScheduleExpression, s.ev.Timezone, s.ev.State, s.nextText(r.opts.NoSchedules))
		}
	}
	if len(r.rules) > 0 {
		fmt.Fprintf(&b, "\n  mail to %s (as SES receives it: into the bucket, then %s)\n", strings.Join(r.rules[0].Recipients, ", "), r.rules[0].Function)
		fmt.Fprintf(&b, "    curl --data-binary @mail.eml %s/_local/inbound    (or: make inbound EML=mail.eml)\n", r.URL)
	}
	fmt.Fprintf(&b, "\n  invoke any function now (a schedule's event if no body):\n")
	fmt.Fprintf(&b, "    curl -X POST %s/_local/invoke/<LogicalId> [-d @event.json]\n", r.URL)
	fmt.Fprintf(&b, "    functions: %s\n", strings.Join(r.order, ", "))
	fmt.Fprintf(&b, "\n  Ctrl-C stops everything.\n\n")
	return b.String()
}

// Invoke runs a function synchronously with payload and returns its response payload.
// Errors are those of the Lambda runtime emulation: a *lambdart.FunctionError when the
// handler failed, or a timeout, a crash.
func (r *Runner) Invoke(ctx context.Context, logicalID string, payload []byte) ([]byte, error) {
	fn, ok := r.functions[logicalID]
	if !ok || fn.rt == nil {
		return nil, fmt.Errorf("no function %s", logicalID)
	}
	return fn.rt.Invoke(ctx, payload)
}

// Done is closed when the runner has stopped, or failed (an emulator died, the HTTP
// server failed); Err says why.
func (r *Runner) Done() <-chan struct{} { return r.done }

// Err is the failure that closed Done, nil after a plain Stop.
func (r *Runner) Err() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

func (r *Runner) fail(err error) {
	if r.stopCtx.Err() != nil {
		return // stopping: processes exiting is expected
	}
	r.errMu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.errMu.Unlock()
	r.log.Error("local runner failed", "err", err)
	r.closeDone()
}

// Stop stops the HTTP server, the schedules, every function process and the emulators
// it started, and removes the build folder. It is safe to call more than once.
func (r *Runner) Stop() {
	r.stopOnce.Do(func() {
		r.stopAll()
		if r.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = r.srv.Shutdown(ctx)
			cancel()
			_ = r.srv.Close()
		} else if r.ln != nil {
			_ = r.ln.Close() // Start failed before serving
		}
		var wg sync.WaitGroup
		for _, fn := range r.functions {
			if fn.rt != nil {
				wg.Go(fn.rt.Close)
			}
		}
		wg.Wait()
		for _, e := range r.emulators {
			wg.Go(e.Stop)
		}
		wg.Wait()
		r.bg.Wait()
		if r.buildDir != "" {
			_ = os.RemoveAll(r.buildDir)
		}
		r.closeDone()
		r.log.Info("stopped")
	})
}

// pids lists every process the runner started, for tests.
func (r *Runner) pids() []int {
	var pids []int
	for _, e := range r.emulators {
		pids = append(pids, e.PID())
	}
	for _, fn := range r.functions {
		if fn.rt != nil {
			pids = append(pids, fn.rt.PIDs()...)
		}
	}
	return pids
}
