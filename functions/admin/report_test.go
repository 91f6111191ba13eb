package main

import (
	"context"
	"net/http"
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
