package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// TestLinksThatDoNotWork: every kind of bad link gets the same page, from GET and POST alike,
// so nobody can tell an unknown reference from a wrong secret or an expired link; and none of
// them changes anything.
func TestLinksThatDoNotWork(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	email := address("links")
	tok := hs.file(email, i18n.EN)
	ref := refOf(tok)
	secret := strings.SplitN(tok, ".", 2)[1]
	other := token.New()

	// A request whose link was replaced by the reminder's.
	replacedTok := hs.file(address("replaced"), i18n.EN)
	replaced := hs.request(refOf(replacedTok))
	_, newHash := token.ForRequest(replaced.Ref)
	change, err := replaced.Remind(newHash, hs.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := hs.st.Commit(context.Background(), replaced, change); err != nil {
		t.Fatal(err)
	}

	bad := map[string]string{
		"wrong secret":            ref + "." + other,
		"unknown reference":       "ZZZZ-ZZZZ." + secret,
		"reference not canonical": strings.ToLower(ref) + "." + secret,
		"secret cut short":        tok[:len(tok)-1],
		"secret too long":         tok + "A",
		"no secret":               ref,
		"not base64":              ref + "." + strings.Repeat("!", 43),
		"empty":                   "",
		"markup":                  `"><script>alert(1)</script>`,
		"replaced by a reminder":  replacedTok,
		"two dots":                ref + "." + secret + "." + secret,
		"only a dot":              ".",
		"huge":                    strings.Repeat("A", 4000),
	}
	before := hs.item(ref)
	var first string
	for name, bt := range bad {
		t.Run(name, func(t *testing.T) {
			get := hs.do(withQuery(event(t, "intake-verify-get"), "token="+url.QueryEscape(bt)+"&lang=en"))
			for _, resp := range []web.Response{get, hs.verifyPost(bt, i18n.EN)} {
				if resp.StatusCode != http.StatusNotFound {
					t.Fatalf("%s, want 404\n%s", fmtStatus(resp), resp.Body)
				}
				mustContain(t, "page", resp.Body, i18n.T(i18n.EN, "intake.invalid.title"), `href="/?lang=en"`)
				mustNotContain(t, "page", resp.Body, "<script>alert", ref+"</")
				// The language switch may carry the token; the page itself must not differ.
				main := mainOf(resp.Body)
				if first == "" {
					first = main
				} else if main != first {
					t.Errorf("this bad link's page differs from another's:\n%s\n---\n%s", main, first)
				}
			}
		})
	}
	if !sameItem(before, hs.item(ref)) {
		t.Error("a bad link changed the request")
	}

	// Expired: a second past the seven days, the right token no longer works either.
	hs.clock.Add(dsr.ExpireAfter + time.Second)
	get := hs.do(withQuery(event(t, "intake-verify-get"), "token="+url.QueryEscape(tok)+"&lang=en"))
	for _, resp := range []web.Response{get, hs.verifyPost(tok, i18n.EN)} {
		if resp.StatusCode != http.StatusNotFound || mainOf(resp.Body) != first {
			t.Errorf("expired link: %s", fmtStatus(resp))
		}
	}
	if r := hs.request(ref); r.Status != dsr.PendingVerification || len(hs.env.Mails(t, email)) != 1 {
		t.Error("an expired link confirmed the request or sent mail")
	}
}

// mainOf is a page's <main>, without the header whose language links carry the token.
func mainOf(page string) string {
	i, j := strings.Index(page, "<main"), strings.Index(page, "</main>")
	if i < 0 || j < i {
		return page
	}
	return page[i:j]
}

// TestConfirmTwice: the second click says "already confirmed" and sends nothing; so does
// the link opened again later.
func TestConfirmTwice(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	email := address("twice")
	tok := hs.file(email, i18n.NB)
	if resp := hs.verifyPost(tok, i18n.NB); resp.StatusCode != http.StatusOK ||
		!strings.Contains(resp.Body, i18n.T(i18n.NB, "intake.confirmed.title")) {
		t.Fatalf("first confirm: %s", fmtStatus(resp))
	}
	version := hs.request(refOf(tok)).Version
	for _, resp := range []web.Response{hs.verifyPost(tok, i18n.NB), hs.verifyGet(tok)} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, i18n.T(i18n.NB, "intake.already.title")) {
			t.Errorf("again: %s\n%s", fmtStatus(resp), resp.Body)
		}
	}
	// Weeks later, after the link would have expired, it still says so.
	hs.clock.Add(30 * 24 * time.Hour)
	if resp := hs.verifyGet(tok); !strings.Contains(resp.Body, i18n.T(i18n.NB, "intake.already.title")) {
		t.Errorf("later: %s", fmtStatus(resp))
	}
	if n := len(hs.env.Mails(t, email)); n != 2 {
		t.Errorf("%d mails to the requester, want verification and one receipt", n)
	}
	if n := len(hs.env.Mails(t, hs.dpo)); n != 1 {
		t.Errorf("%d mails to the DPO, want 1", n)
	}
	if r := hs.request(refOf(tok)); r.Version != version {
		t.Errorf("version %d after repeated confirms, want %d", r.Version, version)
	}
}

