package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// sweepRun is one run of the sweep in a scenario and the digest it must send: level → the
// names of the requests on it (nil: no digest at all).
type sweepRun struct {
	at   [5]int // year, month, day, hour, minute, local
	want map[string][]string
}

type scenario struct {
	name, country, lang string
	seeds               map[string]seed
	// deadlines is the deadline in force each seed must get from the calendar: a check that
	// the scenario tests what it says it tests.
	deadlines map[string]string
	runs      []sweepRun
}

func localTime(t testing.TB, country string, y, m, d, hh, mm int) time.Time {
	t.Helper()
	loc, err := deadline.Location(country)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(y, time.Month(m), d, hh, mm, 0, 0, loc)
}

func scenarios(t *testing.T) []scenario {
	dk := func(y, m, d int) time.Time { return localTime(t, "DK", y, m, d, 10, 0) }
	no := func(y, m, d int) time.Time { return localTime(t, "NO", y, m, d, 10, 0) }
	return []scenario{{
		// Christmas 2026 in Denmark: 25 and 26 December and 1 January are holidays, so five
		// working days from Monday 21 December reach Tuesday 29 December.
		name: "DK around Christmas", country: "DK", lang: "da",
		seeds: map[string]seed{
			"wd5-exact":     {received: dk(2026, 11, 29), verified: true},
			"beyond":        {received: dk(2026, 11, 30), verified: true},
			"wd5-at-3":      {received: dk(2026, 11, 24), verified: true, typ: dsr.Portability},
			"wd2-exact":     {received: dk(2026, 11, 23), verified: true, typ: dsr.Erasure},
			"wd2-at-1":      {received: dk(2026, 11, 22), verified: true, lang: "en"},
			"today":         {received: dk(2026, 11, 21), verified: true, started: true},
			"overdue":       {received: dk(2026, 11, 18), verified: true, typ: dsr.Objection},
			"extended-far":  {received: dk(2026, 10, 20), verified: true, extendAt: dk(2026, 11, 10)},
			"extended-near": {received: dk(2026, 9, 22), verified: true, extendAt: dk(2026, 10, 15), started: true},
			"completed":     {received: dk(2026, 11, 17), verified: true, completeAt: dk(2026, 12, 1)},
			"unconfirmed":   {received: localTime(t, "DK", 2026, 12, 21, 6, 0)},
		},
		deadlines: map[string]string{
			"wd5-exact": "2026-12-29", "beyond": "2026-12-30", "wd5-at-3": "2026-12-24", "wd2-exact": "2026-12-23",
			"wd2-at-1": "2026-12-22", "today": "2026-12-21", "overdue": "2026-12-18",
			"extended-far": "2027-01-20", "extended-near": "2026-12-22",
		},
		runs: []sweepRun{
			{at: [5]int{2026, 12, 21, 7, 0}, want: map[string][]string{
				levelOverdue: {"overdue"}, levelDueToday: {"today"},
				"wd2": {"wd2-at-1", "extended-near", "wd2-exact"}, "wd5": {"wd5-at-3", "wd5-exact"},
			}},
			// Again the same day: everything is marked.
			{at: [5]int{2026, 12, 21, 9, 30}},
			{at: [5]int{2026, 12, 22, 7, 0}, want: map[string][]string{
				levelOverdue: {"overdue", "today"}, levelDueToday: {"wd2-at-1", "extended-near"},
				"wd2": {"wd5-at-3"}, "wd5": {"beyond"},
			}},
			{at: [5]int{2026, 12, 22, 7, 5}},
			{at: [5]int{2026, 12, 23, 7, 0}, want: map[string][]string{
				levelOverdue: {"overdue", "today", "wd2-at-1", "extended-near"}, levelDueToday: {"wd2-exact"},
			}},
			// No run from Christmas Eve to Monday: each request reports only where it is now,
			// not the levels it passed meanwhile (wd5-exact goes from wd5 to due today).
			{at: [5]int{2026, 12, 29, 7, 0}, want: map[string][]string{
				levelOverdue:  {"overdue", "today", "wd2-at-1", "extended-near", "wd2-exact", "wd5-at-3"},
				levelDueToday: {"wd5-exact"}, "wd2": {"beyond"},
			}},
			{at: [5]int{2026, 12, 29, 23, 59}},
		},
	}, {
		// Easter 2027 in Norway: 25, 26 and 29 March are holidays, and a deadline falling on
		// one rolls to Tuesday 30 March.
		name: "NO around Easter", country: "NO", lang: "nb",
		seeds: map[string]seed{
			"wd5-exact":       {received: no(2027, 3, 1), verified: true, lang: "nb"},
			"beyond":          {received: no(2027, 3, 2), verified: true, lang: "nb"},
			"easter":          {received: no(2027, 2, 25), verified: true, lang: "nb", typ: dsr.Rectification},
			"extended-easter": {received: no(2026, 12, 29), verified: true, lang: "nb", extendAt: no(2027, 1, 20)},
			"wd2-exact":       {received: no(2027, 2, 24), verified: true, lang: "nb"},
			"today":           {received: no(2027, 2, 22), verified: true, lang: "nb", started: true},
			"overdue":         {received: no(2027, 2, 19), verified: true, lang: "nb", typ: dsr.Objection},
		},
		deadlines: map[string]string{
			"wd5-exact": "2027-04-01", "beyond": "2027-04-02", "easter": "2027-03-30", "extended-easter": "2027-03-30",
			"wd2-exact": "2027-03-24", "today": "2027-03-22", "overdue": "2027-03-19",
		},
		runs: []sweepRun{
			{at: [5]int{2027, 3, 22, 7, 0}, want: map[string][]string{
				levelOverdue: {"overdue"}, levelDueToday: {"today"}, "wd2": {"wd2-exact"},
				"wd5": {"easter", "extended-easter", "wd5-exact"},
			}},
			{at: [5]int{2027, 3, 22, 15, 0}},
			{at: [5]int{2027, 3, 23, 7, 0}, want: map[string][]string{
				levelOverdue: {"overdue", "today"}, "wd2": {"easter", "extended-easter"}, "wd5": {"beyond"},
			}},
			{at: [5]int{2027, 3, 24, 7, 0}, want: map[string][]string{
				levelOverdue: {"overdue", "today"}, levelDueToday: {"wd2-exact"},
			}},
			// Skjærtorsdag: the sweep runs on holidays too, and overdue is daily.
			{at: [5]int{2027, 3, 25, 7, 0}, want: map[string][]string{
				levelOverdue: {"overdue", "today", "wd2-exact"},
			}},
		},
	}, {
		// The short clock: a withdrawal of consent and an objection to direct marketing
		// received Monday 2 March 2026 are due at the end of Wednesday 4 March, confirmed or
		// not, and reach the DPO at once; an access request received with them is a month
		// away. The unconfirmed objection is reported until it expires on Monday 9 March, and
		// expires only once a digest has shown it.
		name: "DK short clock", country: "DK", lang: "da",
		seeds: map[string]seed{
			"withdrawal":            {received: dk(2026, 3, 2), verified: true, typ: dsr.WithdrawConsent, noName: true},
			"marketing-unconfirmed": {received: dk(2026, 3, 2), typ: dsr.ObjectionMarketing, noName: true},
			"access":                {received: dk(2026, 3, 2), verified: true},
			"access-unconfirmed":    {received: dk(2026, 3, 2)},
		},
		deadlines: map[string]string{
			"withdrawal": "2026-03-04", "marketing-unconfirmed": "2026-03-04", "access": "2026-04-07", "access-unconfirmed": "2026-04-07",
		},
		runs: []sweepRun{
			{at: [5]int{2026, 3, 2, 12, 0}, want: map[string][]string{"wd2": {"withdrawal", "marketing-unconfirmed"}}},
			{at: [5]int{2026, 3, 3, 7, 0}},
			{at: [5]int{2026, 3, 4, 7, 0}, want: map[string][]string{levelDueToday: {"withdrawal", "marketing-unconfirmed"}}},
			{at: [5]int{2026, 3, 5, 7, 0}, want: map[string][]string{levelOverdue: {"withdrawal", "marketing-unconfirmed"}}},
			{at: [5]int{2026, 3, 9, 7, 0}, want: map[string][]string{levelOverdue: {"withdrawal", "marketing-unconfirmed"}}},
			// Past its expiry: shown this morning, so it expires now, and is reported no more.
			{at: [5]int{2026, 3, 9, 11, 0}},
			{at: [5]int{2026, 3, 10, 7, 0}, want: map[string][]string{levelOverdue: {"withdrawal"}}},
		},
	}}
}

