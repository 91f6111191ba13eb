package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/pagecheck"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// The page a link opens, in the requester's language: what they asked, when it is due and
// why, where it stands, the messages both ways in order, and a form to write back. Opening it
// writes nothing and sets the session cookie.
func TestStatusPage(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			hs.t = t
			r := hs.seed(lang, address("page"))
			hs.clock.Set(t0.Add(24 * time.Hour))
			q := hs.ask(r, dsr.PurposeIdentity, "Your customer number, please.\nIt is on your invoices.", "Two customers share your name.")
			hs.clock.Set(now0)
			tok := hs.link(r)
			b := hs.browser()
			resp := b.open(tok)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d\n%s", resp.StatusCode, resp.Body)
			}
			loc := hs.cfg.Calendar.Location()
			mustContain(t, "page", resp.Body,
				i18n.T(lang, "portal.status.heading", r.Ref), r.Ref,
				i18n.T(lang, "type.access.name"), i18n.T(lang, "type.article", i18n.Article(lang, dsr.Access.Article())),
				i18n.Date(lang, t0.In(loc)), i18n.LongDate(lang, r.Due.In(loc)),
				i18n.T(lang, "portal.why.month"),
				i18n.T(lang, "portal.why.paused", i18n.Date(lang, q.At.In(loc))), "Two customers share your name.",
				i18n.T(lang, "portal.waiting.text", i18n.Date(lang, q.At.In(loc))),
				i18n.T(lang, "portal.status.open"), i18n.T(lang, "portal.purpose.identity"),
				"Your customer number, please.\nIt is on your invoices.", controller,
				i18n.T(lang, "portal.reply.submit"),
			)
			if k := missingKey.FindString(resp.Body); k != "" {
				t.Errorf("missing key %s", k)
			}
			if !strings.Contains(resp.Body, `<html lang="`+string(lang)+`"`) {
				t.Error("the page is not in the request's language")
			}
			if h := resp.Headers["Cache-Control"]; h != "no-store" {
				t.Errorf("Cache-Control %q", h)
			}
			if c := b.cookies[cookieName]; c != tok {
				t.Errorf("session cookie %q, want the link's token", c)
			}
			if len(resp.Cookies) != 1 || !strings.Contains(resp.Cookies[0], "; Path=/status;") || !strings.Contains(resp.Cookies[0], "HttpOnly") ||
				!strings.Contains(resp.Cookies[0], "Secure") || !strings.Contains(resp.Cookies[0], "SameSite=Strict") || !strings.Contains(resp.Cookies[0], "Max-Age=28800") {
				t.Errorf("cookie %v", resp.Cookies)
			}
			// From the cookie alone, the same page; the token is in no link of it.
			again := b.get("/status")
			if again.StatusCode != http.StatusOK || !strings.Contains(again.Body, r.Ref) || strings.Contains(again.Body, tok) {
				t.Errorf("from the cookie: %d, or the token is in the page", again.StatusCode)
			}
			// An explicit choice of language wins over the request's.
			other := i18n.EN
			if lang == i18n.EN {
				other = i18n.DA
			}
			if p := b.get("/status?lang=" + string(other)); !strings.Contains(p.Body, `<html lang="`+string(other)+`"`) {
				t.Errorf("?lang=%s ignored", other)
			}
			got, _ := hs.request(r.Ref)
			if got.Version != r.Version {
				t.Errorf("opening the page changed the request: version %d, want %d", got.Version, r.Version)
			}
		})
	}
}

// A withdrawal of consent is on the short clock: its page says it is acted on without undue
// delay and never extended, not that it has a month.
func TestStatusPageOfAWithdrawal(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	r := hs.seedOf(dsr.WithdrawConsent, i18n.DA, address("withdrawal"))
	hs.clock.Set(now0)
	resp := hs.browser().open(hs.link(r))
	loc := hs.cfg.Calendar.Location()
	mustContain(t, "page", resp.Body, i18n.T(i18n.DA, "portal.why.prompt"), i18n.LongDate(i18n.DA, r.Due.In(loc)))
	if strings.Contains(resp.Body, i18n.T(i18n.DA, "portal.why.month")) {
		t.Error("a withdrawal's page says it has a month")
	}
}

