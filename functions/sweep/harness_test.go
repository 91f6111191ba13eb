package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/testkit/fakeclock"
	"github.com/dsrdesk/dsrdesk/shared/testkit/keyscope"
	"github.com/dsrdesk/dsrdesk/shared/testkit/logsink"
	"github.com/dsrdesk/dsrdesk/shared/testkit/rawitem"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

// harness is one test's deployment: its own table, DPO address, clock, logs and metrics.
type harness struct {
	t       testing.TB
	env     *emulator.Env
	clock   *fakeclock.Clock
	db      *dynamodb.Client
	table   string
	store   *store.Store
	cal     *deadline.Calendar
	cfg     config.Sweep
	dpo     string
	logs    *logsink.Buffer
	metrics *logsink.Buffer
	// seen counts the mails already looked at per address, so each check sees only new ones.
	seen map[string]int
	// people holds what each seeded request's requester typed, to prove the logs never hold it.
	people []string
}

func newHarness(t testing.TB, country, lang string, extra ...map[string]string) *harness {
	t.Helper()
	env := emulator.Get(t)
	h := &harness{
		t:       t,
		env:     env,
		clock:   &fakeclock.Clock{},
		db:      env.DynamoDB(),
		logs:    &logsink.Buffer{},
		metrics: &logsink.Buffer{},
		seen:    map[string]int{},
		dpo:     "dpo-" + unique() + "@example.dk",
	}
	h.table = env.NewTable(t, store.TableDefinition("requests"))
	vars := map[string]string{
		"TABLE_NAME":      h.table,
		"CONTROLLER_NAME": "Nordlys Cykler ApS",
		"COUNTRY":         country,
		"DEFAULT_LANG":    lang,
		"BASE_URL":        "https://dsr.example.dk",
		"SENDER_ADDRESS":  "privacy@example.dk",
		"DPO_ADDRESSES":   h.dpo,

		"CONTROLLER_ADDRESS": "Nørregade 7, 1165 København K",
		"PRIVACY_POLICY_URL": "https://nordlys.example.dk/privatliv",
	}
	for _, m := range extra {
		for k, v := range m {
			vars[k] = v
		}
	}
	cfg, err := config.LoadSweep(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	h.cfg, h.cal = cfg, cfg.Calendar
	h.store = store.New(h.db, h.table, store.WithClock(h.clock.Now))
	return h
}

func unique() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sweeper builds the sweep exactly as main does, over the emulators (or the given SES client).
func (h *harness) sweeper(sesClient notice.SES) *Sweeper {
	h.t.Helper()
	return h.sweeperOn(h.db, sesClient)
}

func (h *harness) sweeperOn(db store.DynamoDB, sesClient notice.SES) *Sweeper {
	h.t.Helper()
	if sesClient == nil {
		sesClient = h.env.SES()
	}
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Every call the sweep makes goes through keyscope: only what its role allows.
	s, err := build(h.cfg, keyscope.Wrap(h.t, "SweepFunction", db), sesClient, h.clock.Now, log, h.metrics, "dsrdesk-sweep-test")
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// scheduledEvent is the event EventBridge Scheduler delivers, from the same file `sam local
// invoke -e` uses.
func scheduledEvent(t testing.TB) events.EventBridgeEvent {
	t.Helper()
	raw, err := os.ReadFile("../../events/sweep-scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// run runs one sweep at the given local time and fails the test if it reports an error.
func (h *harness) run(at time.Time) {
	h.t.Helper()
	h.clock.Set(at)
	if err := h.sweeper(nil).Handle(context.Background(), scheduledEvent(h.t)); err != nil {
		h.t.Fatalf("sweep at %s: %v", at, err)
	}
}

// local is a wall-clock time in the deployment's time zone.
func (h *harness) local(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, h.cal.Location())
}

// seed describes a request to store.
type seed struct {
	received time.Time
	// verified opens the request at received + 1 h; extendAt extends it (to the calendar's
	// extended deadline) at that time; started moves it to in progress.
	verified bool
	extendAt time.Time
	started  bool
	// remindAt records a reminder (with a new link) at that time.
	remindAt time.Time
	// completeAt closes the request as done at that time.
	completeAt time.Time
	lang       string
	typ        dsr.Type
	// noName files it with an address alone, as a withdrawal may be.
	noName bool
	// byLetter has a DPO register it from a letter with a postal address and no email,
	// confirmed by other means (open at once): every mail to the requester is then a letter
	// (dsr.MailLetter), which add leaves unposted.
	byLetter bool
	// held stores it held at intake (the day's ceiling reached): no link, no mail.
	held bool
	// note is a DPO's note on it, made an hour after receipt.
	note string
	// mails overrides mail states after the transitions (all others are sent).
	mails map[dsr.MailKind]dsr.MailState
	// askAt asks the requester a question at that time, stopping the clock if pause is
	// given; replyAt has them answer at that time.
	askAt, replyAt time.Time
	pause          string
	// deliverAt answers an access request with files (Art. 15(3)) at that time, reminding
	// the DPO a week later of those not downloaded; downloaded are the indexes of the files
	// the requester downloaded, a day after.
	deliverAt  time.Time
	files      int
	downloaded []int
	// rejectAt refuses the request at that time.
	rejectAt time.Time
	// bounce is a mail SES reported at bounceAt as bounced (or, with complaint, marked as
	// spam), after every other step.
	bounce    dsr.MailKind
	bounceAt  time.Time
	complaint bool
}

// add stores a request as the intake and the workspace would have left it, with every mail
// sent unless the seed says otherwise, and returns it with the token of its current link.
func (h *harness) add(s seed) (*dsr.Request, string) {
	h.t.Helper()
	ref := dsr.NewReference()
	email := "req-" + strings.ToLower(strings.ReplaceAll(ref, "-", "")) + "-" + unique() + "@example.no"
	if s.lang == "" {
		s.lang = "da"
	}
	if s.typ == "" {
		s.typ = dsr.Access
	}
	name := "Kari Nordmann " + unique()
	if s.noName {
		name = ""
	}
	details := "Mitt kundenummer er " + unique()
	h.people = append(h.people, email, details)
	if name != "" {
		h.people = append(h.people, name)
	}
	sub := dsr.Submission{Type: string(s.typ), Name: name, Email: email, Details: details, Lang: s.lang}
	tok, hash := token.ForRequest(ref)
	due := s.typ.Due(h.cal, s.received, h.cfg.PromptWorkingDays)
	r := dsr.New(ref, sub, s.received, due, hash)
	if s.byLetter {
		address := "Storgata " + unique() + ", 0155 Oslo"
		h.people = append(h.people, address)
		r = dsr.Registered(ref, dsr.Registration{Channel: dsr.ChannelLetter, ReceivedAt: s.received, Type: s.typ, Name: name,
			PostalAddress: address, Lang: s.lang, Details: details, Identity: dsr.IdentityOtherMeans, IdentityNote: "Underskrevet brev."},
			due, "", "dpo@example.dk", s.received)
		tok = ""
	}
	step := func(c dsr.Change, err error) {
		h.t.Helper()
		if err != nil {
			h.t.Fatalf("seed %s: %v", ref, err)
		}
	}
	if s.held {
		r.Hold()
		tok = ""
	}
	if s.note != "" {
		step(r.AddNote("dpo@example.dk", s.note, s.received.Add(time.Hour)))
	}
	if !s.remindAt.IsZero() {
		var hash string
		tok, hash = token.ForRequest(ref)
		step(r.Remind(hash, s.remindAt))
	}
	if s.verified {
		step(r.Verify(r.TokenHash, s.received.Add(time.Hour)))
		tok = ""
	}
	if s.started {
		step(r.Start("dpo@example.dk", s.received.Add(2*time.Hour)))
	}
	if !s.extendAt.IsZero() {
		step(r.Extend("dpo@example.dk", "Mange systemer skal gennemgås.", h.cal.Extended(s.received), s.extendAt))
	}
	if !s.askAt.IsZero() {
		purpose := dsr.PurposeClarification
		if s.pause != "" {
			purpose = dsr.PurposeIdentity
		}
		step(r.Ask("dpo@example.dk", purpose, "Hvilken periode?", s.pause, s.askAt))
	}
	if !s.replyAt.IsZero() {
		step(r.Reply("Fra 2024.", s.replyAt, h.cal))
	}
	if !s.completeAt.IsZero() {
		step(r.Complete("dpo@example.dk", "Vi har sendt dig en kopi af dine oplysninger.", s.completeAt))
	}
	if !s.rejectAt.IsZero() {
		step(r.Reject("dpo@example.dk", string(dsr.GroundOther), "Vi kan ikke finde dig.", s.rejectAt))
	}
	if !s.deliverAt.IsZero() {
		var files []dsr.File
		for i := range s.files {
			id := fmt.Sprint("up", i)
			files = append(files, dsr.File{ID: id, Name: "data-" + id + ".csv", Size: 1000, MD5: "md5", Key: ref + "/" + id + "/data.csv", Uploaded: s.deliverAt.Add(-time.Hour)})
		}
		answer := &dsr.AccessAnswer{Purposes: "Ordrer.", Categories: "Navn.", Recipients: "Ingen.", Retention: "Fem år."}
		step(r.Deliver("dpo@example.dk", dsr.DeliveryInput{Message: "Her er dine data.", Files: files, Answer: answer}, deliveryLimits, s.deliverAt))
	}
	for k, m := range r.Mails {
		if m.State == dsr.MailLetter || m.State == dsr.MailPosted {
			continue // nothing sends a letter
		}
		r.Mails[k] = dsr.MailState{State: dsr.MailSent, At: m.At, Attempts: 1}
	}
	for k, m := range s.mails {
		r.Mails[k] = m
	}
	if s.bounce != "" {
		kind := dsr.FeedbackBounce
		if s.complaint {
			kind = dsr.FeedbackComplaint
		}
		step(r.RecordFeedback(s.bounce, dsr.Feedback{Kind: kind, At: s.bounceAt, Detail: "Permanent/General"}))
	}
	if err := h.store.CreateRequest(context.Background(), r); err != nil {
		h.t.Fatal(err)
	}
	for _, i := range s.downloaded {
		d := dsr.NewDownload(r.Delivery.Files[i].ID, s.deliverAt.Add(24*time.Hour))
		if err := h.store.RecordDownload(context.Background(), r, d); err != nil {
			h.t.Fatal(err)
		}
	}
	return r, tok
}

// deliveryLimits are a deployment's defaults: files kept 30 days, the DPO reminded after 7.
var deliveryLimits = dsr.DeliveryLimits{MaxFile: 200 << 20, MaxTotal: 1000 << 20, Retention: 30 * 24 * time.Hour, RemindAfter: 7 * 24 * time.Hour}

// get reads a request back as the store sees it.
func (h *harness) get(ref string) *dsr.Request {
	h.t.Helper()
	r, err := h.store.GetRequest(context.Background(), ref)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// raw reads a request's item as stored.
func (h *harness) raw(ref string) map[string]ddbtypes.AttributeValue {
	h.t.Helper()
	return rawitem.Request(h.t, h.db, h.table, ref)
}

// marks returns a request's escalation marks as "level": "period/state".
func (h *harness) marks(ref string) map[string]string {
	h.t.Helper()
	esc, ok := h.raw(ref)["esc"].(*ddbtypes.AttributeValueMemberM)
	if !ok {
		h.t.Fatalf("%s has no esc map", ref)
	}
	out := map[string]string{}
	for level, v := range esc.Value {
		m := v.(*ddbtypes.AttributeValueMemberM).Value
		out[level] = m["p"].(*ddbtypes.AttributeValueMemberS).Value + "/" + m["st"].(*ddbtypes.AttributeValueMemberS).Value
	}
	return out
}

// rawMark returns the fields of one escalation mark as stored, nil if there is none.
func (h *harness) rawMark(ref, level string) map[string]string {
	h.t.Helper()
	esc, _ := h.raw(ref)["esc"].(*ddbtypes.AttributeValueMemberM)
	if esc == nil {
		return nil
	}
	m, _ := esc.Value[level].(*ddbtypes.AttributeValueMemberM)
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range m.Value {
		out[k] = v.(*ddbtypes.AttributeValueMemberS).Value
	}
	return out
}

// newMails returns the mails to addr since the last call for it.
func (h *harness) newMails(addr string) []emulator.Mail {
	h.t.Helper()
	all := h.env.Mails(h.t, addr)
	n := h.seen[addr]
	h.seen[addr] = len(all)
	return all[n:]
}

var (
	groupLine = regexp.MustCompile(`^== (.+) \((\d+)\) ==$`)
	refLine   = regexp.MustCompile(`^([2-9A-Z]{4}-[2-9A-Z]{4}) · `)
)

// digestLines reads a digest's plain-text part back: the levels in the order they appear, and
// level → references in order.
func (h *harness) digestLines(m emulator.Mail) (order []string, lines map[string][]string) {
	h.t.Helper()
	titles := map[string]string{}
	lad := newLadder(h.cal, h.cfg.Thresholds)
	lang := h.cfg.DefaultLang
	for _, l := range lad.Levels() {
		titles[levelText(lang, "sweep.level", l)] = l.Name
	}
	titles[i18n.T(lang, "sweep.group.undelivered")] = digest.LineUndelivered
	titles[i18n.T(lang, "sweep.group.not_posted")] = digest.LineNotPosted
	titles[i18n.T(lang, "sweep.group.not_downloaded")] = digest.LineNotDownloaded
	out := map[string][]string{}
	level := ""
	for _, line := range strings.Split(m.Text, "\n") {
		if g := groupLine.FindStringSubmatch(line); g != nil {
			var ok bool
			if level, ok = titles[g[1]]; !ok {
				h.t.Fatalf("unknown group %q in digest", g[1])
			}
			order = append(order, level)
			continue
		}
		if r := refLine.FindStringSubmatch(line); r != nil {
			if level == "" {
				h.t.Fatalf("line outside a group: %q", line)
			}
			out[level] = append(out[level], r[1])
		}
	}
	return order, out
}

// deadSES is an SES client whose endpoint refuses connections, as when SES is unreachable.
func deadSES(t *testing.T) *ses.Client {
	t.Helper()
	return ses.NewFromConfig(emulator.Get(t).AWSConfig(), func(o *ses.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.RetryMaxAttempts = 1
	})
}

// tableHolds returns the key of an item in the table holding text anywhere in its
// attributes, or "".
func (h *harness) tableHolds(text string) string {
	h.t.Helper()
	out, err := h.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(h.table)})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, it := range out.Items {
		b, err := json.Marshal(it)
		if err != nil {
			h.t.Fatal(err)
		}
		if strings.Contains(string(b), text) {
			return it[store.AttrPK].(*ddbtypes.AttributeValueMemberS).Value + " " + it[store.AttrSK].(*ddbtypes.AttributeValueMemberS).Value
		}
	}
	return ""
}

// commit reads a request and commits the change change makes to it, as the workspace does.
func (h *harness) commit(r *dsr.Request, change func(*dsr.Request) (dsr.Change, error)) error {
	h.t.Helper()
	cur := h.get(r.Ref)
	ch, err := change(cur)
	if err != nil {
		return err
	}
	return h.store.Commit(context.Background(), cur, ch)
}
