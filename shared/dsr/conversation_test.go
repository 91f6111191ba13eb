package dsr

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/token"
)

// days is a Resumer that moves a deadline on by n days whatever the pause, so that a test
// sees what the model does with the calendar's answer (the calendar's own rule is tested in
// package deadline).
type days int

func (n days) Resume(deadline, _, _ time.Time) time.Time { return deadline.AddDate(0, 0, int(n)) }

// askedRequest is an open request with a question to the requester, pausing the clock if
// reason is given.
func askedRequest(reason string) func(*testing.T) *Request {
	return func(t *testing.T) *Request {
		t.Helper()
		r := openRequest(t)
		purpose := PurposeClarification
		if reason != "" {
			purpose = PurposeIdentity
		}
		if _, err := r.Ask("dpo@x.dk", purpose, "Which systems?", reason, received.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

const linkSecretHash = "secrethash"

func linkedRequest(t *testing.T) *Request {
	t.Helper()
	r := openRequest(t)
	r.PageLinks = []string{PageLinkKey(linkSecretHash, r.Email)}
	return r
}

func TestAskRefused(t *testing.T) {
	now := received.Add(48 * time.Hour)
	long := strings.Repeat("x", MaxMessage+1)
	for _, tc := range []struct {
		name                   string
		setup                  func(*testing.T) *Request
		purpose, text, pause   string
		wantReason, wantFields string
	}{
		{"unconfirmed", func(*testing.T) *Request { return newRequest() }, PurposeOther, "q", "", "not_allowed", ""},
		{"closed", func(t *testing.T) *Request {
			r := openRequest(t)
			if _, err := r.Complete("dpo", "done", now); err != nil {
				t.Fatal(err)
			}
			return r
		}, PurposeOther, "q", "", "not_allowed", ""},
		{"no purpose", openRequest, "", "q", "", "", "purpose=invalid_choice"},
		{"unknown purpose", openRequest, "weather", "q", "", "", "purpose=invalid_choice"},
		{"no question", openRequest, PurposeOther, "  ", "", "", "text=required"},
		{"too long", openRequest, PurposeOther, long, "", "", "text=too_long"},
		{"pause without identity", openRequest, PurposeClarification, "q", "why", "", "pause_reason=pause_identity_only"},
		{"pause reason with a control character", openRequest, PurposeIdentity, "q", "a\x00b", "", "pause_reason=control_character"},
		{"everything wrong", openRequest, "x", "", "why", "", "pause_reason=pause_identity_only purpose=invalid_choice text=required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.setup(t)
			version, audit := r.Version, len(r.Audit)
			_, err := r.Ask("dpo", tc.purpose, tc.text, tc.pause, now)
			var te *TransitionError
			var fe FieldErrors
			switch {
			case tc.wantReason != "":
				if !errors.As(err, &te) || te.Reason != tc.wantReason {
					t.Fatalf("err = %v, want %s", err, tc.wantReason)
				}
			case !errors.As(err, &fe) || fe.Error() != "invalid fields: "+tc.wantFields:
				t.Fatalf("err = %v, want %s", err, tc.wantFields)
			}
			if r.Version != version || len(r.Audit) != audit || r.Waiting != nil || len(r.Pauses) != 0 {
				t.Fatalf("a refused question changed the request: %+v", r)
			}
		})
	}
}

func TestAskWaitsForTheRequester(t *testing.T) {
	r := openRequest(t)
	at := received.Add(24 * time.Hour)
	c, err := r.Ask("dpo@x.dk", PurposeClarification, "Which systems?", "", at)
	if err != nil {
		t.Fatal(err)
	}
	m := *c.Message
	if m.From != "dpo@x.dk" || m.Purpose != PurposeClarification || m.Text != "Which systems?" || !m.At.Equal(at) || m.ID == "" {
		t.Fatalf("message = %+v", m)
	}
	if c.Event.Action != ActionAsked || c.Event.Message != m.ID || c.Event.Note != PurposeClarification || len(c.Also) != 0 ||
		!slices.Equal(c.Mails, []MailKind{MailQuestion}) || c.Fields != FieldConversation {
		t.Fatalf("change = %+v", c)
	}
	if q := r.Waiting; q == nil || q.Text != "Which systems?" || q.Message != m.ID || !q.At.Equal(at) || q.By != "dpo@x.dk" {
		t.Fatalf("waiting = %+v", r.Waiting)
	}
	if st, since := r.Conversation(); st != ConversationWaiting || !since.Equal(at) {
		t.Fatalf("conversation = %s since %v", st, since)
	}
	if r.Paused() != nil || !r.Deadline().Equal(due) {
		t.Fatalf("the clock stopped by default: paused %+v, deadline %v", r.Paused(), r.Deadline())
	}
	if r.Mails[MailQuestion].State != MailQueued {
		t.Fatalf("question mail %+v", r.Mails[MailQuestion])
	}
}

func TestPauseOnlyWithAReasonAndResumeOnTheReply(t *testing.T) {
	r := openRequest(t)
	asked := received.Add(24 * time.Hour)
	c, err := r.Ask("dpo@x.dk", PurposeIdentity, "Please send your customer number.", "We cannot tell who you are.", asked)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Also) != 1 || c.Also[0].Action != ActionClockPaused || c.Also[0].Note != "We cannot tell who you are." {
		t.Fatalf("the pause is not in the trail: %+v", c.Also)
	}
	if n := len(r.Audit); r.Audit[n-2].Action != ActionAsked || r.Audit[n-1].Action != ActionClockPaused {
		t.Fatalf("trail ends %+v", r.Audit[n-2:])
	}
	p := r.Paused()
	if p == nil || p.Reason != "We cannot tell who you are." || !p.From.Equal(asked) || p.By != "dpo@x.dk" {
		t.Fatalf("paused = %+v", p)
	}
	if !r.Deadline().Equal(due) {
		t.Fatalf("while paused the deadline is %v, want the one it stopped at", r.Deadline())
	}

	// A second question while the clock stands still does not stop it twice.
	if _, err := r.Ask("dpo@x.dk", PurposeIdentity, "And your postcode?", "still unsure", asked.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if len(r.Pauses) != 1 {
		t.Fatalf("%d pauses", len(r.Pauses))
	}

	replied := asked.Add(5 * 24 * time.Hour)
	c, err = r.Reply("Customer number 4711.", replied, days(5))
	if err != nil {
		t.Fatal(err)
	}
	m := *c.Message
	if m.From != ActorRequester || m.Purpose != "" || c.Event.Action != ActionReplied || c.Event.Actor != ActorRequester || c.Event.Message != m.ID {
		t.Fatalf("reply %+v, change %+v", m, c)
	}
	want := due.AddDate(0, 0, 5)
	if len(c.Also) != 1 || c.Also[0].Action != ActionClockResumed || c.Also[0].Actor != ActorSystem || c.Also[0].Note != want.Format(time.DateOnly) {
		t.Fatalf("the resume is not in the trail: %+v", c.Also)
	}
	if r.Paused() != nil || r.Waiting != nil || !r.Pauses[0].Until.Equal(replied) || !r.Deadline().Equal(want) {
		t.Fatalf("after the reply: paused %+v, waiting %+v, deadline %v", r.Paused(), r.Waiting, r.Deadline())
	}
	if !slices.Equal(c.Mails, []MailKind{MailDPOReply}) {
		t.Fatalf("mails %v", c.Mails)
	}
	if st, since := r.Conversation(); st != ConversationReplied || !since.Equal(replied) {
		t.Fatalf("conversation = %s since %v", st, since)
	}
	// Any DPO's act on the request after the reply settles it.
	if _, err := r.AddNote("dpo@x.dk", "read it", replied.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.Conversation(); st != ConversationNone {
		t.Fatalf("after the DPO's note: %s", st)
	}
}

// An extension granted before a pause moves on with it; the later of the two is in force.
func TestDeadlineAfterPauseAndExtension(t *testing.T) {
	r := openRequest(t)
	if _, err := r.Extend("dpo", "many systems", extended, received.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Ask("dpo", PurposeIdentity, "Who are you?", "unsure", received.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reply("Me.", received.Add(72*time.Hour), days(3)); err != nil {
		t.Fatal(err)
	}
	if want := extended.AddDate(0, 0, 3); !r.Deadline().Equal(want) {
		t.Fatalf("deadline %v, want %v", r.Deadline(), want)
	}
}

func TestReplyRefused(t *testing.T) {
	closed := func(t *testing.T) *Request {
		r := openRequest(t)
		if _, err := r.Reject("dpo", "other", "no", received.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name, text string
		setup      func(*testing.T) *Request
		want       string
	}{
		{"unconfirmed", "a", func(*testing.T) *Request { return newRequest() }, "not_allowed"},
		{"closed", "a", closed, "not_allowed"},
		{"empty", " \n ", openRequest, "invalid fields: text=required"},
		{"too long", strings.Repeat("ø", MaxMessage+1), openRequest, "invalid fields: text=too_long"},
		{"control character", "a\x1bb", openRequest, "invalid fields: text=control_character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.setup(t)
			v := r.Version
			_, err := r.Reply(tc.text, received.Add(2*time.Hour), days(1))
			var te *TransitionError
			if err == nil || (errors.As(err, &te) && te.Reason != tc.want) || (te == nil && err.Error() != tc.want) {
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
			if r.Version != v {
				t.Fatal("a refused reply changed the request")
			}
		})
	}
	// Without an open question the requester may still write.
	r := openRequest(t)
	if _, err := r.Reply("One more thing.", received.Add(2*time.Hour), days(1)); err != nil {
		t.Fatal(err)
	}
}

// Closing a request ends what it waited for; a pause ends without moving the deadline, and
// counts as time that did not run.
func TestClosingEndsTheConversation(t *testing.T) {
	r := askedRequest("unsure who")(t)
	late := due.Add(30 * 24 * time.Hour)
	c, err := r.Reject("dpo", "identity_not_confirmed", "No answer.", late)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Fields.Has(FieldConversation) || r.Waiting != nil || r.Paused() != nil || !r.Pauses[0].Until.Equal(late) || !r.Deadline().Equal(due) {
		t.Fatalf("after closing: fields %b, waiting %+v, pauses %+v", c.Fields, r.Waiting, r.Pauses)
	}
	if !r.AnsweredInTime() {
		t.Fatal("closed during a pause that began before the deadline: not in time")
	}

	// The same, without a pause: late.
	r = askedRequest("")(t)
	if _, err := r.Reject("dpo", "identity_not_confirmed", "No answer.", late); err != nil {
		t.Fatal(err)
	}
	if r.AnsweredInTime() {
		t.Fatal("closed a month after the deadline: in time")
	}
	// A pause that began after the deadline saves nothing.
	r = openRequest(t)
	if _, err := r.Ask("dpo", PurposeIdentity, "Who?", "unsure", due.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Complete("dpo", "done", due.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r.AnsweredInTime() {
		t.Fatal("paused after the deadline had passed: in time")
	}
}

func TestQuestionMailNotRetriedOnceClosed(t *testing.T) {
	r := askedRequest("")(t)
	r.Mails[MailQuestion] = MailState{State: MailFailed, At: received.Add(25 * time.Hour), Attempts: 1}
	if got := r.MailsDue(received.Add(26 * time.Hour)); !slices.Contains(got, MailQuestion) {
		t.Fatalf("a failed question is not retried while open: %v", got)
	}
	if _, err := r.Complete("dpo", "done", received.Add(26*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := r.MailsDue(received.Add(27 * time.Hour)); slices.Contains(got, MailQuestion) {
		t.Fatalf("a question to an answered request is retried: %v", got)
	}
}

func TestMessagesInOrderAndOnlyCommitted(t *testing.T) {
	r := openRequest(t)
	ask, _ := r.Ask("dpo", PurposeOther, "q", "", received.Add(time.Hour))
	reply, _ := r.Reply("a", received.Add(2*time.Hour), days(0))
	asked, replied := *ask.Message, *reply.Message
	orphan := Message{ID: NewMessageID(received.Add(90 * time.Minute)), Text: "never committed"}
	got := r.Messages([]Message{replied, orphan, asked})
	if len(got) != 2 || got[0].ID != asked.ID || got[1].ID != replied.ID {
		t.Fatalf("messages %+v", got)
	}
}

func TestMessageIDs(t *testing.T) {
	at := received.Add(time.Hour)
	a, b := NewMessageID(at), NewMessageID(at)
	if a == b || !strings.HasPrefix(a, "20260302T100000.000Z-") {
		t.Fatalf("ids %s, %s", a, b)
	}
	if later := NewMessageID(at.Add(time.Millisecond)); later <= a || later <= b {
		t.Fatalf("%s does not sort after %s", later, a)
	}
}

func TestPageLinks(t *testing.T) {
	now := received.Add(48 * time.Hour)
	secret := token.Hash("the secret")
	open := func(t *testing.T) *Request {
		r := openRequest(t)
		r.PageLinks = []string{PageLinkKey(token.Hash("another"), r.Email), PageLinkKey(secret, r.Email)}
		return r
	}
	if PageLinkKey(secret, "Jens@Example.dk") != PageLinkKey(secret, "jens@example.dk ") {
		t.Error("the key depends on the address's case")
	}
	if PageLinkKey(secret, "jens@example.dk") == PageLinkKey(secret, "jens@example.com") {
		t.Error("the key does not depend on the address")
	}
	for _, tc := range []struct {
		name   string
		setup  func(*testing.T) *Request
		hash   string
		at     time.Time
		expect bool
	}{
		{"valid", open, secret, now, true},
		{"wrong secret", open, token.Hash("guess"), now, false},
		{"no secret", open, "", now, false},
		{"unconfirmed", func(*testing.T) *Request {
			r := newRequest()
			r.PageLinks = []string{PageLinkKey(secret, r.Email)}
			return r
		}, secret, now, false},
		{"address changed", func(t *testing.T) *Request { r := open(t); r.Email = "other@example.dk"; return r }, secret, now, false},
		{"answered, within the month after", func(t *testing.T) *Request {
			r := open(t)
			if _, err := r.Complete("dpo", "done", now); err != nil {
				t.Fatal(err)
			}
			return r
		}, secret, now.Add(PageAfterClose - time.Second), true},
		{"answered, a month after", func(t *testing.T) *Request {
			r := open(t)
			if _, err := r.Complete("dpo", "done", now); err != nil {
				t.Fatal(err)
			}
			return r
		}, secret, now.Add(PageAfterClose), false},
		// Files uploaded a week before the answer expire after it closed: the page stays
		// until a month after the last file went, to say they are gone.
		{"answered with files, a month after the answer", delivered(now), secret, now.Add(PageAfterClose), true},
		{"answered with files, a month after they expired", delivered(now), secret, now.Add(60 * 24 * time.Hour).Add(PageAfterClose - 7*24*time.Hour), false},
		{"revoked", func(t *testing.T) *Request {
			r := open(t)
			if _, err := r.RevokePageLinks("dpo", now); err != nil {
				t.Fatal(err)
			}
			return r
		}, secret, now, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.setup(t).CanOpenPage(tc.hash, tc.at); got != tc.expect {
				t.Fatalf("CanOpenPage = %v, want %v", got, tc.expect)
			}
		})
	}

	r := openRequest(t)
	var te *TransitionError
	if _, err := r.RevokePageLinks("dpo", now); !errors.As(err, &te) || te.Reason != "no_links" {
		t.Fatalf("revoking no links: %v", err)
	}
	r = open(t)
	c, err := r.RevokePageLinks("dpo@x.dk", now)
	if err != nil || c.Event.Action != ActionLinksRevoked || c.Event.Actor != "dpo@x.dk" || c.Fields != FieldPageLinks || len(r.PageLinks) != 0 {
		t.Fatalf("revoke: %v, %+v", err, c)
	}
}

// A change tried on a clone (a page's preview) leaves the request as it was, the
// conversation's parts included.
func TestCloneKeepsTheConversationApart(t *testing.T) {
	r := askedRequest("unsure")(t)
	r.PageLinks = []string{"k"}
	before := r.Clone()
	c := r.Clone()
	if _, err := c.Reply("Me.", received.Add(72*time.Hour), days(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokePageLinks("dpo", received.Add(73*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r.Waiting == nil || r.Paused() == nil || !r.Pauses[0].Until.IsZero() || len(r.PageLinks) != 1 || r.Version != before.Version {
		t.Fatalf("the clone's changes reached the request: waiting %+v, pauses %+v, links %v", r.Waiting, r.Pauses, r.PageLinks)
	}
}

// Which mails carry the requester's status page link: those to the requester about a
// confirmed request, never a DPO's notice nor a recipient's.
func TestMailsThatCarryTheStatusPageLink(t *testing.T) {
	for kind, want := range map[MailKind]bool{
		MailReceipt: true, MailExtension: true, MailCompletion: true, MailRejection: true, MailQuestion: true,
		MailFee: true, MailLift: true,
		MailVerification: false, MailReminder: false, MailDPONew: false, MailDPOReply: false, RecipientMail("r1"): false,
	} {
		if got := kind.CarriesPageLink(); got != want {
			t.Errorf("%s carries the link: %v, want %v", kind, got, want)
		}
	}
	if MailDPOReply.ToRequester() || !MailQuestion.ToRequester() {
		t.Error("the DPO's notice of a reply is not the requester's, the question is")
	}
}

// A request whose clock stands still is not escalated; once it runs again, it is.
func TestNoEscalationWhilePaused(t *testing.T) {
	r := askedRequest("unsure")(t)
	if r.Escalates() {
		t.Fatal("a paused request escalates")
	}
	if _, err := r.Reply("Me.", received.Add(72*time.Hour), days(3)); err != nil {
		t.Fatal(err)
	}
	if !r.Escalates() {
		t.Fatal("a request whose clock runs again does not escalate")
	}
	if !askedRequest("")(t).Escalates() {
		t.Fatal("a question without a pause stops the escalation")
	}
}

// How late an answer is, with the clock's pauses: a deadline a pause moved is the one that
// applies, and an answer given while the clock stands still is late only if it stopped late.
func TestLatenessWithPauses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		steps   func(t *testing.T, r *Request)
		refuses bool
		at      time.Time
		want    Lateness
	}{
		{"after the month, within the days it stood still", func(t *testing.T, r *Request) {
			must(t)(r.Ask("dpo", PurposeIdentity, "Who?", "unsure", received.Add(24*time.Hour)))
			must(t)(r.Reply("Me.", received.Add(10*24*time.Hour), days(9)))
		}, false, due.AddDate(0, 0, 5), OnTime},
		{"after the moved deadline", func(t *testing.T, r *Request) {
			must(t)(r.Ask("dpo", PurposeIdentity, "Who?", "unsure", received.Add(24*time.Hour)))
			must(t)(r.Reply("Me.", received.Add(10*24*time.Hour), days(9)))
		}, false, due.AddDate(0, 0, 10), LatePastDue},
		{"a refusal while it stands still, stopped in time", func(t *testing.T, r *Request) {
			must(t)(r.Ask("dpo", PurposeIdentity, "Who?", "unsure", received.Add(24*time.Hour)))
		}, true, due.AddDate(0, 1, 0), OnTime},
		{"while it stands still, stopped too late", func(t *testing.T, r *Request) {
			must(t)(r.Ask("dpo", PurposeIdentity, "Who?", "unsure", due.Add(time.Hour)))
		}, false, due.Add(48 * time.Hour), LatePastDue},
		{"a question that did not stop the clock moves nothing", func(t *testing.T, r *Request) {
			must(t)(r.Ask("dpo", PurposeClarification, "Which?", "", received.Add(24*time.Hour)))
			must(t)(r.Reply("This.", received.Add(10*24*time.Hour), days(9)))
		}, false, due.Add(time.Hour), LatePastDue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openRequest(t)
			tc.steps(t, r)
			if got := r.LatenessAt(tc.refuses, tc.at); got != tc.want {
				t.Fatalf("LatenessAt = %q, want %q", got, tc.want)
			}
		})
	}
}

// must fails the test if the change it is given was refused: must(t)(r.Ask(…)).
func must(t *testing.T) func(Change, error) {
	return func(_ Change, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// delivered completes an access request with a status page link (for the secret
// TestPageLinks uses) at now, with a file uploaded a week before and kept 60 days.
func delivered(now time.Time) func(*testing.T) *Request {
	return func(t *testing.T) *Request {
		r := openAccess(t)
		r.PageLinks = []string{PageLinkKey(token.Hash("the secret"), r.Email)}
		f := File{ID: "u1", Name: "data.csv", Size: 10, MD5: "00", Key: r.Ref + "/u1/data.csv", Uploaded: now.Add(-7 * 24 * time.Hour)}
		lim := DeliveryLimits{MaxFile: 100, MaxTotal: 100, Retention: 60 * 24 * time.Hour}
		in := DeliveryInput{Message: "Here you are.", Files: []File{f}, Answer: &AccessAnswer{Purposes: "p", Categories: "c", Recipients: "r", Retention: "t"}}
		if _, err := r.Deliver("dpo", in, lim, now); err != nil {
			t.Fatal(err)
		}
		return r
	}
}
