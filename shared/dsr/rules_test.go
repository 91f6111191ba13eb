package dsr

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
)

// allGrounds and allResults are every ground and result a DPO could post.
var (
	allGrounds = []Ground{GroundIdentity, GroundManifestlyUnfounded, GroundExcessive, GroundLegalExemption,
		GroundNotApplicable, GroundCompelling, GroundLegalClaims, GroundOther, GroundNoData}
	allResults = []Result{ResultDone, ResultNoData, ResultPartial}
)

// typeRules is the law per request type, written out once more by hand: what a requester must
// give, which deadline applies, which actions and outcomes are open and which mails each one
// sends. TestRulesPerType holds every action of the model to it.
var typeRules = []struct {
	typ Type
	// monthClock: one month, extendable (Art. 12(3)); else the short clock, never extended.
	monthClock   bool
	nameRequired bool
	grounds      []Ground
	results      []Result
	fee          bool
	recipients   bool
	lift         bool
}{
	{Access, true, true, []Ground{GroundIdentity, GroundManifestlyUnfounded, GroundExcessive, GroundLegalExemption, GroundOther},
		[]Result{ResultDone, ResultNoData}, true, false, false},
	{Rectification, true, true, []Ground{GroundIdentity, GroundManifestlyUnfounded, GroundExcessive, GroundLegalExemption, GroundOther},
		[]Result{ResultDone, ResultNoData}, true, true, false},
	{Erasure, true, true, []Ground{GroundIdentity, GroundManifestlyUnfounded, GroundExcessive, GroundLegalExemption, GroundOther},
		[]Result{ResultDone, ResultNoData, ResultPartial}, true, true, false},
	{Restriction, true, true, []Ground{GroundIdentity, GroundManifestlyUnfounded, GroundExcessive, GroundLegalExemption, GroundOther},
		[]Result{ResultDone, ResultNoData}, true, true, true},
	{Portability, true, true, []Ground{GroundIdentity, GroundManifestlyUnfounded, GroundExcessive, GroundNotApplicable, GroundLegalExemption, GroundOther},
		[]Result{ResultDone, ResultNoData}, true, false, false},
	// Art. 21(1): on the merits, only compelling legitimate grounds or legal claims.
	{Objection, true, true, []Ground{GroundIdentity, GroundManifestlyUnfounded, GroundExcessive, GroundCompelling, GroundLegalClaims},
		[]Result{ResultDone, ResultNoData}, true, false, false},
	// Absolute, and as easy as consent: no name, short clock, no extension, no fee, refused
	// only when the identity cannot be confirmed.
	{ObjectionMarketing, false, false, []Ground{GroundIdentity}, []Result{ResultDone, ResultNoData}, false, false, false},
	{WithdrawConsent, false, false, []Ground{GroundIdentity}, []Result{ResultDone, ResultNoData}, false, false, false},
}

