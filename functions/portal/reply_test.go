package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// The requester answers the DPO's question from the page: the message is kept beside the
// request and named in its audit trail, the request no longer waits, a stopped clock runs
// again with the deadline moved on by the days it stood still, and the DPO is told.
func TestReply(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			hs.t = t
			r := hs.seed(lang, address("reply"))
			hs.clock.Set(t0.Add(24 * time.Hour)) // Tuesday 3 March
			hs.ask(r, dsr.PurposeIdentity, "Your customer number, please.", "Two customers share your name.")
			hs.clock.Set(now0) // Monday 9 March: six days later
			b := hs.browser()
			page := b.open(hs.link(r))
			resp := b.reply(page, "  My customer number is 4711.\r\nThanks.  ")
			if resp.StatusCode != http.StatusSeeOther || resp.Headers["Location"] != "/status?done=reply" {
				t.Fatalf("reply: %d %s\n%s", resp.StatusCode, resp.Headers["Location"], resp.Body)
			}
			got, msgs := hs.request(r.Ref)
			if len(msgs) != 2 || msgs[1].Text != "My customer number is 4711.\nThanks." || msgs[1].From != dsr.ActorRequester {
				t.Fatalf("messages %+v", msgs)
			}
			last := got.Audit[len(got.Audit)-2:]
			if last[0].Action != dsr.ActionReplied || last[0].Actor != dsr.ActorRequester || last[0].Message != msgs[1].ID ||
				last[1].Action != dsr.ActionClockResumed {
				t.Fatalf("trail ends %+v", last)
			}
			// Stopped on Tuesday 3 March, running again on Monday 9 March: 6 days, 7 April → 13 April.
			want := time.Date(2026, 4, 13, 23, 59, 59, 999999999, hs.cfg.Calendar.Location())
			if got.Waiting != nil || got.Paused() != nil || !got.Deadline().Equal(want) {
				t.Fatalf("waiting %+v, paused %+v, deadline %v (want %v)", got.Waiting, got.Paused(), got.Deadline(), want)
			}
			if st, _ := got.Conversation(); st != dsr.ConversationReplied {
				t.Fatalf("conversation %s", st)
			}
			mails := hs.env.Mails(t, hs.dpo)
			if len(mails) == 0 || mails[len(mails)-1].Subject != i18n.T(i18n.DA, "portal.mail.dpo_reply.subject", r.Ref) ||
				strings.Contains(mails[len(mails)-1].Text, "4711") {
				t.Fatalf("DPO mail: %+v", mails)
			}
			if got.Mails[dsr.MailDPOReply].State != dsr.MailSent {
				t.Fatalf("DPO mail state %+v", got.Mails[dsr.MailDPOReply])
			}
			// The page after the answer says so and shows the message.
			done := b.get(resp.Headers["Location"])
			mustContain(t, "page after the reply", done.Body, i18n.T(lang, "portal.done.heading"), "My customer number is 4711.\nThanks.",
				i18n.LongDate(lang, want))
			if strings.Contains(done.Body, i18n.T(lang, "portal.waiting.heading")) {
				t.Error("still waiting after the reply")
			}
		})
	}
}