// TestConfirmConcurrently: of many simultaneous clicks exactly one wins the write and one
// receipt goes out; everyone else sees "already confirmed".
func TestConfirmConcurrently(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	email := address("race")
	tok := hs.file(email, i18n.DA)
	const n = 6
	bodies := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			resp, _ := hs.h.Handle(context.Background(), withForm(event(t, "intake-verify-post"), url.Values{"token": {tok}, "lang": {"da"}}))
			bodies[i] = resp.Body
			if resp.StatusCode != http.StatusOK {
				t.Errorf("click %d: %s", i, fmtStatus(resp))
			}
		})
	}
	close(start)
	wg.Wait()
	var confirmed, already int
	for _, b := range bodies {
		switch {
		case strings.Contains(b, i18n.T(i18n.DA, "intake.confirmed.title")):
			confirmed++
		case strings.Contains(b, i18n.T(i18n.DA, "intake.already.title")):
			already++
		}
	}
	if confirmed != 1 || already != n-1 {
		t.Errorf("%d confirmed and %d already-confirmed pages, want 1 and %d", confirmed, already, n-1)
	}
	var receipts int
	for _, m := range hs.env.Mails(t, email) {
		if m.Subject == i18n.T(i18n.DA, "intake.mail.receipt.subject", refOf(tok)) {
			receipts++
		}
	}
	if receipts != 1 || len(hs.env.Mails(t, hs.dpo)) != 1 {
		t.Errorf("%d receipts and %d DPO mails, want exactly 1 each", receipts, len(hs.env.Mails(t, hs.dpo)))
	}
	r := hs.request(refOf(tok))
	if r.Status != dsr.Open || len(r.Audit) != 2 {
		t.Errorf("status %s with %d audit events, want open with 2", r.Status, len(r.Audit))
	}
}

// TestVerifyPageLanguage: the page speaks the language the request was filed in unless the
// person picks another; the switch keeps the token.
func TestVerifyPageLanguage(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	tok := hs.file(address("vlang"), i18n.NB)
	resp := hs.do(withHeader(withQuery(event(t, "intake-verify-get"), "token="+url.QueryEscape(tok)), "accept-language", "en"))
	mustContain(t, "page", resp.Body, `<html lang="nb">`, `href="/verify?token=`+url.QueryEscape(tok)+`&amp;lang=da"`)
	resp = hs.do(withQuery(event(t, "intake-verify-get"), "token="+url.QueryEscape(tok)+"&lang=da"))
	mustContain(t, "page", resp.Body, `<html lang="da">`, `name="lang" value="da"`)
	// An unknown link falls back to the browser's language: it must not reveal a request's.
	resp = hs.do(withHeader(withQuery(event(t, "intake-verify-get"), "token="+url.QueryEscape(refOf(tok)+"."+token.New())), "accept-language", "en"))
	mustContain(t, "page", resp.Body, `<html lang="en">`)
}