// A request answered shows the answer, the complaint address, until when the page opens, and
// no reply form; an extension and a clock that ran again say why the deadline moved.
func TestStatusPageOfAnAnsweredRequest(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	r := hs.seed(i18n.EN, address("done"))
	ch, err := r.Extend(hs.dpo, "Three systems to search.", hs.cfg.Calendar.Extended(r.ReceivedAt), t0.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	hs.commit(r, ch)
	hs.clock.Set(t0.Add(72 * time.Hour))
	hs.ask(r, dsr.PurposeIdentity, "Who are you?", "Unclear.")
	hs.clock.Set(t0.Add(120 * time.Hour))
	rch, err := r.Reply("It is me.", hs.clock.Now(), hs.cfg.Calendar)
	if err != nil {
		t.Fatal(err)
	}
	hs.commit(r, rch)
	closed, err := r.Reject(hs.dpo, "legal_exemption", "We hold nothing about you.", now0)
	if err != nil {
		t.Fatal(err)
	}
	hs.commit(r, closed)
	tok := hs.link(r)
	resp := hs.browser().open(tok)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	loc := hs.cfg.Calendar.Location()
	mustContain(t, "answered page", resp.Body,
		i18n.T(i18n.EN, "portal.lead.closed", i18n.Date(i18n.EN, now0.In(loc))),
		i18n.T(i18n.EN, "portal.why.extended", i18n.Date(i18n.EN, t0.Add(48*time.Hour).In(loc))), "Three systems to search.",
		i18n.T(i18n.EN, "portal.why.resumed", "5 March 2026", "7 March 2026", i18n.LongDate(i18n.EN, r.Deadline().In(loc))),
		i18n.T(i18n.EN, "reject.legal_exemption"), "We hold nothing about you.", i18n.T(i18n.EN, "portal.outcome.court"),
		i18n.T(i18n.EN, "authority.DK.name"),
		i18n.T(i18n.EN, "portal.closed.text", i18n.Date(i18n.EN, now0.Add(dsr.PageAfterClose).In(loc)), hs.dpo),
		"Who are you?", "It is me.", i18n.T(i18n.EN, "portal.messages.you"),
	)
	if strings.Contains(resp.Body, `action="/status/reply"`) {
		t.Error("an answered request offers the reply form")
	}
	if strings.Index(resp.Body, "Who are you?") > strings.Index(resp.Body, "It is me.") {
		t.Error("the messages are not in order")
	}
}

// Every link that does not open a page gets the same page, with the same status, whatever
// is wrong with it: a link cannot be probed.
func TestInvalidLinksAllLookTheSame(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	email := address("invalid")
	valid := hs.seed(i18n.DA, email)
	good := hs.link(valid)

	revoked := hs.seed(i18n.DA, email)
	revokedTok := hs.link(revoked)
	fresh, _ := hs.request(revoked.Ref)
	ch, err := fresh.RevokePageLinks(hs.dpo, now0)
	if err != nil {
		t.Fatal(err)
	}
	hs.commit(fresh, ch)

	old := hs.seed(i18n.DA, email)
	oldTok := hs.link(old)
	done, err := old.Complete(hs.dpo, "Done.", now0.Add(-dsr.PageAfterClose-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	hs.commit(old, done)

	pending := dsr.New(dsr.NewReference(), dsr.Submission{Type: "access", Email: email, Lang: "da"}, t0, hs.cfg.Calendar.Due(t0), "h")
	if err := hs.st.CreateRequest(context.Background(), pending); err != nil {
		t.Fatal(err)
	}
	unknownRef, _ := token.ForRequest(dsr.NewReference())
	ref, secret, _ := strings.Cut(good, ".")

	cases := map[string]string{
		"unknown reference":    unknownRef,
		"forged secret":        ref + "." + strings.Repeat("A", len(secret)),
		"another request's":    strings.Replace(good, ref, revoked.Ref, 1),
		"revoked":              revokedTok,
		"expired":              oldTok,
		"unconfirmed request":  pending.Ref + "." + secret,
		"malformed":            "not-a-token",
		"lower-case reference": strings.ToLower(ref) + "." + secret,
		"a confirmation token": valid.Ref + ".h",
		"empty":                "",
	}
	var first string
	for name, tok := range cases {
		b := hs.browser()
		b.cookies[cookieName] = "stale"
		resp := b.send(b.request(http.MethodGet, "/status?token="+tok, nil, "cross-site"))
		if name == "empty" {
			resp = b.send(b.request(http.MethodGet, "/status", nil, "cross-site"))
		}
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d", name, resp.StatusCode)
		}
		if _, ok := b.cookies[cookieName]; ok {
			t.Errorf("%s: the dead cookie is kept", name)
		}
		body := resp.Body
		if first == "" {
			first = body
			mustContain(t, "invalid page", body, i18n.T(i18n.DA, "portal.invalid.title"), i18n.T(i18n.DA, "portal.invalid.again"))
		} else if body != first {
			t.Errorf("%s: a different page from the others", name)
		}
	}
	// The good link still works.
	if resp := hs.browser().open(good); resp.StatusCode != http.StatusOK {
		t.Fatalf("good link: %d", resp.StatusCode)
	}
}

func TestNotFoundAndOtherRoutes(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	b := hs.browser()
	if resp := b.get("/status/nothing-here"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown route: %d", resp.StatusCode)
	}
	if resp := b.get("/status/reply"); resp.StatusCode != http.StatusSeeOther || resp.Headers["Location"] != "/status" {
		t.Errorf("GET of the reply route: %d %s", resp.StatusCode, resp.Headers["Location"])
	}
	head := b.send(b.request(http.MethodHead, "/status/lost", nil, "none"))
	if head.StatusCode != http.StatusOK || head.Body != "" {
		t.Errorf("HEAD: %d, %d bytes", head.StatusCode, len(head.Body))
	}
}

// Pages are parsed when first rendered; every one of them must parse.
func TestEveryPageParses(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	if n := pagecheck.Each(t, pageFiles, "pages/*.html", hs.h.pages.Page); n < 3 {
		t.Errorf("%d pages", n)
	}
}