func TestRulesPerType(t *testing.T) {
	if len(typeRules) != len(Types) {
		t.Fatalf("the table has %d types, the model %d", len(typeRules), len(Types))
	}
	cal, err := deadline.ForCountry("DK")
	if err != nil {
		t.Fatal(err)
	}
	// Received Monday 2 March 2026: one month is Tuesday 7 April (Easter); the short clock of
	// two working days is the end of Wednesday 4 March.
	month := cal.Due(received)
	prompt := time.Date(2026, 3, 4, 22, 59, 59, 999999999, time.UTC)
	now := received.Add(24 * time.Hour)
	for _, tt := range typeRules {
		t.Run(string(tt.typ), func(t *testing.T) {
			rules := tt.typ.Rules()

			// What the requester must give.
			sub := Submission{Type: string(tt.typ), Email: "x@example.dk", Details: "d", Lang: "da"}
			_, nameErr := sub.Validate()["name"]
			if nameErr != tt.nameRequired || rules.NameRequired != tt.nameRequired {
				t.Errorf("without a name: error %v, want one: %v", nameErr, tt.nameRequired)
			}

			// Which deadline applies, and whether it can be extended.
			wantDue := prompt
			if tt.monthClock {
				wantDue = month
			}
			if got := tt.typ.Due(cal, received, DefaultPromptWorkingDays); !got.Equal(wantDue) {
				t.Errorf("due %s, want %s", got, wantDue)
			}
			r := openOf(t, tt.typ, tt.typ.Due(cal, received, DefaultPromptWorkingDays))
			err := r.CanExtend(now)
			if (err == nil) != tt.monthClock || rules.Extendable() != tt.monthClock {
				t.Errorf("CanExtend: %v, extendable: %v", err, tt.monthClock)
			}
			if !tt.monthClock {
				if _, err := r.Extend("dpo", "why", month, now); reason(err) != "not_extendable" {
					t.Errorf("extended a %s: %v", tt.typ, err)
				}
				if !newOf(tt.typ).Escalates() {
					t.Error("an unconfirmed one does not escalate: the DPO would not see it")
				}
			} else if newOf(tt.typ).Escalates() {
				t.Error("an unconfirmed one-month request escalates")
			}
			expectMails(t, "extend", func(r *Request) (Change, error) { return r.Extend("dpo", "why", month, now) }, tt.typ, tt.monthClock, MailExtension)

			// Refusals: only the type's grounds, each sending the rejection.
			for _, g := range allGrounds {
				want := slices.Contains(tt.grounds, g)
				expectMails(t, "refuse "+string(g), func(r *Request) (Change, error) {
					return r.Refuse("dpo", Refusal{Ground: g, Reason: "because", Justification: "evidence"}, now)
				}, tt.typ, want, MailRejection)
			}

			// Completions: only the type's results, each sending the completion.
			for _, res := range allResults {
				want := slices.Contains(tt.results, res)
				expectMails(t, "complete "+string(res), func(r *Request) (Change, error) {
					return r.Answer("dpo", Answer{Result: res, Message: "m", Kept: "k", Basis: BasisLegalObligation, Reason: "r", NoDelivery: true}, now)
				}, tt.typ, want, MailCompletion)
			}

			// An access or portability answer goes inside the desk (Deliver); completing one
			// with nothing delivered must be confirmed.
			delivers := tt.typ == Access || tt.typ == Portability
			if rules.Delivers != delivers {
				t.Errorf("delivers %v, want %v", rules.Delivers, delivers)
			}
			_, err = openOf(t, tt.typ, month).Answer("dpo", Answer{Result: ResultDone, Message: "m"}, now)
			if fe := (FieldErrors{}); errors.As(err, &fe) != delivers || (delivers && fe["confirm"] != CodeConfirmNoDelivery) {
				t.Errorf("done without a delivery, unconfirmed: %v", err)
			}
			in := DeliveryInput{Message: "m", Files: []File{file("f1", 10)}, Answer: fullAnswer(), Format: "json"}
			expectMails(t, "deliver", func(r *Request) (Change, error) { return r.Deliver("dpo", in, limits, now) }, tt.typ, delivers, MailDelivery)

			// Art. 12(5)(a): a fee, announced by mail.
			expectMails(t, "fee", func(r *Request) (Change, error) {
				return r.AnnounceFee("dpo", FeeTerms{Ground: GroundExcessive, Amount: "100", Reason: "r", Justification: "j"}, now)
			}, tt.typ, tt.fee, MailFee)

			// Art. 19: a notice to each recipient, while open and once carried out.
			expectMails(t, "recipients", func(r *Request) (Change, error) {
				return r.TellRecipients("dpo", []Recipient{recipientA, recipientB}, "erase", now)
			}, tt.typ, tt.recipients, RecipientMail("a"), RecipientMail("b"))

			// Art. 18(3): the notice before a restriction is lifted, once it was carried out.
			done := openOf(t, tt.typ, month)
			if _, err := done.Complete("dpo", "done", now); err != nil {
				t.Fatal(err)
			}
			c, err := done.NoticeLift("dpo", "checked", now.Add(72*time.Hour), now)
			if (err == nil) != tt.lift || (err == nil && !slices.Equal(c.Mails, []MailKind{MailLift})) {
				t.Errorf("lift notice: %v, mails %v; want allowed: %v", err, c.Mails, tt.lift)
			}
		})
	}
}

