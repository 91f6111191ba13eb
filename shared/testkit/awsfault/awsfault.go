// Package awsfault is a fault-injecting proxy to put in front of the AWS emulators, for tests
// of what the code does when DynamoDB or SES errs, throttles, is slow or drops the connection.
// It knows the two wire protocols well enough to answer as the real services do, so the SDK's
// retryer and error types see what they would see in AWS.
//
//	p := awsfault.Start(t, env.DynamoDBEndpoint)
//	p.Inject(awsfault.Rule{Op: "PutItem", Fault: awsfault.Throttle})
//	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(p.URL) })
//
// A request the proxy forwards is always carried through to the emulator, even when the client
// gives up on it: dynalite dies of a request aborted in flight.
package awsfault

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"
)

// Fault is what the proxy does to a request a rule matches.
type Fault int

const (
	// Pass forwards the request (after the rule's Latency).
	Pass Fault = iota
	// ServerError answers 500 with the service's internal-error body.
	ServerError
	// Throttle answers as a throttled service does: DynamoDB 400 ThrottlingException, SES 400
	// Throttling ("Maximum sending rate exceeded").
	Throttle
	// Drop closes the connection without an answer, before the request reaches the emulator.
	Drop
	// DropAnswer forwards the request, then closes the connection instead of answering: the
	// call happened, and the client cannot know.
	DropAnswer
)

func (f Fault) String() string {
	return [...]string{"pass", "server error", "throttle", "drop", "drop answer"}[f]
}

// Rule says what to do to the requests for an operation.
type Rule struct {
	// Op is the operation ("PutItem", "SendEmail"); empty matches every request.
	Op    string
	Fault Fault
	// Latency is waited before the request is faulted or forwarded.
	Latency time.Duration
	// Skip lets this many matching requests through untouched first.
	Skip int
	// Times is how many matching requests the rule applies to after Skip; 0 is every one.
	Times int

	seen int
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's base URL, for the client's BaseEndpoint.
	URL string

	target *url.URL
	client *http.Client
	mu     sync.Mutex
	rules  []*Rule
	counts map[string]int
	faults map[string]int
}

// Start starts a proxy in front of target (an emulator's base URL), stopped when the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("awsfault: target %q: %v", target, err)
	}
	p := &Proxy{target: u, client: &http.Client{}, counts: map[string]int{}, faults: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Inject adds a rule. The first rule that applies to a request decides.
func (p *Proxy) Inject(r Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &r)
}

// Clear removes every rule: the service has recovered.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Requests returns how many requests for op (every request if op is "") reached the proxy,
// retries included, and how many of them a fault was injected into.
func (p *Proxy) Requests(op string) (all, faulted int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if op != "" {
		return p.counts[op], p.faults[op]
	}
	for k, n := range p.counts {
		all += n
		faulted += p.faults[k]
	}
	return all, faulted
}

// decide counts the request and returns the rule that applies to it, if any.
func (p *Proxy) decide(op string) (Rule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[op]++
	for _, r := range p.rules {
		if r.Op != "" && r.Op != op {
			continue
		}
		r.seen++
		if r.seen <= r.Skip || (r.Times > 0 && r.seen > r.Skip+r.Times) {
			continue
		}
		if r.Fault != Pass {
			p.faults[op]++
		}
		return *r, true
	}
	return Rule{}, false
}

func (p *Proxy) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	svc, op := operation(req, body)
	rule, ok := p.decide(op)
	if ok && rule.Latency > 0 {
		time.Sleep(rule.Latency) // not cut short: the request goes on, as in a slow network
	}
	switch rule.Fault {
	case ServerError, Throttle:
		status, ctype, payload := errorAnswer(svc, rule.Fault)
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("X-Amzn-Requestid", "awsfault")
		w.WriteHeader(status)
		_, _ = w.Write(payload)
		return
	case Drop:
		drop(w)
		return
	}
	// A client that gave up must not abort the request to the emulator.
	res, err := p.forward(context.WithoutCancel(req.Context()), req, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if rule.Fault == DropAnswer {
		drop(w)
		return
	}
	for k, vs := range res.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (p *Proxy) forward(ctx context.Context, in *http.Request, body []byte) (answer, error) {
	u := *p.target
	u.Path, u.RawPath, u.RawQuery = in.URL.Path, in.URL.RawPath, in.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, in.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	out.Header = in.Header.Clone()
	out.Host = in.Host
	res, err := p.client.Do(out)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	h := res.Header.Clone()
	h.Del("Content-Length")
	return answer{status: res.StatusCode, header: h, body: b}, nil
}

// drop closes the client's connection without a response.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("awsfault: cannot drop a connection the server does not let go")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// operation names the service and operation of a request: DynamoDB's JSON protocol names it
// in X-Amz-Target ("DynamoDB_20120810.PutItem"), SES's query protocol in the form's Action.
func operation(req *http.Request, body []byte) (service, op string) {
	if t := req.Header.Get("X-Amz-Target"); t != "" {
		_, op, _ = strings.Cut(t, ".")
		return "dynamodb", op
	}
	if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
		return "ses", v.Get("Action")
	}
	return "other", req.Method + " " + req.URL.Path
}

// errorAnswer is the service's own answer for a fault.
func errorAnswer(service string, f Fault) (status int, contentType string, body []byte) {
	if service == "dynamodb" {
		typ, msg, status := "InternalServerError", "Internal server error", http.StatusInternalServerError
		if f == Throttle {
			typ, msg, status = "ThrottlingException", "Rate of requests exceeds the allowed throughput.", http.StatusBadRequest
		}
		return status, "application/x-amz-json-1.0",
			[]byte(fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, typ, msg))
	}
	kind, code, msg, status := "Receiver", "InternalFailure", "The request processing has failed because of an unknown error.", http.StatusInternalServerError
	if f == Throttle {
		kind, code, msg, status = "Sender", "Throttling", "Maximum sending rate exceeded.", http.StatusBadRequest
	}
	return status, "text/xml", []byte(`<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>` + kind +
		`</Type><Code>` + code + `</Code><Message>` + msg + `</Message></Error><RequestId>awsfault</RequestId></ErrorResponse>`)
}

// Retryer is the SDK's standard retryer with its backoff cut to milliseconds: the same number
// of attempts and the same errors retried, without a test waiting seconds between them.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 5 * time.Millisecond })
}

// DynamoDB returns a DynamoDB client that goes through the proxy, retrying as the SDK does.
func (p *Proxy) DynamoDB(cfg aws.Config, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(p.URL)
		o.Retryer = Retryer()
	}}, opts...)...)
}

// SES returns an SES client that goes through the proxy, retrying as the SDK does.
func (p *Proxy) SES(cfg aws.Config, opts ...func(*ses.Options)) *ses.Client {
	return ses.NewFromConfig(cfg, append([]func(*ses.Options){func(o *ses.Options) {
		o.BaseEndpoint = aws.String(p.URL)
		o.Retryer = Retryer()
	}}, opts...)...)
}
