package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// build builds pkg with the Makefile's flags (lambdaFlags) for goos/goarch into out.
func build(ctx context.Context, goTool, root, pkg, goos, goarch, out string) error {
	flags, err := lambdaFlags(root)
	if err != nil {
		return err
	}
	linked := out + ".linked"
	cmd := exec.CommandContext(ctx, goTool, append(append([]string{"build"}, flags...), "-o", linked, pkg)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s for %s/%s: %w\n%s", pkg, goos, goarch, err, b)
	}
	return stage(linked, out)
}

// stage writes the binary at linked to out with plain sequential writes, as unzipping a
// deployment package does on Lambda, and removes linked. The linker writes its output through
// a memory mapping, and on Linux (6.18, ext4) a file written that way starts measurably slower
// from the page cache than the same bytes written with write(2): hello took 2.89 ms as linked
// and 2.51–2.59 ms as copied, and a function up to 0.5 ms more, in one run. Which binary came
// out which way would otherwise decide part of a ratio.
func stage(linked, out string) error {
	b, err := os.ReadFile(linked)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, b, 0o755); err != nil {
		return err
	}
	return os.Remove(linked)
}

// functionEnv is what a function sees on Lambda, built from nothing so a developer's own
// environment (an AWS profile, say) cannot change what is measured: infra/env.json's values,
// the template's defaults for the rest, credentials and region as Lambda sets them, and
// endpoints that are never reached (nothing is called before the first poll).
func functionEnv(root string) ([]string, error) {
	raw, err := os.ReadFile(filepath.Join(root, "infra", "env.json"))
	if err != nil {
		return nil, err
	}
	var file struct{ Parameters map[string]string }
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("infra/env.json: %w", err)
	}
	// What the template takes from the resources it creates, not from a parameter.
	vars := map[string]string{
		"TABLE_NAME":      "dsrdesk-requests",
		"DELIVERY_BUCKET": "dsrdesk-deliveries",
		"COUNTRY":         "DK",
		"DEFAULT_LANG":    "da",
	}
	for k, v := range file.Parameters {
		vars[k] = v
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB":   "http://127.0.0.1:1",
		"AWS_ENDPOINT_URL_SES":        "http://127.0.0.1:1",
		"AWS_ENDPOINT_URL_S3":         "http://127.0.0.1:1",
		"AWS_REGION":                  "eu-north-1",
		"AWS_DEFAULT_REGION":          "eu-north-1",
		"AWS_ACCESS_KEY_ID":           "bench",
		"AWS_SECRET_ACCESS_KEY":       "bench",
		"AWS_SESSION_TOKEN":           "bench",
		"AWS_LAMBDA_FUNCTION_NAME":    "bench",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"TZ":                          "UTC",
	} {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env, nil
}

// runtimeAPI is a Lambda Runtime API that only notes when a process first asks for work and
// then keeps it waiting, as Lambda does between invocations.
type runtimeAPI struct {
	addr  string
	polls chan time.Time
	srv   *http.Server
}

func startRuntimeAPI() (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	api := &runtimeAPI{addr: ln.Addr().String(), polls: make(chan time.Time, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		api.polls <- time.Now()
		<-r.Context().Done() // the process is killed while it waits
	})
	// The intake and the workspace register an internal extension (shared/postresponse) during
	// init, as on Lambda; that registration is part of their cold start.
	mux.HandleFunc("POST /2020-01-01/extension/register", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Lambda-Extension-Identifier", "bench")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"functionName":"bench","functionVersion":"$LATEST","handler":"bootstrap"}`))
	})
	mux.HandleFunc("GET /2020-01-01/extension/event/next", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	api.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go api.srv.Serve(ln) //nolint:errcheck // ends with Close
	return api, nil
}

func (api *runtimeAPI) close() { _ = api.srv.Close() }

// coldStart starts bin and returns the time from starting the process to its first poll.
func (api *runtimeAPI) coldStart(bin string, env []string) (time.Duration, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(slices.Clone(env), "AWS_LAMBDA_RUNTIME_API="+api.addr)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	exited := make(chan error, 1)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	select {
	case at := <-api.polls:
		return at.Sub(start), nil
	case err := <-exited:
		exited <- err
		return 0, fmt.Errorf("%s exited before polling (%v): %s", filepath.Base(bin), err, strings.TrimSpace(stderr.String()))
	case <-time.After(10 * time.Second):
		return 0, errors.New(filepath.Base(bin) + ": no poll within 10 s")
	}
}

// coldStarts measures every binary runs times, taking turns so that whatever else the machine
// does affects all alike. It returns each one's median, and the median over the rounds of each
// one's time divided by base's in the same round: a ratio taken within a round is much less
// swayed by a busy moment than a ratio of two medians.
func coldStarts(bins map[string]string, base string, env []string, runs int) (medians map[string]time.Duration, ratios map[string]float64, err error) {
	api, err := startRuntimeAPI()
	if err != nil {
		return nil, nil, err
	}
	defer api.close()
	names := make([]string, 0, len(bins))
	for name := range bins {
		names = append(names, name)
	}
	slices.Sort(names)
	times := map[string][]time.Duration{}
	for i := -1; i < runs; i++ { // run -1 warms the page cache and is not counted
		for _, name := range names {
			d, err := api.coldStart(bins[name], env)
			if err != nil {
				return nil, nil, err
			}
			if i >= 0 {
				times[name] = append(times[name], d)
			}
		}
	}
	medians, ratios = map[string]time.Duration{}, map[string]float64{}
	for name, ds := range times {
		rs := make([]float64, len(ds))
		for i, d := range ds {
			rs[i] = float64(d) / float64(times[base][i])
		}
		slices.Sort(rs)
		ratios[name] = rs[len(rs)/2]
		ds = slices.Clone(ds)
		slices.Sort(ds)
		medians[name] = ds[len(ds)/2]
	}
	return medians, ratios, nil
}

// hostPlatform is the platform the cold starts are measured on.
func hostPlatform() (goos, goarch string) { return runtime.GOOS, runtime.GOARCH }
