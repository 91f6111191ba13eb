package main

import (
	"context"
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

	p, err := e.st.PeriodPage(context.Background(), jan.AddDate(0, 0, -10), now0, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	s := newStats()
	e.h.count(&s, p.Requests, now0)
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
		`href="/admin/export.csv"`, `href="/admin/audit.csv"`, `href="/admin/report?year=2025"`,
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
	if table := section(body, `id="months-heading"`, "</table>"); strings.Index(table, "marts 2026") > strings.Index(table, "januar 2026") {
		t.Error("months not newest first")
	}
	// The chart: a bar a month of the last twelve (April 2025 to March 2026), each split into
	// answered on time, late and not answered, its numbers in its title; the peak (January's
	// 3) is the plot's full height.
	chart := section(body, `<figure class="chart">`, "</figure>")
	if n := strings.Count(chart, "<g>"); n != chartMonths {
		t.Errorf("%d bars, want %d", n, chartMonths)
	}
	for _, w := range []string{
		i18n.T(i18n.DA, "admin.chart.bar", "januar 2026", 3, 2, 1, 0),
		i18n.T(i18n.DA, "admin.chart.bar", "februar 2026", 3, 1, 0, 2),
		i18n.T(i18n.DA, "admin.chart.bar", "marts 2026", 2, 0, 0, 2),
		i18n.T(i18n.DA, "admin.chart.bar", "april 2025", 0, 0, 0, 0),
		`height="80" class="bar-ok"`, `height="40" class="bar-late"`,
		`<span class="swatch bar-late" aria-hidden="true"></span>` + i18n.T(i18n.DA, "admin.chart.late"),
	} {
		if !strings.Contains(chart, htmlEscape(w)) && !strings.Contains(chart, w) {
			t.Errorf("chart lacks %q", w)
		}
	}
	en := page(t, d.get("/admin/report?lang=en"), http.StatusOK)
	if !strings.Contains(en, "75%") || !strings.Contains(en, "15 days") || !strings.Contains(en, "January 2026") {
		t.Error("English report not in English")
	}
}

// The report counts the extensions and the refusals by their ground (Art. 5(2)).
func TestReportExtensionsAndRefusals(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	refs := []string{dsr.NewReference(), dsr.NewReference(), dsr.NewReference(), dsr.NewReference()}
	for _, ref := range refs {
		e.seed(ref, submission("da", "x."+uniq()+"@example.dk"), received0, verify)
	}
	redirect(t, d.act(refs[0], "extend", url.Values{"reason": {"Mange systemer."}}))
	for _, ref := range refs[1:3] {
		redirect(t, d.act(ref, "reject", url.Values{"category": {string(dsr.GroundManifestlyUnfounded)},
			"reason": {"Samme anmodning som i sidste uge."}, "justification": {"Fem ens anmodninger i maj."}}))
	}
	redirect(t, d.act(refs[3], "reject", url.Values{"category": {string(dsr.GroundOther)}, "reason": {"Ingen konto."}}))

	body := page(t, d.get("/admin/report"), http.StatusOK)
	for _, w := range []string{
		htmlEscape(i18n.T(i18n.DA, "admin.report.extended")) + "</dt><dd>1</dd>",
		htmlEscape(i18n.T(i18n.DA, "admin.report.refused", i18n.T(i18n.DA, "reject."+string(dsr.GroundManifestlyUnfounded)))) + "</dt><dd>2</dd>",
		htmlEscape(i18n.T(i18n.DA, "admin.report.refused", i18n.T(i18n.DA, "reject."+string(dsr.GroundOther)))) + "</dt><dd>1</dd>",
	} {
		if !strings.Contains(body, w) {
			t.Errorf("report lacks %q", w)
		}
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