// Every request nearing or past its deadline reaches the DPO at each level exactly once
// (overdue: once a day), in one digest per run, and the marks say exactly that.
func TestEscalationLevels(t *testing.T) {
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, sc.country, sc.lang)
			names := map[string]string{} // ref → name
			reqs := map[string]*dsr.Request{}
			for name, s := range sc.seeds {
				r, _ := h.add(s)
				names[r.Ref], reqs[name] = name, r
				if want, ok := sc.deadlines[name]; ok && h.cal.LocalDate(r.Deadline()) != want {
					t.Fatalf("scenario: %s is due %s, want %s", name, h.cal.LocalDate(r.Deadline()), want)
				}
			}
			expected := map[string]map[string]string{} // name → level → "period/done"
			for _, run := range sc.runs {
				at := localTime(t, sc.country, run.at[0], run.at[1], run.at[2], run.at[3], run.at[4])
				h.run(at)
				mails := h.newMails(h.dpo)
				if run.want == nil {
					if len(mails) != 0 {
						t.Fatalf("%s: %d digests, want none:\n%s", at, len(mails), mails[0].Text)
					}
				} else {
					if len(mails) != 1 {
						t.Fatalf("%s: %d digests, want 1", at, len(mails))
					}
					checkDigest(t, h, mails[0], run.want, names, reqs, at)
					for level, ns := range run.want {
						for _, n := range ns {
							period := h.cal.LocalDate(reqs[n].Deadline())
							if level == levelOverdue {
								period = h.cal.LocalDate(at)
							}
							if expected[n] == nil {
								expected[n] = map[string]string{}
							}
							expected[n][level] = period + "/done"
						}
					}
				}
				for name, r := range reqs {
					got := h.marks(r.Ref)
					want := expected[name]
					if want == nil {
						want = map[string]string{}
					}
					if !maps.Equal(got, want) {
						t.Errorf("%s: marks of %s = %v, want %v", at, name, got, want)
					}
				}
				checkMetrics(t, h, run.want)
			}
			checkLogs(t, h)
		})
	}
}

