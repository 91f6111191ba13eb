package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// refsIn lists the request links of a page in order.
func refsIn(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`href="/admin/requests/([A-Z0-9-]+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// section returns the part of a page between two markers.
func section(body, from, to string) string {
	_, rest, _ := strings.Cut(body, from)
	s, _, _ := strings.Cut(rest, to)
	return s
}

func TestWorklist(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	day := 24 * time.Hour
	// now0 is Tuesday 10 March 2026. Receipt dates chosen for their deadlines in force:
	e.seed("QVRD-2222", submission("da", "a."+uniq()+"@example.dk"), time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC), verify, start) // due Fri 20 Feb: overdue
	e.seed("TDAY-3333", submission("da", "b."+uniq()+"@example.dk"), time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC), verify)        // due Tue 10 Mar: today
	s := submission("da", "c."+uniq()+"@example.dk")
	s.Type = "erasure"
	e.seed("SQQN-4444", s, time.Date(2026, 2, 13, 9, 0, 0, 0, time.UTC), verify)                  // due Fri 13 Mar: 3 working days
	e.seed("TRCK-5555", submission("da", "d."+uniq()+"@example.dk"), received0, verify)           // due Tue 7 Apr: on track
	e.seed("PEND-6666", submission("da", "e."+uniq()+"@example.dk"), now0.Add(-day))              // unconfirmed
	e.seed("DNEX-7777", submission("da", "f."+uniq()+"@example.dk"), received0, verify, complete) // closed
	e.seed("XPRD-8888", submission("da", "g."+uniq()+"@example.dk"), now0.Add(-10*day), expire)   // expired

	list := func(body string) string {
		return strings.Join(refsIn(section(body, `id="list-heading"`, "</table>")), " ")
	}
	body := page(t, d.get("/admin"), http.StatusOK)
	if got, want := list(body), "QVRD-2222 TDAY-3333 SQQN-4444 TRCK-5555"; got != want {
		t.Fatalf("open list %q, want %q (by deadline)", got, want)
	}
	for _, w := range []string{
		`<span class="tag overdue">Overskredet med 12 arbejdsdage</span>`,
		`<span class="tag due-soon">Frist i dag</span>`,
		`<span class="tag due-soon">3 arbejdsdage tilbage</span>`,
		// 11 Mar – 7 Apr, less Maundy Thursday, Good Friday and Easter Monday.
		`<span class="tag on-track">17 arbejdsdage tilbage</span>`,
		"tirsdag 7. april 2026", "fredag 20. februar 2026",
		i18n.T(i18n.DA, "admin.worklist.summary", "4", "1"),
		// Every list's tab, the open and waiting ones with their counts.
		`href="/admin?view=waiting">` + i18n.T(i18n.DA, "admin.view.waiting") + ` <span class="count">1</span>`,
		`href="/admin?view=closed">`, `href="/admin?view=all">`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("worklist lacks %q", w)
		}
	}
	if strings.Contains(body, i18n.T(i18n.DA, "admin.flood.heading", "1")) {
		t.Error("one unconfirmed request is called a flood")
	}

	for target, want := range map[string]string{
		"/admin?type=erasure":                 "SQQN-4444",
		"/admin?type=bogus":                   "QVRD-2222 TDAY-3333 SQQN-4444 TRCK-5555",
		"/admin?view=waiting":                 "PEND-6666",
		"/admin?view=closed":                  "DNEX-7777 XPRD-8888",
		"/admin?view=all":                     "PEND-6666 TRCK-5555 DNEX-7777 XPRD-8888 SQQN-4444 TDAY-3333 QVRD-2222",
		"/admin?view=all&type=erasure":        "SQQN-4444",
		"/admin?view=closed&type=portability": "",
	} {
		body := page(t, d.get(target), http.StatusOK)
		if got := list(body); got != want {
			t.Errorf("%s: %q, want %q", target, got, want)
		}
	}
	body = page(t, d.get("/admin?view=closed&type=erasure"), http.StatusOK)
	if !strings.Contains(body, i18n.T(i18n.DA, "admin.worklist.none_filtered")) {
		t.Error("an empty filtered list says nothing")
	}
	// A made-up page position starts the list over.
	if loc := redirect(t, d.get("/admin?view=all&after=garbage")); loc != "/admin?view=all" {
		t.Errorf("bad cursor: to %q", loc)
	}
}

// Every list is a page at a time: following "next" shows each request once, in order.
func TestWorklistPages(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	var want []string
	for i := range listPage + 3 {
		ref := dsr.NewReference()
		e.seed(ref, submission("da", "p."+uniq()+"@example.dk"), received0.Add(time.Duration(i)*time.Minute), verify, complete)
		want = append([]string{ref}, want...)
	}
	var got []string
	next := "/admin?view=closed"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("the pages never end")
		}
		body := page(t, d.get(next), http.StatusOK)
		got = append(got, refsIn(section(body, `id="list-heading"`, "</table>"))...)
		next = ""
		if m := regexp.MustCompile(`<a class="button secondary" href="([^"]+)">` + i18n.T(i18n.DA, "admin.page.next")).FindStringSubmatch(body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("paged closed list:\n%v\nwant\n%v", got, want)
	}
}