// openOf is a confirmed request of type ty, due at due.
func openOf(t *testing.T, ty Type, due time.Time) *Request {
	t.Helper()
	r := newOf(ty)
	r.Due = due
	if _, err := r.Verify(r.TokenHash, received.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return r
}

// expectMails applies op to a fresh confirmed request of type ty and checks that it is
// allowed exactly when want says, and then queues mails.
func expectMails(t *testing.T, what string, op func(*Request) (Change, error), ty Type, want bool, mails ...MailKind) {
	t.Helper()
	r := openOf(t, ty, due)
	c, err := op(r)
	switch {
	case want && err != nil:
		t.Errorf("%s refused: %v", what, err)
	case !want && err == nil:
		t.Errorf("%s allowed", what)
	case want && !slices.Equal(c.Mails, mails):
		t.Errorf("%s queues %v, want %v", what, c.Mails, mails)
	}
}

// reason is a TransitionError's reason, or "".
func reason(err error) string {
	var te *TransitionError
	if errors.As(err, &te) {
		return te.Reason
	}
	return ""
}

// A marketing objection cannot be refused on the merits: whatever ground is posted, only an
// identity that could not be confirmed closes it without acting.
func TestMarketingObjectionCannotBeRefused(t *testing.T) {
	for _, g := range allGrounds {
		r := openOf(t, ObjectionMarketing, due)
		_, err := r.Refuse("dpo", Refusal{Ground: g, Reason: "we want to keep mailing you", Justification: "j"}, received.Add(2*time.Hour))
		var fe FieldErrors
		if g == GroundIdentity {
			if err != nil {
				t.Errorf("refusal for an unconfirmed identity: %v", err)
			}
			continue
		}
		if !errors.As(err, &fe) || fe["category"] != CodeInvalidChoice || r.Status != Open {
			t.Errorf("%s: %v, status %s", g, err, r.Status)
		}
	}
}

// Lateness: a refusal is due within one month of receipt whatever the extension
// (Art. 12(4)); an answer that acts, by the deadline in force.
func TestLateness(t *testing.T) {
	ext := &Extension{Deadline: extended}
	tests := []struct {
		name     string
		ext      *Extension
		refuses  bool
		at       time.Time
		want     Lateness
		wantDone bool // whether the completion's answer is late the same way
	}{
		{"refused on the last day", nil, true, due, OnTime, true},
		{"refused a second late", nil, true, due.Add(time.Second), LatePastDue, true},
		{"completed late, not extended", nil, false, due.Add(time.Hour), LatePastDue, true},
		{"completed within the extension", ext, false, due.Add(time.Hour), OnTime, true},
		{"refused within the extension", ext, true, due.Add(time.Hour), LateRefusalPastMonth, false},
		{"refused before the month ran out, extended", ext, true, due.Add(-time.Hour), OnTime, true},
		{"completed after the extension", ext, false, extended.Add(time.Hour), LatePastExtended, true},
		{"refused after the extension", ext, true, extended.Add(time.Hour), LatePastExtended, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openRequest(t)
			r.Extension = tt.ext
			if got := r.LatenessAt(tt.refuses, tt.at); got != tt.want {
				t.Errorf("LatenessAt = %q, want %q", got, tt.want)
			}
			// Recorded on the outcome and found again from the closed request.
			var err error
			if tt.refuses {
				_, err = r.Reject("dpo", "other", "no", tt.at)
			} else {
				_, err = r.Complete("dpo", "done", tt.at)
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome.Late != tt.want || r.Lateness() != tt.want {
				t.Errorf("recorded %q, computed %q, want %q", r.Outcome.Late, r.Lateness(), tt.want)
			}
			if late := r.Audit[len(r.Audit)-1].Note; (tt.want != OnTime) != (len(late) > 6 && late[:6] == "[late:") {
				t.Errorf("audit note %q", late)
			}
		})
	}
	// A partial erasure refuses the rest: it is held to the month like a refusal.
	r := openRequest(t)
	r.Extension = ext
	if _, err := r.Answer("dpo", Answer{Result: ResultPartial, Message: "m", Kept: "k", Basis: BasisLegalObligation, Reason: "r"}, due.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r.Outcome.Late != LateRefusalPastMonth {
		t.Errorf("partial answer within the extension: %q", r.Outcome.Late)
	}
	// An unanswered or expired request is never counted late here.
	if newRequest().Lateness() != OnTime {
		t.Error("an open request has a lateness")
	}
}

// The short clock never runs past the month.
func TestPromptClockWithinTheMonth(t *testing.T) {
	cal, err := deadline.ForCountry("NO")
	if err != nil {
		t.Fatal(err)
	}
	for _, days := range []int{1, 2, 5, 25} {
		got := WithdrawConsent.Due(cal, received, days)
		if want := cal.AddWorkingDays(received, days); days < 20 && !got.Equal(want) {
			t.Errorf("%d working days: %s, want %s", days, got, want)
		}
		if got.After(cal.Due(received)) {
			t.Errorf("%d working days: %s is after the month", days, got)
		}
	}
}

// Art. 19: the checklist knows who is still open, who was told and how.
func TestRecipientChecklist(t *testing.T) {
	g := Register{Recipients: []Recipient{recipientA, recipientB}}
	r := openRequest(t)
	if open := r.Open(g); len(open) != 2 {
		t.Fatalf("open %v", open)
	}
	now := received.Add(2 * time.Hour)
	if _, err := r.RecordRecipient("dpo", recipientB, NotDisclosed, "Never leased.", now); err != nil {
		t.Fatal(err)
	}
	if open := r.Open(g); len(open) != 1 || open[0].ID != "a" || len(r.Told()) != 0 {
		t.Fatalf("open %v, told %v", open, r.Told())
	}
	if _, err := r.TellRecipients("dpo", []Recipient{recipientA}, "Erase customer 4711.", now); err != nil {
		t.Fatal(err)
	}
	if len(r.Open(g)) != 0 || len(r.Told()) != 1 {
		t.Fatalf("open %v, told %v", r.Open(g), r.Told())
	}
	if id, ok := RecipientMail("a").RecipientID(); !ok || id != "a" {
		t.Errorf("mail kind %q", RecipientMail("a"))
	}
	if _, ok := MailCompletion.RecipientID(); ok {
		t.Error("the completion reads as a recipient's mail")
	}
	// After completion the recipients may still be told; after a refusal, not.
	if _, err := r.Complete("dpo", "done", now); err != nil {
		t.Fatal(err)
	}
	if err := r.CanTellRecipients(); err != nil {
		t.Errorf("after completion: %v", err)
	}
	rej := openRequest(t)
	if _, err := rej.Reject("dpo", "other", "no", now); err != nil {
		t.Fatal(err)
	}
	if err := rej.CanTellRecipients(); reason(err) != "not_allowed" {
		t.Errorf("after refusal: %v", err)
	}
}

func TestRegister(t *testing.T) {
	var g Register
	n := 0
	id := func() string { n++; return string(rune('a' + n)) }
	x, err := g.Put(Recipient{Name: " Fakturaservice ApS ", Email: "gdpr@faktura.example", Lang: "da", Receives: "Invoices"}, id)
	if err != nil || x.ID != "b" || x.Name != "Fakturaservice ApS" {
		t.Fatalf("put: %+v, %v", x, err)
	}
	if _, err := g.Put(Recipient{Name: "No address", Lang: "da", Receives: "x"}, id); err == nil {
		t.Error("a recipient without an address was kept")
	}
	x.Receives = "Invoices and reminders"
	if _, err := g.Put(x, id); err != nil || len(g.Recipients) != 1 || g.Recipients[0].Receives != "Invoices and reminders" {
		t.Fatalf("update: %+v, %v", g, err)
	}
	if _, ok := g.Find("b"); !ok || !g.Remove("b") || len(g.Recipients) != 0 || g.Remove("b") {
		t.Errorf("find or remove: %+v", g)
	}
}

// Unconfirmed withdrawals and marketing objections are read by every sweep until they are
// confirmed or expire: the DPO sees them on their short clock.
func TestUnconfirmedPromptTypesOnTheSweep(t *testing.T) {
	for _, ty := range Types {
		r := newOf(ty)
		r.Mails[MailVerification] = MailState{State: MailSent, At: received, Attempts: 1}
		q, when := r.SweepQueue()
		wantAt := received.Add(ReminderAfter)
		if ty.Rules().Clock == ClockPrompt {
			wantAt = received
		}
		if q != QueueUnverified || !when.Equal(wantAt) {
			t.Errorf("%s: %s at %s, want %s", ty, q, when, wantAt)
		}
	}
}

// A pause of the clock for identity (Art. 12(6)) moves the month a refusal is due by as it
// moves the deadline in force, and no time runs while it stands still.
func TestLatenessWithAPause(t *testing.T) {
	r := askedRequest("unsure who")(t) // the clock stops a day after receipt
	if _, err := r.Reply("Here is my customer number.", received.Add(11*24*time.Hour), days(10)); err != nil {
		t.Fatal(err)
	}
	if want := due.AddDate(0, 0, 10); !r.Month().Equal(want) || !r.Deadline().Equal(want) {
		t.Fatalf("month %s, deadline %s; want both %s", r.Month(), r.Deadline(), want)
	}
	if got := r.LatenessAt(true, due.Add(5*24*time.Hour)); got != OnTime {
		t.Errorf("a refusal within the moved month: %q", got)
	}
	if got := r.LatenessAt(true, due.Add(11*24*time.Hour)); got != LatePastDue {
		t.Errorf("a refusal after the moved month: %q", got)
	}
	// Extended after the pause: the month stays where the pause put it.
	r.Extension = &Extension{Deadline: extended}
	if got := r.LatenessAt(true, due.Add(11*24*time.Hour)); got != LateRefusalPastMonth {
		t.Errorf("a refusal after the moved month, extended: %q", got)
	}
	if got := r.LatenessAt(false, due.Add(11*24*time.Hour)); got != OnTime {
		t.Errorf("a completion within the extension: %q", got)
	}
	// While the clock stands still, nothing runs out.
	p := askedRequest("unsure who")(t)
	if got := p.LatenessAt(true, due.Add(60*24*time.Hour)); got != OnTime {
		t.Errorf("a refusal during a pause that began in time: %q", got)
	}
}
