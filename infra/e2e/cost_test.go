package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/infra/cost"
	"github.com/dsrdesk/dsrdesk/infra/emulators"
	"github.com/dsrdesk/dsrdesk/infra/local/runner"
	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// The targets of the cost table, in dollars.
const (
	idleTarget    = 1.0 // a month, with nobody filing a request
	per1000Target = 1.0 // a thousand requests, each through its whole life
)

// costOutVar names a file the test writes its measurement to, as JSON, for make bench.
const costOutVar = "DSR_COST_OUT"

// The model the per-1,000 figure is computed for: a thousand requests in one month, each
// through the whole life below, with the DPO signing in once every working day (a session
// lasts SessionHours; a DPO signs in once a day at most) and the sweep's digest going out
// every day. The figure for a request alone in its month (its own sign-in and its own
// digest) is printed beside it.
const (
	modelRequests     = 1000
	signInsPerMonth   = 21.7 // working days in an average month
	digestMailsPerRun = 1    // one DPO address
)

// phase is one step of the life, measured.
type phase struct {
	Name  string
	Usage cost.Usage
	Ops   map[string]int
	// Shared: the step serves every request of its day (a sign-in, the digest's mail); it
	// is counted per day in the model, and fully for a request alone.
	Shared bool
}

// TestCostOfARequestsLife measures what one request costs through its whole life, and
// what a deployment costs a month with nobody using it: the desk runs on the local runner
// with a meter between its functions and the emulators (DynamoDB's consumed capacity as
// DynamoDB reports it, plus the index writes DynamoDB's rules give; mails per recipient;
// S3 requests), the runner's invocation log gives each invocation's duration and the HTTP
// API calls, and the functions' output their log bytes. prices.json prices it for
// eu-north-1 and eu-west-1. It fails when a target is missed.
//
// The life: filed from the form and confirmed from the mail; the DPO signs in, opens the
// worklist and the request, extends it with the requester told, is reminded of it by the
// sweep's digest when it falls due, and completes it with the answer mailed; it is then
// stored for RetentionDays. A request is not read by the daily sweep unless something
// about it falls due (the sweep reads its due index only), so the daily runs are the idle
// cost.
func TestCostOfARequestsLife(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own desk")
	}
	ctx := context.Background()
	d, meter, log := meteredDesk(t)
	fixed := templateCosts(t)

	var life []phase
	measure := func(name string, shared bool, f func()) cost.Usage {
		t.Helper()
		d.settle()
		meter.Take()
		log.take()
		f()
		d.settle()
		u, ops := meter.Take()
		u = u.Add(log.take().usage(fixed))
		life = append(life, phase{Name: name, Usage: u, Ops: ops, Shared: shared})
		return u
	}

	idleRun := measure("sweep, nothing due (daily)", false, func() { sweep(t, d.stack) })
	life = life[:0] // the idle cost, not a request's

	f := filing{i18n.DA, "da-DK,da;q=0.9", dsr.Access, "Mette Omkostning", "Jeg vil gerne vide, hvilke oplysninger I har om mig."}
	email := address("cost")
	person := newVisitor(t, d.stack, f.acceptLanguage)
	var ref string
	measure("filed and confirmed", false, func() { ref = fileAndConfirm(t, d.stack, person, f, email) })

	var dpo *visitor
	measure("the DPO signs in", true, func() { dpo = d.signIn(t) })
	measure("opens the worklist and the request", false, func() {
		expectPage(t, dpo.open(d.base+"/admin", "same-origin"), dpoLang, ref)
		expectPage(t, dpo.open(d.base+"/admin/requests/"+ref, "same-origin"), dpoLang, f.name)
	})
	act := func(action string, fields url.Values) {
		t.Helper()
		page := d.base + "/admin/requests/" + ref
		form := dpo.open(page+"?action="+action, "same-origin")
		fields.Set("csrf", hidden(t, form.body, "csrf"))
		fields.Set("version", hidden(t, form.body, "version"))
		fields.Set("step", "preview")
		dpo.submit(page+"/"+action, fields)
		fields.Set("step", "confirm")
		if got := dpo.submit(page+"/"+action, fields).location(t, d.base); !strings.HasPrefix(got, page) {
			t.Fatalf("%s: redirected to %s", action, got)
		}
	}
	measure("extended, the requester told", false, func() {
		act("extend", url.Values{"reason": {"Vi skal samle oplysninger fra tre systemer."}})
		mails(t, d.stack, email, 3, nil)
	})
	reminded := measure("reminded by the sweep's digest", false, func() {
		// A request that falls due in two working days, beside the one whose life this is:
		// the sweep's work for one due request, as its digest reminds the DPO.
		due := seedDue(t, d.stack)
		sweep(t, d.stack)
		mails(t, d.stack, dpoNotified, 1, about(due))
	})
	// What the reminder's sweep did besides the daily run is the request's; its digest
	// mail is the day's.
	digest := cost.Usage{Mails: reminded.Mails}
	life[len(life)-1].Usage = reminded.Sub(idleRun).Sub(digest)
	life = append(life, phase{Name: "the digest's mail", Usage: digest, Shared: true})
	if digest.Mails != digestMailsPerRun {
		t.Errorf("the digest went out as %d mails, want %d (one DPO address)", digest.Mails, digestMailsPerRun)
	}
	measure("completed, the answer mailed", false, func() {
		act("complete", url.Values{"message": {"Her er de oplysninger, vi har om dig."}, "confirm": {"no_delivery"}})
		mails(t, d.stack, email, 4, nil)
	})

	stored := cost.Stored{TableBytes: int64(partitionBytes(t, ctx, d, ref)), Months: fixed.RetentionMonths}
	var own, shared cost.Usage
	for _, p := range life {
		if p.Shared {
			shared = shared.Add(p.Usage)
		} else {
			own = own.Add(p.Usage)
		}
	}
	var signIn cost.Usage
	for _, p := range life {
		if p.Name == "the DPO signs in" {
			signIn = p.Usage
		}
	}
	prices, err := cost.LoadPrices()
	if err != nil {
		t.Fatal(err)
	}

	type regionCost struct {
		Region, Name string
		// PerRequest is one request's own cost, with its storage.
		PerRequest cost.Breakdown
		// Per1000 is the model's month of a thousand requests, shared steps counted per day.
		Per1000 float64
		// Alone is one request alone in its month, with its own sign-in and digest.
		Alone     float64
		Idle      cost.Breakdown
		IdleMonth float64
	}
	var regions []regionCost
	for _, id := range prices.RegionIDs() {
		p, err := prices.Regions[id].ForTableClass(fixed.TableClass)
		if err != nil {
			t.Fatal(err)
		}
		perRequest := own.Price(p, fixed.LogMonths).Add(stored.Price(p, fixed.PITR))
		sharedMonth := signIn.Scale(signInsPerMonth).Add(digest.Scale(fixed.SchedulesPerMonth)).Price(p, fixed.LogMonths)
		idle := fixed.Price(p).Add(idleRun.Scale(fixed.SchedulesPerMonth).Price(p, fixed.LogMonths))
		rc := regionCost{
			Region: id, Name: p.Name, PerRequest: perRequest,
			Per1000:   modelRequests*perRequest.Total() + sharedMonth.Total(),
			Alone:     perRequest.Total() + shared.Price(p, fixed.LogMonths).Total(),
			Idle:      idle,
			IdleMonth: idle.Total(),
		}
		regions = append(regions, rc)
		if rc.IdleMonth > idleTarget {
			t.Errorf("%s: an idle deployment costs %.2f USD a month, target ≤ %.2f: %s", id, rc.IdleMonth, idleTarget, lines(idle))
		}
		if rc.Per1000 > per1000Target {
			t.Errorf("%s: 1,000 requests cost %.2f USD, target ≤ %.2f: %s per request", id, rc.Per1000, per1000Target, lines(perRequest))
		}
	}

	// What was measured must be the life described: a test that measured nothing would
	// price it at zero and pass.
	if own.Mails != 5 || own.APICalls < 10 || own.WriteUnits < 5 || own.IndexWriteUnits <= 0 || own.ReadUnits < 1 || own.Invocations < 10 || own.GBSeconds <= 0 || own.LogBytes <= 0 {
		t.Errorf("the life measured too little to be the life described (five mails: link, receipt, DPO's notice, extension, answer): %+v", own)
	}
	if signIn.Mails != 1 || signIn.APICalls < 3 {
		t.Errorf("the sign-in measured %+v, want its mail and its pages", signIn)
	}
	if idleRun.Invocations != 1 || idleRun.Scheduled != 1 || idleRun.ReadUnits <= 0 || idleRun.Mails != 0 {
		t.Errorf("the idle sweep run measured %+v, want one scheduled invocation that reads its index and mails nobody", idleRun)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "one request's life (prices recorded %s):\n", prices.Recorded)
	for _, p := range life {
		fmt.Fprintf(&b, "  %-40s shared=%-5v %+v %v\n", p.Name, p.Shared, p.Usage, p.Ops)
	}
	fmt.Fprintf(&b, "  stored: %d bytes for %.1f months\n", stored.TableBytes, stored.Months)
	fmt.Fprintf(&b, "  idle: %d alarm metrics, %.1f sweep runs a month of %+v\n", fixed.Alarms, fixed.SchedulesPerMonth, idleRun)
	for _, r := range regions {
		fmt.Fprintf(&b, "  %s: %.3f USD per 1,000 requests (per request: %s); alone %.5f; idle %.3f USD a month (%s)\n", r.Region, r.Per1000, lines(r.PerRequest), r.Alone, r.IdleMonth, lines(r.Idle))
	}
	t.Log(b.String())

	if out := os.Getenv(costOutVar); out != "" {
		data, err := json.MarshalIndent(map[string]any{
			"recorded": prices.Recorded, "life": life, "own": own, "shared": shared, "stored": stored, "idle_run": idleRun,
			"fixed": fixed, "regions": regions,
			"model":   map[string]float64{"requests": modelRequests, "sign_ins": signInsPerMonth, "digests": fixed.SchedulesPerMonth},
			"targets": map[string]float64{"idle_month": idleTarget, "per_1000": per1000Target},
		}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func lines(b cost.Breakdown) string {
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		if b[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.5f", k, b[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// seedDue stores a confirmed request due in two working days, its mails long sent, and
// returns its reference.
func seedDue(t *testing.T, d *stack) string {
	t.Helper()
	now := time.Now()
	for n := 20; n <= 45; n++ {
		at := now.Add(-time.Duration(n) * 24 * time.Hour)
		if due := d.cal.Due(at); !now.After(due) && d.cal.WorkingDaysUntil(now, due) == 2 {
			return seedConfirmed(t, d, dsr.Access, "cost-due", at).Ref
		}
	}
	t.Fatal("no receipt time 20-45 days ago is due in two working days")
	return ""
}

// partitionBytes is what the request's partition takes in the table and its indexes.
func partitionBytes(t *testing.T, ctx context.Context, d *meteredStack, ref string) int {
	t.Helper()
	db := d.aws.DynamoDB()
	table := d.Tables[0]
	keys := indexKeys(t, d.aws, table)
	out, err := db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &table,
		KeyConditionExpression:    strPtr("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "REQ#" + ref}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) == 0 {
		t.Fatalf("nothing stored under REQ#%s", ref)
	}
	n := 0
	for _, item := range out.Items {
		n += cost.IndexedBytes(item, keys)
	}
	return n
}

func strPtr(s string) *string { return &s }

// meteredStack is a desk of its own whose functions reach the emulators through a meter.
type meteredStack struct {
	*stack
}

// settle gives the functions time to finish what they do after answering (their mails
// go out then), so that it is counted with the step that caused it.
func (d *meteredStack) settle() { time.Sleep(300 * time.Millisecond) }

// signIn signs the DPO in from the sign-in form and its mailed link: the one DPO address
// also gets the notices, so the link is found by its subject.
func (d *meteredStack) signIn(t *testing.T) *visitor {
	t.Helper()
	dpo := newVisitor(t, d.stack, "da-DK,da;q=0.9")
	form := dpo.open(d.base+"/admin/signin", "none")
	dpo.submit(d.base+"/admin/signin", url.Values{"email": {dpoNotified}, "next": {hidden(t, form.body, "next")}})
	subject := i18n.T(dpoLang, "admin.mail.signin.subject", controller)
	m := mails(t, d.stack, dpoNotified, 1, func(m emulator.Mail) bool { return m.Subject == subject })[0]
	confirm := dpo.open(link(t, d.stack, m, "/admin/signin/confirm?token="), "none")
	dpo.submit(d.base+"/admin/signin/confirm", url.Values{"token": {hidden(t, confirm.body, "token")}}).location(t, d.base)
	if dpo.cookies["__Host-dsr_session"] == "" {
		t.Fatalf("not signed in: cookies %v", dpo.cookies)
	}
	return dpo
}

func meteredDesk(t *testing.T) (*meteredStack, *cost.Meter, *invocationLog) {
	t.Helper()
	env := emulator.Get(t)
	meter := cost.NewMeter()
	t.Cleanup(meter.Close)
	targets := emulators.Endpoints{emulators.DynamoDB: env.DynamoDBEndpoint, emulators.SES: env.SESEndpoint, emulators.S3: env.S3URL(t)}
	proxied := emulators.Endpoints{}
	for e, service := range map[*emulators.Emulator]cost.Service{emulators.DynamoDB: cost.DynamoDB, emulators.SES: cost.SES, emulators.S3: cost.S3} {
		u, err := meter.Proxy(service, targets[e])
		if err != nil {
			t.Fatal(err)
		}
		proxied[e] = u
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	vars := overrides(base)
	// One DPO address, as a small company has: the notices and the digest go to it once.
	vars["DPO_ADDRESSES"] = dpoNotified
	envFile, err := writeEnvFile(t.TempDir(), vars, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := &invocationLog{}
	out := newLogTail(200)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := runner.Start(ctx, runner.Options{
		Template:    filepath.Join(root, "template.yaml"),
		EnvFile:     envFile,
		Addr:        addr,
		Endpoints:   proxied,
		Workers:     1,
		NoSchedules: true,
		Output:      &lineCounter{log: log, next: out},
		Logger:      slog.New(log),
		// A table of its own: the emulators are this test binary's, and other tests' runners
		// use their own.
		StackName: "dsrdesk-cost",
	})
	if err != nil {
		t.Fatalf("start the local runner: %v", err)
	}
	t.Cleanup(r.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last lines of the runner's output:\n%s", out.String())
		}
	})
	cal, err := deadline.ForCountry(country)
	if err != nil {
		t.Fatal(err)
	}
	aws := emulator.Around(targets)
	return &meteredStack{&stack{Runner: r, base: base, aws: aws, store: store.New(aws.DynamoDB(), r.Tables[0]), cal: cal, out: out}}, meter, log
}

// indexKeys are the key attributes of each of the table's global secondary indexes.
func indexKeys(t *testing.T, env *emulator.Env, table string) [][]string {
	t.Helper()
	desc, err := env.DynamoDB().DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	var keys [][]string
	for _, g := range desc.Table.GlobalSecondaryIndexes {
		var k []string
		for _, e := range g.KeySchema {
			k = append(k, *e.AttributeName)
		}
		keys = append(keys, k)
	}
	return keys
}

// templateCosts reads the fixed costs and the figures usage is priced with from the
// template, with its defaults: what a deployer gets who sets only what they must.
func templateCosts(t *testing.T) cost.FixedCosts {
	t.Helper()
	tpl, err := samtemplate.ParseFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := tpl.Stack(samtemplate.StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := cost.Fixed(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// invocationLog is the runner's logger: it keeps every invocation's function, route and
// duration, and the bytes each function wrote.
type invocationLog struct {
	mu          sync.Mutex
	invocations []invocation
	logBytes    int64
}

type invocation struct {
	function, route string
	duration        time.Duration
}

func (l *invocationLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *invocationLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *invocationLog) WithGroup(string) slog.Handler            { return l }
func (l *invocationLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "invoke" {
		return nil
	}
	var inv invocation
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "function":
			inv.function = a.Value.String()
		case "route":
			inv.route = a.Value.String()
		case "duration":
			inv.duration = a.Value.Duration()
		}
		return true
	})
	l.mu.Lock()
	l.invocations = append(l.invocations, inv)
	l.mu.Unlock()
	return nil
}

type invocations struct {
	list     []invocation
	logBytes int64
}

func (l *invocationLog) take() invocations {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := invocations{l.invocations, l.logBytes}
	l.invocations, l.logBytes = nil, 0
	return out
}

// platformLogBytes are the START, END and REPORT lines Lambda itself writes to a
// function's log for every invocation (about 110 bytes each in the text format).
const platformLogBytes = 330

// usage prices the invocations as Lambda and the HTTP API bill them: each invocation's
// duration rounded up to the millisecond, times its function's memory. The duration is
// the runner's, from the HTTP request's arrival to the answer: an upper bound of the
// function's own.
func (in invocations) usage(f cost.FixedCosts) cost.Usage {
	u := cost.Usage{Invocations: len(in.list), LogBytes: in.logBytes}
	for _, inv := range in.list {
		ms := math.Ceil(float64(inv.duration) / float64(time.Millisecond))
		u.GBSeconds += ms / 1000 * float64(f.Memory[inv.function]) / 1024
		u.LogBytes += platformLogBytes
		switch {
		case strings.HasPrefix(inv.route, "schedule ") || strings.HasPrefix(inv.route, "invoke schedule "):
			u.Scheduled++
		case inv.route == "invoke":
		default:
			u.APICalls++
			u.LogBytes += int64(f.AccessLogBytes)
		}
	}
	return u
}

// lineCounter counts the bytes of the functions' output lines ("<function> | <line>"),
// as CloudWatch Logs would ingest them, and passes everything on.
type lineCounter struct {
	log  *invocationLog
	next *logTail
	part []byte
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.part = append(c.part, p...)
	for {
		i := bytes.IndexByte(c.part, '\n')
		if i < 0 {
			break
		}
		line := c.part[:i]
		if _, text, ok := bytes.Cut(line, []byte(" | ")); ok {
			c.log.mu.Lock()
			c.log.logBytes += int64(len(text) + 1)
			c.log.mu.Unlock()
		}
		c.part = c.part[i+1:]
	}
	return c.next.Write(p)
}