func TestSearch(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	who := "Karen." + uniq() + "@Example.dk"
	soren := submission("da", "s."+uniq()+"@example.dk")
	soren.Name = "Søren Kierkegaard"
	e.seed("SRCH-2222", submission("da", who), received0, verify, complete)
	e.seed("SRCH-3333", submission("da", who), received0.Add(time.Hour), verify)
	e.seed("SRCH-4444", submission("da", "other."+uniq()+"@example.dk"), received0, verify)
	e.seed("SRCH-5555", soren, received0, verify)
	ola := submission("nb", "ola.nordmann."+uniq()+"@example.no")
	ola.Name = "Ola Nordmann"
	e.seed("SRCH-6666", ola, received0, verify, complete)

	// A reference, however typed, opens the request, closed ones too.
	for _, q := range []string{"SRCH-2222", "srch 2222", " srch2222 "} {
		if loc := redirect(t, d.get("/admin/search?q="+url.QueryEscape(q))); loc != "/admin/requests/SRCH-2222" {
			t.Errorf("%q: to %q", q, loc)
		}
	}
	for q, want := range map[string]string{
		strings.ToLower(who): "SRCH-3333 SRCH-2222", // both of the address's requests, newest first
		"soren":              "SRCH-5555",
		"SØREN":              "SRCH-5555",
		"kierk":              "SRCH-5555",
		"Ola Nordmann":       "SRCH-6666", // a phone call from Ola: the closed request is found
		"nordm":              "SRCH-6666",
		"C-1042":             "SRCH-3333 SRCH-2222 SRCH-4444 SRCH-5555 SRCH-6666", // the customer number they all share
	} {
		body := page(t, d.get("/admin/search?q="+url.QueryEscape(q)), http.StatusOK)
		got := refsIn(body)
		slices.Sort(got)
		w := strings.Fields(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%q: %v, want %v", q, got, w)
		}
	}
	body := page(t, d.get("/admin/search?q="+url.QueryEscape(strings.ToLower(who))), http.StatusOK)
	if got := strings.Join(refsIn(body), " "); got != "SRCH-3333 SRCH-2222" {
		t.Errorf("by email: %q, want newest first", got)
	}
	body = page(t, d.get("/admin/search?q=ZZZZ-9999"), http.StatusOK)
	if !strings.Contains(body, i18n.T(i18n.DA, "admin.search.none", "ZZZZ-9999")) {
		t.Error("no hits not said")
	}
	body = page(t, d.get("/admin/search?q="+url.QueryEscape("<b>K")), http.StatusBadRequest)
	if !strings.Contains(body, i18n.T(i18n.DA, "admin.search.invalid", dsr.MinSearchWord)) || strings.Contains(body, "<b>K") {
		t.Error("too short a query not explained, or echoed unescaped")
	}
	if loc := redirect(t, d.get("/admin/search?q=")); loc != "/admin" {
		t.Errorf("empty search to %q", loc)
	}
}

