// Command local runs the whole product on a laptop without Docker or the SAM CLI:
// go run ./infra/local (make dev), from the project root.
//
// It reads template.yaml, starts dynalite and aws-ses-v2-local (and s3rver when the
// template has a bucket) from infra/node_modules (npm ci --prefix infra if they are
// missing) through infra/emulators, creates the tables and buckets, builds every function
// for this machine, runs -workers processes of each behind a Lambda Runtime API, serves
// the HttpApi routes as API Gateway HTTP API (payload 2.0) on -addr, fires ScheduleV2
// events, and prints where everything is. POST /_local/invoke/<LogicalId> invokes a
// function now (with no body, a scheduled function gets its schedule's event).
//
// Template parameters without a Default resolve to an empty string: put the variables
// built from them (CONTROLLER_NAME, …) in the -env-file, as with sam local. BASE_URL is the
// runner's own URL (it follows -addr) unless -base-url, -param BaseUrl=… or an -env-file
// named on the command line sets it.
//
// Not emulated: authorizers, CORS preflight answers (an OPTIONS route is served like any
// other), throttling and route settings, custom domains and stages other than $default,
// payload format 1.0 and REST APIs (AWS::Serverless::Api), event sources other than
// HttpApi and ScheduleV2, Scheduler retries, dead-letter queues, StartDate/EndDate and
// flexible windows, Lambda's async retries, IAM policies, layers, and the arm64
// architecture (functions are built for the host). DynamoDB TTL and point-in-time
// recovery are not set (dynalite has no API for them); a bucket is created by name only
// (no policy, lifecycle or notifications). Resources of any other type (SES receipt rules,
// SNS topics, queues, alarms, custom domains) are not run, and their properties are not
// read; the template's intrinsics outside what samtemplate evaluates are an error naming
// the resource.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/emulators"
	"github.com/dsrdesk/dsrdesk/infra/local/runner"
	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
)

// params collects repeated -param Key=Value flags.
type params map[string]string

func (p params) String() string { return fmt.Sprint(map[string]string(p)) }

func (p params) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return errors.New("want Key=Value")
	}
	p[k] = val
	return nil
}

const defaultEnvFile = "infra/env.json"

func main() {
	os.Exit(run())
}

// parse reads the command line into the runner's options; ok is false when the command ends
// here with code (after -h, or a usage error, written to out).
func parse(args []string, out io.Writer) (opts runner.Options, code int, ok bool) {
	opts = runner.Options{Parameters: params{}}
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&opts.Template, "template", "template.yaml", "the SAM template")
	fs.StringVar(&opts.EnvFile, "env-file", defaultEnvFile, `environment overrides in sam local --env-vars format: {"Parameters": {...}} for every function, {"<LogicalId>": {...}} for one; only variables the template declares are overridden`)
	fs.Var(params(opts.Parameters), "param", "override a template parameter: -param Key=Value (repeatable)")
	fs.StringVar(&opts.Addr, "addr", "127.0.0.1:3000", "where the HTTP API listens; BASE_URL follows it (see -base-url)")
	fs.StringVar(&opts.BaseURL, "base-url", "", "the URL every link in a page or mail is built from (BASE_URL). Default: the runner's own, http://<-addr>, "+
		"unless BASE_URL is set explicitly, by -param BaseUrl=… or in an -env-file named on the command line")
	endpoints, ports := map[*emulators.Emulator]*string{}, map[*emulators.Emulator]*int{}
	for _, e := range emulators.All {
		endpoints[e] = fs.String(e.ID+"-endpoint", "", fmt.Sprintf("use this %s endpoint instead of starting %s", e.Service, e.Bin))
		ports[e] = fs.Int(e.ID+"-port", e.Port, fmt.Sprintf("port for the %s the runner starts (0: any free port)", e.Bin))
	}
	fs.StringVar(&opts.Persist, "persist", "", "keep DynamoDB data in this folder (default: in memory)")
	fs.IntVar(&opts.Workers, "workers", 2, "processes per function (concurrency)")
	fs.BoolVar(&opts.NoSchedules, "no-schedules", false, "do not fire ScheduleV2 events (POST /_local/invoke/<LogicalId> still works)")
	verbose := fs.Bool("v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return opts, 0, false
		}
		return opts, 2, false
	}
	// The default env file is optional; one named on the command line must exist.
	envFileSet := false
	fs.Visit(func(f *flag.Flag) { envFileSet = envFileSet || f.Name == "env-file" })
	if _, err := os.Stat(opts.EnvFile); !envFileSet && err != nil {
		opts.EnvFile = ""
	}
	// BASE_URL follows -addr unless it is set explicitly: the default env file's (for sam
	// local on port 3000) is not.
	explicit := opts.BaseURL != ""
	if _, ok := opts.Parameters["BaseUrl"]; ok {
		explicit = true
	}
	if envFileSet {
		if ev, err := samtemplate.ReadEnvVars(opts.EnvFile); err == nil && ev.Sets("BASE_URL") {
			explicit = true
		}
	}
	opts.OwnBaseURL = !explicit
	opts.Endpoints, opts.Ports = emulators.Endpoints{}, map[*emulators.Emulator]int{}
	for _, e := range emulators.All {
		opts.Endpoints[e], opts.Ports[e] = *endpoints[e], *ports[e]
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(out, "unexpected arguments: %v\n", fs.Args())
		return opts, 2, false
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	opts.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	return opts, 0, true
}

func run() int {
	opts, code, ok := parse(os.Args[1:], os.Stderr)
	if !ok {
		return code
	}
	logger := opts.Logger

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	r, err := runner.Start(startCtx, opts)
	if err != nil {
		// Not through slog: the error may carry compiler or process output, which reads
		// best unquoted.
		fmt.Fprintf(os.Stderr, "local runner: cannot start: %v\n", err)
		return 1
	}
	fmt.Fprint(os.Stderr, r.Banner())
	select {
	case <-ctx.Done():
		logger.Info("stopping")
	case <-r.Done():
	}
	r.Stop()
	if err := r.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "\n%v\n", err)
		return 1
	}
	return 0
}