func TestReplyRefused(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	r := hs.seed(i18n.DA, address("refused"))
	tok := hs.link(r)
	b := hs.browser()
	page := b.open(tok)
	form := hidden(t, page.Body, "form")
	version := r.Version

	// Without the session cookie (another browser, a post from elsewhere): the invalid link's
	// page. With a form drawn for another link: refused. Nothing stored either way.
	stranger := hs.browser()
	if resp := stranger.post("/status/reply", url.Values{"form": {form}, "text": {"x"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("without the cookie: %d", resp.StatusCode)
	}
	other := hs.seed(i18n.DA, address("other"))
	b2 := hs.browser()
	b2.open(hs.link(other))
	if resp := b2.post("/status/reply", url.Values{"form": {form}, "text": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another request's form: %d", resp.StatusCode)
	}
	cross := b.request(http.MethodPost, "/status/reply", url.Values{"form": {form}, "text": {"x"}}, "cross-site")
	cross.Headers["origin"] = "https://evil.example"
	if resp := b.send(cross); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site: %d", resp.StatusCode)
	}

	// Invalid text: the page again, with the error and the text kept.
	for _, tc := range []struct{ text, code string }{
		{"   ", "required"}, {strings.Repeat("ø", dsr.MaxMessage+1), "too_long"}, {"a\x07b", "control_character"},
	} {
		resp := b.post("/status/reply", url.Values{"form": {form}, "text": {tc.text}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", tc.code, resp.StatusCode)
		}
		mustContain(t, tc.code, resp.Body, i18n.T(i18n.DA, "error."+tc.code), i18n.T(i18n.DA, "portal.reply.error_heading"))
		if tc.code == "too_long" && !strings.Contains(resp.Body, tc.text) {
			t.Error("the text is not kept")
		}
	}
	if got, msgs := hs.request(r.Ref); got.Version != version || len(msgs) != 0 {
		t.Fatalf("a refused reply changed the request: version %d, %d messages", got.Version, len(msgs))
	}

	// Answered meanwhile: no reply, and the page says where to write.
	done, err := r.Complete(hs.dpo, "Done.", now0)
	if err != nil {
		t.Fatal(err)
	}
	hs.commit(r, done)
	resp := b.post("/status/reply", url.Values{"form": {form}, "text": {"One more thing."}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("answered: %d", resp.StatusCode)
	}
	mustContain(t, "answered", resp.Body, "Done.", i18n.T(i18n.DA, "portal.lead.closed", i18n.Date(i18n.DA, now0.In(hs.cfg.Calendar.Location()))))

	// Revoked while the page was open: the link is dead, the reply too.
	r3 := hs.seed(i18n.DA, address("revoked"))
	b3 := hs.browser()
	page3 := b3.open(hs.link(r3))
	fresh, _ := hs.request(r3.Ref)
	rv, err := fresh.RevokePageLinks(hs.dpo, now0)
	if err != nil {
		t.Fatal(err)
	}
	hs.commit(fresh, rv)
	if resp := b3.reply(page3, "Hello?"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("revoked: %d", resp.StatusCode)
	}
}

// A reply that races a DPO's change is made again on the request as it then is: the DPO's
// note lands between the reply's read and its write, which is then refused and retried.
func TestReplyAfterAConcurrentChange(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, withHeld())
	r := hs.seed(i18n.EN, address("race"))
	b := hs.browser()
	page := b.open(hs.link(r))
	var once sync.Once
	hs.h.store = racing{requestStore: hs.h.store, before: func() {
		once.Do(func() {
			fresh, _ := hs.request(r.Ref)
			note, err := fresh.AddNote(hs.dpo, "Called them.", now0)
			if err != nil {
				t.Error(err)
				return
			}
			hs.commit(fresh, note)
		})
	}}
	if resp := b.reply(page, "Hello."); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", resp.StatusCode)
	}
	got, msgs := hs.request(r.Ref)
	var actions []dsr.Action
	for _, e := range got.Audit {
		actions = append(actions, e.Action)
	}
	if len(msgs) != 1 || msgs[0].Text != "Hello." || !slices.Equal(actions[len(actions)-2:], []dsr.Action{dsr.ActionNoted, dsr.ActionReplied}) {
		t.Fatalf("messages %+v, trail %v", msgs, actions)
	}
	// The DPO's mail goes after the answer, once.
	if n := len(hs.env.Mails(t, hs.dpo)); n != 0 {
		t.Fatalf("%d DPO mails before the work after the answer", n)
	}
	hs.runAfter()
	if n := len(hs.env.Mails(t, hs.dpo)); n != 1 {
		t.Fatalf("%d DPO mails", n)
	}
}

// racing is the real store with something done just before each commit.
type racing struct {
	requestStore
	before func()
}

func (s racing) Commit(ctx context.Context, r *dsr.Request, c dsr.Change) error {
	s.before()
	return s.requestStore.Commit(ctx, r, c)
}