// The request page shows everything the requester sent, the deadline in force and why, who
// must act next, the whole history with the text of every mail, and offers only the actions
// the status allows, each behind its own choice.
func TestDetail(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	s := submission("nb", "karen."+uniq()+"@example.dk")
	s.Details = "Første linje\nAndre linje"
	e.seed(ref0, s, received0, verify)
	redirect(t, d.act(ref0, "extend", url.Values{"reason": {"Mange systemer."}}))
	redirect(t, d.act(ref0, "note", url.Values{"note": {"Ringte kunden."}}))

	body := page(t, d.get(requestPath(ref0)), http.StatusOK)
	for _, w := range []string{
		"Karen Blixen", s.Email, "C-1042", "Første linje<br>Andre linje", i18n.T(i18n.DA, "admin.langname.nb"),
		i18n.T(i18n.DA, "type.access.name"), "GDPR art. 15",
		"2. marts 2026 kl. 10:00 (CET)", // received, local time, with its zone
		"tirsdag 2. juni 2026",          // the deadline in force, and why
		i18n.T(i18n.DA, "admin.why.extended", "tirsdag 7. april 2026", "10. marts 2026"),
		i18n.T(i18n.DA, "admin.waiting.controller", "tirsdag 2. juni 2026"),
		"Mange systemer.", i18n.T(i18n.DA, "admin.history.mail", i18n.T(i18n.DA, "mail.kind.extension")),
		i18n.T(i18n.NB, "admin.mail.extension.subject", ref0), // the mail as it went, in the requester's language
		i18n.T(i18n.DA, "action.submitted"), i18n.T(i18n.DA, "action.verified"), i18n.T(i18n.DA, "action.extended"), i18n.T(i18n.DA, "action.noted"),
		i18n.T(i18n.DA, "admin.actor.requester"), "Ringte kunden.",
		`href="/admin/requests/` + ref0 + `?action=start#act"`, `href="/admin/requests/` + ref0 + `?action=complete#act"`,
		`href="/admin/requests/` + ref0 + `?action=reject#act"`, `href="/admin/requests/` + ref0 + `?action=note#act"`,
		i18n.T(i18n.DA, "admin.refused.already_extended"),
	} {
		if !strings.Contains(body, w) {
			t.Errorf("detail lacks %q", w)
		}
	}
	// No form is open until one is chosen.
	if strings.Contains(body, "<form method=\"post\" action=\"/admin/requests/") || strings.Contains(body, "action=extend") {
		t.Error("the page opens a form nobody chose, or offers the extension twice")
	}
	// Chosen, exactly that form opens, carrying the page's version.
	body = page(t, d.get(requestPath(ref0)+"?action=complete"), http.StatusOK)
	if n := strings.Count(body, "<form method=\"post\" action=\"/admin/requests/"); n != 1 || !strings.Contains(body, `action="/admin/requests/`+ref0+`/complete"`) ||
		!strings.Contains(body, `name="csrf" value="`+d.csrf+`"`) || !strings.Contains(body, `name="version" value="4"`) {
		t.Errorf("?action=complete opens %d forms:\n%s", n, body)
	}
	// A choice the request does not allow opens nothing.
	if body = page(t, d.get(requestPath(ref0)+"?action=extend"), http.StatusOK); strings.Contains(body, "/extend\"") {
		t.Error("?action=extend opened a form the request does not allow")
	}

	// Closed: only the note remains, and the answer is shown.
	redirect(t, d.act(ref0, "complete", url.Values{"message": {"Alt sendt."}, "confirm": {"no_delivery"}}))
	body = page(t, d.get(requestPath(ref0)), http.StatusOK)
	for _, gone := range []string{"action=start", "action=complete", "action=reject", "action=extend"} {
		if strings.Contains(body, gone) {
			t.Errorf("closed request still offers %s", gone)
		}
	}
	if !strings.Contains(body, "Alt sendt.") || !strings.Contains(body, i18n.T(i18n.DA, "admin.detail.closed")) ||
		!strings.Contains(body, i18n.T(i18n.DA, "admin.waiting.closed_on_time", "10. marts 2026")) {
		t.Error("closed request does not show its answer")
	}

	// A fresh open request offers the extension with the date it would move to.
	e.seed("FRSH-2222", submission("en", "f."+uniq()+"@example.dk"), received0, verify)
	body = page(t, d.get(requestPath("FRSH-2222")+"?action=extend"), http.StatusOK)
	if !strings.Contains(body, i18n.T(i18n.DA, "admin.extend.about", "tirsdag 2. juni 2026")) ||
		!strings.Contains(body, i18n.T(i18n.DA, "admin.why.month", "2. marts 2026")) {
		t.Error("extension form does not say the new date")
	}
}