// checkDigest compares a digest with the lines a run must report, and checks its form: the
// groups most urgent first, each line's facts, the subject, the links.
func checkDigest(t *testing.T, h *harness, m emulator.Mail, want map[string][]string, names map[string]string, reqs map[string]*dsr.Request, at time.Time) {
	t.Helper()
	lang, loc := h.cfg.DefaultLang, h.cal.Location()
	order, lines := h.digestLines(m)
	lad := newLadder(h.cal, h.cfg.Thresholds)
	var wantOrder []string
	total := 0
	for _, l := range lad.Levels() {
		if len(want[l.Name]) > 0 {
			wantOrder = append(wantOrder, l.Name)
			total += len(want[l.Name])
		}
	}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("%s: groups %v, want %v (most urgent first)", at, order, wantOrder)
	}
	blocks := lineBlocks(m.Text)
	for level, refs := range lines {
		var got []string
		var last time.Time
		for _, ref := range refs {
			got = append(got, names[ref])
			r := reqs[names[ref]]
			if r.Deadline().Before(last) {
				t.Errorf("%s: %s: %s listed after a later deadline", at, level, names[ref])
			}
			last = r.Deadline()
			b := blocks[ref]
			facts := []string{
				i18n.T(lang, "type."+string(r.Type)+".name"),
				i18n.LongDate(lang, r.Deadline().In(loc)),
				daysText(lang, h.cal.WorkingDaysUntil(at, r.Deadline())),
				i18n.Date(lang, r.ReceivedAt.In(loc)),
				i18n.T(lang, "status."+string(r.Status)),
				"https://dsr.example.dk/admin/requests/" + ref,
			}
			if r.Extension != nil {
				facts = append(facts, i18n.T(lang, "sweep.digest.extended_from", i18n.Date(lang, r.Due.In(loc))))
			} else {
				facts = append(facts, i18n.T(lang, "sweep.digest.extended")+": "+i18n.T(lang, "sweep.digest.not_extended"))
			}
			for _, f := range facts {
				if !strings.Contains(b, f) {
					t.Errorf("%s: line of %s lacks %q:\n%s", at, names[ref], f, b)
				}
			}
			if !strings.Contains(m.HTML, `href="https://dsr.example.dk/admin/requests/`+ref+`"`) {
				t.Errorf("%s: HTML has no link to %s", at, names[ref])
			}
		}
		slices.Sort(got)
		exp := slices.Sorted(slices.Values(want[level]))
		if !slices.Equal(got, exp) {
			t.Errorf("%s: %s lines %v, want %v", at, level, got, exp)
		}
	}
	top := lad.Levels()[0]
	for _, l := range lad.Levels() {
		if l.Name == wantOrder[0] {
			top = l
		}
	}
	wantSubject := i18n.T(lang, "sweep.digest.subject.other", h.cfg.ControllerName, total, levelText(lang, "sweep.short", top))
	if total == 1 {
		wantSubject = i18n.T(lang, "sweep.digest.subject.one", h.cfg.ControllerName, levelText(lang, "sweep.short", top))
	}
	if m.Subject != wantSubject {
		t.Errorf("%s: subject %q, want %q", at, m.Subject, wantSubject)
	}
	if m.From != h.cfg.Sender || len(m.To) != 1 || m.To[0] != h.dpo {
		t.Errorf("%s: from %s to %v", at, m.From, m.To)
	}
	for _, part := range []string{m.Text, m.HTML} {
		if strings.Contains(part, "[sweep.") || strings.Contains(part, "[status.") || strings.Contains(part, "[type.") {
			t.Errorf("%s: untranslated key in digest:\n%s", at, part)
		}
	}
}

