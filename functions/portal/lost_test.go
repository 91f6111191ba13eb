package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// A requester who lost their links enters their address and gets one mail with a new link to
// each of their requests that still has a page; the answer is the same page for any address.
func TestLostLink(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, withHeld())
	email := address("lost")
	a := hs.seed(i18n.DA, email)
	bReq := hs.seed(i18n.NB, strings.ToUpper(email))
	// Unconfirmed, and answered long ago: no page, so no link.
	pending := dsr.New(dsr.NewReference(), dsr.Submission{Type: "access", Email: email, Lang: "da"}, t0, hs.cfg.Calendar.Due(t0), "h")
	if err := hs.st.CreateRequest(context.Background(), pending); err != nil {
		t.Fatal(err)
	}
	old := hs.seed(i18n.DA, email)
	done, err := old.Complete(hs.dpo, "Done.", now0.Add(-dsr.PageAfterClose-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	hs.commit(old, done)
	hs.seed(i18n.DA, address("someone-else"))

	b := hs.browser()
	form := b.get("/status/lost?lang=en")
	mustContain(t, "form", form.Body, i18n.T(i18n.EN, "portal.lost.title"), i18n.T(i18n.EN, "portal.lost.submit"))
	known := b.post("/status/lost", url.Values{"email": {" " + email + " "}, "lang": {"en"}})
	unknown := b.post("/status/lost", url.Values{"email": {address("nobody")}, "lang": {"en"}})
	if known.StatusCode != http.StatusSeeOther || unknown.StatusCode != known.StatusCode ||
		known.Headers["Location"] != "/status/lost/sent?lang=en" || unknown.Headers["Location"] != known.Headers["Location"] ||
		known.Body != unknown.Body || len(known.Cookies) != 0 || len(unknown.Cookies) != 0 {
		t.Fatalf("known %d %q, unknown %d %q", known.StatusCode, known.Headers["Location"], unknown.StatusCode, unknown.Headers["Location"])
	}
	sent := b.get(known.Headers["Location"])
	mustContain(t, "sent page", sent.Body, i18n.T(i18n.EN, "portal.lost.sent.title"), i18n.T(i18n.EN, "portal.lost.sent.text"))

	// Nothing was looked up before the answer.
	if n := len(hs.env.Mails(t, email)); n != 0 {
		t.Fatalf("%d mails before the work after the answer", n)
	}
	hs.runAfter()
	mails := hs.env.Mails(t, email)
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	m := mails[0]
	if m.Subject != i18n.T(i18n.EN, "portal.mail.lost.subject", controller) {
		t.Errorf("subject %q", m.Subject)
	}
	toks := regexp.MustCompile(`/status\?token=(\S+)`).FindAllStringSubmatch(m.Text, -1)
	var refs []string
	for _, tm := range toks {
		tok, _ := url.QueryUnescape(tm[1])
		page := hs.browser().open(tok)
		if page.StatusCode != http.StatusOK {
			t.Errorf("a mailed link does not open: %d", page.StatusCode)
		}
		refs = append(refs, strings.Split(tok, ".")[0])
	}
	sort.Strings(refs)
	want := []string{a.Ref, bReq.Ref}
	sort.Strings(want)
	if !slices.Equal(refs, want) {
		t.Fatalf("links to %v, want %v", refs, want)
	}
}

func TestLostLinkRefusesWhatIsNoAddress(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	b := hs.browser()
	for _, v := range []string{"", "not an address", "a@b", "Name <x@example.dk>"} {
		resp := b.post("/status/lost", url.Values{"email": {v}, "lang": {"da"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, `aria-invalid="true"`) {
			t.Errorf("%q: %d", v, resp.StatusCode)
		}
	}
	cross := b.request(http.MethodPost, "/status/lost", url.Values{"email": {"x@example.dk"}}, "cross-site")
	cross.Headers["origin"] = "https://evil.example"
	if resp := b.send(cross); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site: %d", resp.StatusCode)
	}
}

// Past the per-address limit, the answer is the same and no mail goes out.
func TestLostLinkRateLimited(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, withEnv("RATE_LIMIT_PER_EMAIL", "2"))
	email := address("limited")
	hs.seed(i18n.DA, email)
	var first string
	for i := range 4 {
		b := hs.browser()
		b.ip = "203.0.113." + string(rune('1'+i))
		resp := b.post("/status/lost", url.Values{"email": {email}, "lang": {"da"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("post %d: %d", i, resp.StatusCode)
		}
		if first == "" {
			first = resp.Headers["Location"]
		} else if resp.Headers["Location"] != first {
			t.Fatalf("post %d answered otherwise", i)
		}
	}
	if n := len(hs.env.Mails(t, email)); n != 2 {
		t.Fatalf("%d mails, want 2", n)
	}
}

// The answer takes the same time for an address with requests and one without: the work
// that differs is done after it. Run as Lambda runs it (after the answer) and as a runtime
// without the Extensions API does (before it, held to the floor).
func TestLostLinkTiming(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		opts []harnessOpt
	}{{"after the answer", []harnessOpt{withHeld()}}, {"before the answer", nil}} {
		t.Run(mode.name, func(t *testing.T) {
			hs := newHarness(t, mode.opts...)
			hs.h.pace.floor = 150 * time.Millisecond
			known := address("timing")
			for range 3 {
				hs.seed(i18n.DA, known)
			}
			const runs = 6
			var tk, tu []time.Duration
			for i := range runs {
				for _, who := range []string{known, address("nobody")} {
					b := hs.browser()
					b.ip = "192.0.2." + string(rune('1'+i))
					start := time.Now()
					resp := b.post("/status/lost", url.Values{"email": {who}, "lang": {"da"}})
					d := time.Since(start)
					if resp.StatusCode != http.StatusSeeOther {
						t.Fatalf("%d", resp.StatusCode)
					}
					if who == known {
						tk = append(tk, d)
					} else {
						tu = append(tu, d)
					}
					hs.runAfter()
				}
			}
			mk, mu := median(tk), median(tu)
			t.Logf("median known %v, unknown %v", mk, mu)
			if mk < hs.h.pace.floor || mu < hs.h.pace.floor {
				t.Errorf("answered before the floor: %v, %v", mk, mu)
			}
			// The pacer's bounds: every answer is held to the slowest recent one less 5% per
			// answer since (paceDecay), so the two may differ by that much, plus the noise of
			// a machine busy with other tests (the race detector, other packages): 15% of
			// the slower median, and never less than 40 ms.
			if diff, tol := (mk - mu).Abs(), max(40*time.Millisecond, max(mk, mu)*15/100); diff > tol {
				t.Errorf("known and unknown addresses differ by %v (more than %v)", diff, tol)
			}
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