// Format characters in a requester's details (a right-to-left override, a zero-width space)
// are shown to the DPO by name, not applied: the page reads as the text is stored.
func TestDetailShowsInvisibleCharacters(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	s := submission("da", "cf."+uniq()+"@example.dk")
	s.Details = "Slet kontoen \u202egnidlob\u202c tak\nog\u200bså denne"
	e.seed(ref0, s, received0, verify)
	body := page(t, d.get(requestPath(ref0)), http.StatusOK)
	for _, w := range []string{`Slet kontoen <span class="cf">U+202E</span>gnidlob<span class="cf">U+202C</span> tak<br>og<span class="cf">U+200B</span>så denne`} {
		if !strings.Contains(body, w) {
			t.Errorf("detail lacks %q", w)
		}
	}
	for _, raw := range []string{"\u202e", "\u202c", "\u200b"} {
		if strings.Contains(body, raw) {
			t.Errorf("detail page carries %+q as is", raw)
		}
	}
}

// Whatever a requester typed is shown as text, never as markup, on every page that shows it.
func TestRequesterTextIsEscaped(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	s := submission("da", "-x"+uniq()+"@example.dk")
	s.Name = `<script>alert("name")</script>`
	s.Details = "<img src=x onerror=alert(1)>\n=HYPERLINK(\"http://evil.example\")"
	s.CustomerRef = `"><b>ref</b>`
	e.seed(ref0, s, received0, verify)
	if errs := s.Normalize().Validate(); errs != nil {
		t.Fatalf("the hostile submission must be one intake accepts: %v", errs)
	}
	for _, target := range []string{"/admin", requestPath(ref0), "/admin/search?q=" + url.QueryEscape(s.Email)} {
		body := page(t, d.get(target), http.StatusOK)
		for _, raw := range []string{"<script>alert", "<img src=x", "<b>ref</b>"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s shows %q unescaped", target, raw)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;") {
			t.Errorf("%s does not show the name as text", target)
		}
	}
}

// A request held at intake during a flood is on the DPO's list of unconfirmed requests, said
// to be held, and its page tells why in its history.
func TestHeldRequestIsShown(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ctx := context.Background()
	r := dsr.New(ref0, submission("da", "held."+uniq()+"@example.dk"), received0, e.cfg.Calendar.Due(received0), "")
	r.Hold()
	if err := e.st.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	body := page(t, d.get("/admin?view=waiting"), http.StatusOK)
	if !strings.Contains(body, ref0) || !strings.Contains(body, i18n.T(i18n.DA, "admin.worklist.held")) {
		t.Fatalf("the worklist does not show the held request as held:\n%s", body)
	}
	body = page(t, d.get(requestPath(ref0)), http.StatusOK)
	if !strings.Contains(body, i18n.T(i18n.DA, "action.held")) {
		t.Errorf("the request page does not say it was held")
	}
}