// TestLinkAtItsExpiry: a link expires on a whole second (the form's clock here has no
// fraction). One second before, the page offers the button and pressing it confirms; at the
// expiry itself and a second after, both say the link is not valid and nothing changes.
func TestLinkAtItsExpiry(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	for _, tc := range []struct {
		off  time.Duration
		live bool
	}{{-time.Second, true}, {0, false}, {time.Second, false}} {
		hs.clock.Set(t0)
		email := address("expiry")
		tok := hs.file(email, i18n.EN)
		r := hs.request(refOf(tok))
		if r.TokenExpires != t0.Add(dsr.ExpireAfter) {
			t.Fatalf("token expires %v, want the whole second %v", r.TokenExpires, t0.Add(dsr.ExpireAfter))
		}
		hs.clock.Set(r.TokenExpires.Add(tc.off))
		want := http.StatusNotFound
		if tc.live {
			want = http.StatusOK
		}
		if show := hs.verifyGet(tok); show.StatusCode != want {
			t.Errorf("%v from expiry: the page answers %s, want %d", tc.off, fmtStatus(show), want)
		}
		resp := hs.verifyPost(tok, i18n.EN)
		hs.runAfter()
		got := hs.request(r.Ref)
		switch {
		case resp.StatusCode != want:
			t.Errorf("%v from expiry: confirming answers %s, want %d", tc.off, fmtStatus(resp), want)
		case tc.live && got.Status != dsr.Open:
			t.Errorf("%v from expiry: status %s, want open", tc.off, got.Status)
		case !tc.live && (got.Status != dsr.PendingVerification || got.Version != r.Version || len(hs.env.Mails(t, email)) != 1):
			t.Errorf("%v from expiry: the link changed the request (%s, v%d) or sent mail", tc.off, got.Status, got.Version)
		}
	}
}

// TestConfirmationShowsWhatIsConfirmed: the attack of issue 19, item 8. Someone files a
// request in another person's name, with words of their own; the person whose address it is
// opens the link. The page shows them what they would confirm (the type, and the first lines
// of the details as written, format characters named), before the button.
func TestConfirmationShowsWhatIsConfirmed(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	email := address("victim")
	v := hs.form(email, i18n.EN)
	v.Set("type", string(dsr.Erasure))
	v.Set("details", "Delete my account and all orders.\nAlso cancel my subscription.\nThird line.\nFourth line is not shown.\nFifth.")
	if resp := hs.postForm(v); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("file: %s", fmtStatus(resp))
	}
	tok := tokenFrom(t, hs.env.Mails(t, email)[0].Text)
	body := hs.verifyGet(tok).Body
	mustContain(t, "confirmation page", body, i18n.T(i18n.EN, "type.erasure.name"),
		"Delete my account and all orders.", "Also cancel my subscription.", "Third line.", "…")
	mustNotContain(t, "confirmation page", body, "Fourth line is not shown.")
	if i, j := strings.Index(body, "Delete my account"), strings.Index(body, `<form method="post"`); i < 0 || j < 0 || i > j {
		t.Error("the details are not shown before the button")
	}

	// Format characters in the details are named, not applied.
	email = address("bidi")
	v = hs.form(email, i18n.EN)
	v.Set("details", "Refund to account \u202e4321\u202c please")
	hs.postForm(v)
	tok = tokenFrom(t, hs.env.Mails(t, email)[0].Text)
	body = hs.verifyGet(tok).Body
	mustContain(t, "confirmation page", body, `<span class="cf">U+202E</span>4321<span class="cf">U+202C</span>`)
	mustNotContain(t, "confirmation page", body, "\u202e")
}