// lineBlocks splits a digest's text into each line's block, by reference.
func lineBlocks(text string) map[string]string {
	out := map[string]string{}
	ref := ""
	for _, line := range strings.Split(text, "\n") {
		if m := refLine.FindStringSubmatch(line); m != nil {
			ref = m[1]
		} else if groupLine.MatchString(line) || strings.TrimSpace(line) == "" {
			ref = ""
		}
		if ref != "" {
			out[ref] += line + "\n"
		}
	}
	return out
}

// checkMetrics reads the run's embedded-metric record and compares its escalation counts.
func checkMetrics(t *testing.T, h *harness, want map[string][]string) {
	t.Helper()
	rec := lastEMF(t, h)
	aws := rec["_aws"].(map[string]any)
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if cw["Namespace"] != metricsNamespace || rec["Function"] != "dsrdesk-sweep-test" {
		t.Errorf("EMF namespace %v function %v", cw["Namespace"], rec["Function"])
	}
	if dims, _ := json.Marshal(cw["Dimensions"]); string(dims) != `[["Function"]]` {
		t.Errorf("EMF dimensions %s", dims)
	}
	for _, m := range cw["Metrics"].([]any) {
		name := m.(map[string]any)["Name"].(string)
		if _, ok := rec[name].(float64); !ok {
			t.Errorf("EMF metric %s has no value", name)
		}
	}
	lad := newLadder(h.cal, h.cfg.Thresholds)
	total := 0
	for _, l := range lad.Levels() {
		if got := int(rec[metricName(l.Name)].(float64)); got != len(want[l.Name]) {
			t.Errorf("EMF %s = %d, want %d", metricName(l.Name), got, len(want[l.Name]))
		}
		total += len(want[l.Name])
	}
	sent := 0
	if want != nil {
		sent = 1
	}
	if int(rec["Escalated"].(float64)) != total || int(rec["DigestSent"].(float64)) != sent || rec["Failures"].(float64) != 0 {
		t.Errorf("EMF Escalated %v DigestSent %v Failures %v, want %d %d 0", rec["Escalated"], rec["DigestSent"], rec["Failures"], total, sent)
	}
}

func lastEMF(t *testing.T, h *harness) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(h.metrics.String()), "\n")
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rec); err != nil {
		t.Fatalf("EMF record: %v", err)
	}
	return rec
}

// checkLogs proves the logs hold no personal data: nothing any requester typed, no address.
func checkLogs(t *testing.T, h *harness) {
	t.Helper()
	logs := h.logs.String()
	for _, p := range h.people {
		if strings.Contains(logs, p) {
			t.Errorf("logs hold personal data %q", p)
		}
	}
	if strings.Contains(logs, "@") {
		t.Errorf("logs hold an address:\n%s", logs)
	}
	if !strings.Contains(logs, `"msg":"sweep"`) {
		t.Errorf("no summary line in the logs")
	}
}
