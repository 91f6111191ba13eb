package main

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// A seeded set whose numbers are known: what came in per type and month, how fast and how
// punctually it was answered, and what is overdue now.
func TestReport(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	jan := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC) // Monday 5 January: due Thursday 5 February
	feb := time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC) // Monday 2 February: due Monday 2 March
	mail := func() string { return "r." + uniq() + "@example.dk" }
	sub := func(typ string) dsr.Submission { s := submission("da", mail()); s.Type = typ; return s }

	// January: two access, one erasure.
	e.seed("JAAA-2222", sub("access"), jan, verify, closeAt(jan.Add(3*24*time.Hour)))   // 3 days, on time
	e.seed("JAAB-2222", sub("access"), jan, verify, closeAt(jan.Add(45*24*time.Hour)))  // 45 days, late
	e.seed("JAAC-2222", sub("erasure"), jan, verify, closeAt(jan.Add(10*24*time.Hour))) // 10 days, on time
	// February: one access closed in 20 days, one objection overdue now, one expired.
	e.seed("FBBA-2222", sub("access"), feb, verify, closeAt(feb.Add(20*24*time.Hour))) // 20 days, on time
	e.seed("FBBB-2222", sub("objection"), feb, verify)                                 // due 2 March: overdue on 10 March
	// Expired unconfirmed on 20 February; still within its 30 days of grace on 10 March.
	e.seed("FBBC-2222", sub("access"), feb.Add(18*24*time.Hour), expire)
	// March: one open on track, one unconfirmed.
	e.seed("MRRA-2222", sub("portability"), received0, verify)
	e.seed("MRRB-2222", sub("access"), now0.Add(-time.Hour))

	var all []*dsr.Request
	if err := e.st.EachRequest(context.Background(), func(r *dsr.Request) error { all = append(all, r); return nil }); err != nil {
		t.Fatal(err)
	}
	s := e.h.count(all, now0)
	if s.total != 8 || s.answered != 4 || s.onTime != 3 || s.overdue != 1 || s.active != 2 || s.pending != 1 || s.expired != 1 {
		t.Fatalf("counts %+v", s)
	}
	if m, ok := median(s.days); !ok || m != 15 { // 3, 10, 20, 45
		t.Fatalf("median %v, want 15", m)
	}

	body := page(t, d.get("/admin/report"), http.StatusOK)
	for _, w := range []string{
		"75 %", i18n.T(i18n.DA, "admin.report.of", 3, 4), "15 dage",
		`<span class="tag overdue">1</span>`,
		"januar 2026", "februar 2026", "marts 2026",
		`href="/admin/export.csv"`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	// January's row: access 2, rectification 0, erasure 1, …, total 3.
	jrow := regexp.MustCompile(` data-label="[^"]*"`).ReplaceAllString(section(body, "januar 2026</th>", "</tr>"), "")
	if cells := strings.Count(jrow, "<td>"); cells != 9 || !strings.HasPrefix(strings.TrimSpace(jrow), "<td>2</td><td>0</td><td>1</td>") || !strings.Contains(jrow, "<strong>3</strong>") {
		t.Errorf("January row:\n%s", jrow)
	}
	// Months newest first.
	if strings.Index(body, "marts 2026") > strings.Index(body, "januar 2026") {
		t.Error("months not newest first")
	}
	en := page(t, d.get("/admin/report?lang=en"), http.StatusOK)
	if !strings.Contains(en, "75%") || !strings.Contains(en, "15 days") || !strings.Contains(en, "January 2026") {
		t.Error("English report not in English")
	}
}

func TestMedianAndDays(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want float64
		ok   bool
	}{{nil, 0, false}, {[]int{4}, 4, true}, {[]int{5, 1, 3}, 3, true}, {[]int{1, 2}, 1.5, true}} {
		if got, ok := median(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("median(%v) = %v %v", tc.in, got, ok)
		}
	}
	if got := days(i18n.DA, 1.5); got != "1,5 dage" {
		t.Errorf("days = %q", got)
	}
	if got := days(i18n.EN, 1); got != "1 day" {
		t.Errorf("days = %q", got)
	}
}

// The export holds every request and its timeline, opens in a spreadsheet without evaluating
// anything a requester typed, and is a download.
func TestExportCSV(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	hostile := submission("da", "-"+uniq()+"@example.dk")
	hostile.Name = `=HYPERLINK("http://evil.example","klik")`
	e.seed(ref0, hostile, received0, verify)
	redirect(t, d.act(ref0, "extend", url.Values{"reason": {"Mange systemer."}}))
	redirect(t, d.act(ref0, "complete", url.Values{"message": {"Sendt."}}))
	at := submission("da", "p."+uniq()+"@example.dk")
	at.Name = "+45 1234 @home"
	e.seed("PEND-2222", at, now0.Add(-time.Hour))

	resp := d.get("/admin/export.csv")
	if resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != "text/csv; charset=utf-8" ||
		resp.Headers["Content-Disposition"] != `attachment; filename="requests-2026-03-10.csv"` || resp.Headers["Cache-Control"] != "no-store" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Headers)
	}
	body, ok := strings.CutPrefix(resp.Body, "\ufeff")
	if !ok {
		t.Fatal("no byte order mark for spreadsheets")
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(exportColumns, ",") {
		t.Fatalf("rows %v", rows)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	done := rows[1]
	for name, want := range map[string]string{
		"reference": ref0, "type": "access", "status": "completed",
		"name": `'=HYPERLINK("http://evil.example","klik")`, "email": "'" + hostile.Email,
		"received": "2026-03-02T10:00:00+01:00", "verified": "2026-03-02T11:00:00+01:00",
		"due": "2026-04-07", "extended_deadline": "2026-06-02", "closed": "2026-03-10T10:15:00+01:00",
		"on_time": "yes", "audit_events": "4", // submitted, verified, extended, completed
	} {
		if got := done[col[name]]; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	pending := rows[2]
	if pending[col["name"]] != "'+45 1234 @home" || pending[col["status"]] != "pending_verification" || pending[col["on_time"]] != "" || pending[col["closed"]] != "" {
		t.Errorf("pending row %v", pending)
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("cell %s = %q starts a formula", rows[0][i], cell)
			}
		}
	}
}

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "Karen": "Karen", "=1+1": "'=1+1", "+45": "'+45", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "\rx": "'\rx", "a=b": "a=b",
	} {
		if got := defuse(in); got != want {
			t.Errorf("defuse(%q) = %q, want %q", in, got, want)
		}
	}
}
