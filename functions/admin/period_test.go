package main

import (
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The report covers the requests received in the last twelve months unless a year is chosen,
// and offers the others; its files cover what it covers.
func TestReportPeriods(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	lastYear := time.Date(2025, 12, 31, 22, 30, 0, 0, time.UTC) // 31 December 23:30 in Copenhagen
	e.seed("OLDA-2222", submission("da", "o."+uniq()+"@example.dk"), lastYear, verify, closeAt(lastYear.Add(48*time.Hour)))
	e.seed("NEWA-2222", submission("da", "n."+uniq()+"@example.dk"), received0, verify)
	// Before the last twelve months (April 2025 to March 2026).
	e.seed("OLDB-2222", submission("da", "b."+uniq()+"@example.dk"), time.Date(2025, 3, 31, 9, 0, 0, 0, time.UTC), verify)

	for _, tc := range []struct {
		target, covers string
		shown, hidden  []string
	}{
		{"/admin/report", "de seneste tolv måneder", []string{"december 2025", "marts 2026", `href="/admin/export.csv"`, `href="/admin/report?year=2023"`}, []string{"marts 2025"}},
		{"/admin/report?year=2026", "2026", []string{"marts 2026", `href="/admin/export.csv?year=2026"`, `href="/admin/audit.csv?year=2026"`}, []string{"december 2025"}},
		{"/admin/report?year=2025", "2025", []string{"december 2025", "marts 2025", `href="/admin/export.csv?year=2025"`}, []string{"marts 2026"}},
		// A year the desk cannot have is the default.
		{"/admin/report?year=2027", "de seneste tolv måneder", nil, nil},
	} {
		body := page(t, d.get(tc.target), http.StatusOK)
		if !strings.Contains(body, "modtaget i "+tc.covers) {
			t.Errorf("%s does not say it covers %s", tc.target, tc.covers)
		}
		for _, w := range tc.shown {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", tc.target, w)
			}
		}
		for _, w := range tc.hidden {
			if strings.Contains(body, w+"</th>") {
				t.Errorf("%s shows %q", tc.target, w)
			}
		}
	}
	// The export of a year holds that year's requests alone.
	body := d.get("/admin/export.csv?year=2025").Body
	if !strings.Contains(body, "OLDA-2222") || !strings.Contains(body, "OLDB-2222") || strings.Contains(body, "NEWA-2222") {
		t.Errorf("2025's export:\n%s", body)
	}
}

// An export too large for one response is offered in parts: each part a file that fits, the
// rest read again, until every request of the year has been in exactly one part, in order.
func TestExportInParts(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	var want []string
	for i, ref := range []string{"PRTA-2222", "PRTB-2222", "PRTC-2222", "PRTD-2222", "PRTE-2222"} {
		e.seed(ref, submission("da", "p."+uniq()+"@example.dk"), received0.Add(time.Duration(i)*time.Hour), verify)
		want = append(want, ref)
	}
	e.seed("OLDB-2222", submission("da", "o."+uniq()+"@example.dk"), time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC), verify)
	// Room for the header and two rows at the most.
	whole := d.get("/admin/export.csv")
	rows := strings.Split(whole.Body, "\r\n")
	e.h.exportBudget = jsonLen(rows[0]+"\r\n") + 2*jsonLen(rows[1]+"\r\n") + 8

	// walk follows the parts of a file from its first address and returns the references of
	// each part's rows.
	walk := func(base string) (parts [][]string) {
		link := regexp.MustCompile(`class="button[^"]*" href="(` + regexp.QuoteMeta(base) + `\?[^"]+)"`)
		for next := base + "?year=2026"; next != "" && len(parts) < 10; {
			resp := d.get(next)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", next, resp.StatusCode)
			}
			next = ""
			body := resp.Body
			if !strings.HasPrefix(resp.Headers["Content-Type"], "text/csv") {
				links := link.FindAllStringSubmatch(body, -1)
				if len(links) != 2 || !strings.Contains(body, "Denne del har ") {
					t.Fatalf("parts page:\n%s", body)
				}
				part := d.get(html.UnescapeString(links[0][1]))
				if !strings.HasPrefix(part.Headers["Content-Type"], "text/csv") || !strings.Contains(part.Headers["Content-Disposition"], "-of-2026-from-2026-03-02") {
					t.Fatalf("the part is not a file: %v", part.Headers)
				}
				body, next = part.Body, html.UnescapeString(links[1][1])
			}
			if n := jsonLen(body); n > e.h.exportBudget {
				t.Errorf("%s: a part of %d bytes, over the budget of %d", base, n, e.h.exportBudget)
			}
			cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff")))
			cr.Comma = ';'
			recs, err := cr.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var refs []string
			for _, r := range recs[1:] {
				refs = append(refs, r[0])
			}
			parts = append(parts, refs)
		}
		return parts
	}
	parts := walk("/admin/export.csv")
	if got := fmt.Sprint(parts); got != "[[PRTA-2222 PRTB-2222] [PRTC-2222 PRTD-2222] [PRTE-2222]]" {
		t.Errorf("export parts %s, want %v two at a time", got, want)
	}

	// The history: many rows a request, never a request split between parts.
	e.h.exportBudget = exportBudget
	e.h.exportBudget = jsonLen(d.get("/admin/audit.csv?year=2026").Body) / 2
	parts = walk("/admin/audit.csv")
	var got []string
	for _, p := range parts {
		for _, ref := range p {
			if len(got) == 0 || got[len(got)-1] != ref {
				got = append(got, ref)
			}
		}
	}
	if len(parts) < 2 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit parts %v, want %v in order, each whole in one part", parts, want)
	}
}
