package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// Each action moves the request, appends one audit entry naming the DPO, and (extend,
// complete, reject) mails the requester in the requester's language what the law requires.
func TestActionsInEveryLanguage(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[1])
	loc := e.h.cal.Location()
	extended := e.h.cal.Extended(received0)
	if got := i18n.LongDate(i18n.EN, extended.In(loc)); got != "Tuesday 2 June 2026" {
		t.Fatalf("extended deadline %s, want Tuesday 2 June 2026", got)
	}
	cases := []struct {
		action string
		form   url.Values
		status dsr.Status
		audit  dsr.Action
		mail   bool
	}{
		{"start", nil, dsr.InProgress, dsr.ActionStarted, false},
		{"note", url.Values{"note": {"Ringede til kunden."}}, dsr.Open, dsr.ActionNoted, false},
		{"extend", url.Values{"reason": {"Oplysningerne ligger i tre systemer,\nog vi har mange anmodninger lige nu."}}, dsr.Open, dsr.ActionExtended, true},
		{"complete", url.Values{"message": {"Vi har sendt dig en kopi af dine oplysninger.\nVenlig hilsen Jura"}, "confirm": {"no_delivery"}}, dsr.Completed, dsr.ActionCompleted, true},
		{"reject", url.Values{"category": {"manifestly_unfounded"}, "reason": {"Du har spurgt 14 gange i dag."}, "justification": {"14 ens anmodninger i dag, K1–K14."}}, dsr.Rejected, dsr.ActionRejected, true},
	}
	for li, lang := range i18n.Langs {
		for ci, tc := range cases {
			t.Run(string(lang)+"/"+tc.action, func(t *testing.T) {
				e.t = t
				ref := "A" + string("234567"[li]) + string("ABCDE"[ci]) + "Q-TEST"
				requester := "req." + uniq() + "@example.dk"
				before := e.seed(ref, submission(string(lang), requester), received0, verify)

				if loc := redirect(t, d.act(ref, tc.action, tc.form)); loc != requestPath(ref)+"?done="+tc.action {
					t.Fatalf("to %q", loc)
				}
				r := e.request(ref)
				if r.Status != tc.status || r.Version != before.Version+1 || len(r.Audit) != len(before.Audit)+1 {
					t.Fatalf("status %s version %d audit %d", r.Status, r.Version, len(r.Audit))
				}
				last := r.Audit[len(r.Audit)-1]
				if last.Action != tc.audit || last.Actor != d.email || !last.At.Equal(now0) {
					t.Fatalf("audit entry %+v", last)
				}
				for _, f := range actionNamed(tc.action).Fields {
					if f.Multiple {
						continue // a box ticked, not text the DPO wrote
					}
					if v := tc.form.Get(f.Name); !strings.Contains(last.Note, v) {
						t.Errorf("audit note %q lacks %q", last.Note, v)
					}
				}

				mails := e.env.Mails(t, requester)
				if !tc.mail {
					if len(mails) != 0 {
						t.Fatalf("%s sent %d mails", tc.action, len(mails))
					}
					return
				}
				if len(mails) != 1 {
					t.Fatalf("%d mails to the requester, want 1", len(mails))
				}
				m := mails[0]
				if len(m.ReplyTo) != 1 || m.ReplyTo[0] != e.cfg.DPOAddresses[0] {
					t.Errorf("reply-to %v, want the DPO contact", m.ReplyTo)
				}
				kind := actionNamed(tc.action).Mail
				if st := r.Mails[kind]; st.State != dsr.MailSent || st.Attempts != 1 {
					t.Errorf("mail state %+v", st)
				}
				want := []string{ref, i18n.T(lang, "type.access.name")}
				switch tc.action {
				case "extend":
					want = append(want, i18n.T(lang, "admin.mail.extension.reason_heading"), "Oplysningerne ligger i tre systemer,", "og vi har mange anmodninger lige nu.",
						i18n.LongDate(lang, extended.In(loc)), "12")
				case "complete":
					want = append(want, "Vi har sendt dig en kopi af dine oplysninger.", i18n.T(lang, "authority.DK.name"))
				case "reject":
					want = append(want, i18n.T(lang, "reject.manifestly_unfounded"), "Du har spurgt 14 gange i dag.",
						i18n.T(lang, "authority.DK.name"), "https://www.datatilsynet.dk", i18n.T(lang, "rights.court"), i18n.T(lang, "rights.elsewhere"))
				}
				for _, w := range want {
					if !strings.Contains(m.Text, w) {
						t.Errorf("text part lacks %q:\n%s", w, m.Text)
					}
				}
				if !strings.Contains(m.HTML, `lang="`+string(lang)+`"`) || !strings.Contains(m.Subject, ref) {
					t.Errorf("mail not in %s or subject without the reference: %q", lang, m.Subject)
				}
				subjectKey := map[string]string{"extend": "admin.mail.extension.subject", "complete": "admin.mail.completion.subject", "reject": "admin.mail.rejection.subject"}[tc.action]
				if m.Subject != i18n.T(lang, subjectKey, ref) {
					t.Errorf("subject %q", m.Subject)
				}

				// After the answer, the request is closed: out of the sweep index, with its retention expiry.
				if tc.status.Closed() {
					raw := e.raw(ref)
					if _, ok := raw[store.AttrSweepPK]; ok {
						t.Errorf("closed request still on the sweep index")
					}
					exp, ok := raw[store.AttrExpiresAt].(*ddbtypes.AttributeValueMemberN)
					if !ok || exp.Value != itoa64(now0.Add(e.cfg.Retention).Unix()) {
						t.Errorf("expires_at %v, want closed + retention", raw[store.AttrExpiresAt])
					}
				}

				// The page says what happened and that the mail went out.
				body := page(t, d.get(requestPath(ref)+"?done="+tc.action), http.StatusOK)
				sent := i18n.T(i18n.DA, "admin.done.mail_sent", i18n.DateTime(i18n.DA, now0.In(loc)))
				if !strings.Contains(body, i18n.T(i18n.DA, "admin.done."+tc.action)) || (tc.mail && !strings.Contains(body, sent)) {
					t.Errorf("no confirmation on the page")
				}
			})
		}
	}
}

func TestActionFieldErrors(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	requester := "req." + uniq() + "@example.dk"
	before := e.seed(ref0, submission("da", requester), received0, verify)
	cases := []struct {
		action string
		form   url.Values
		field  string
		msg    string
		kept   string
	}{
		{"complete", url.Values{"message": {"  "}}, "complete.message", "Udfyld feltet.", ""},
		{"extend", url.Values{"reason": {""}}, "extend.reason", "Udfyld feltet.", ""},
		{"reject", url.Values{"category": {"because"}, "reason": {"Mit svar <b>her</b>"}}, "reject.category", "Vælg en af mulighederne.", "Mit svar &lt;b&gt;her&lt;/b&gt;"},
		{"reject", url.Values{"category": {"other"}, "reason": {strings.Repeat("x", dsr.MaxMessage+1)}}, "reject.reason", "Teksten er for lang.", ""},
		{"note", url.Values{"note": {"bad \x00 byte"}}, "note.note", "", ""},
	}
	for _, tc := range cases {
		body := page(t, d.act(ref0, tc.action, tc.form), http.StatusBadRequest)
		if !strings.Contains(body, `id="`+tc.field+`-error"`) || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: no error next to %s:\n%s", tc.action, tc.field, body)
		}
		if tc.kept != "" && !strings.Contains(body, tc.kept) {
			t.Errorf("%s: what the DPO typed is lost", tc.action)
		}
	}
	e.unchanged(before, requester)
}

// Extension is refused a second time and after the one-month deadline, and saying why.
func TestExtendRefused(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	requester := "req." + uniq() + "@example.dk"
	e.seed(ref0, submission("en", requester), received0, verify)
	reason := url.Values{"reason": {"Complex."}}
	redirect(t, d.act(ref0, "extend", reason))
	before := e.request(ref0)
	body := page(t, d.act(ref0, "extend", reason), http.StatusConflict)
	if !strings.Contains(body, i18n.T(i18n.DA, "admin.refused.already_extended")) {
		t.Fatalf("second extension not explained:\n%s", body)
	}
	if after := e.request(ref0); after.Version != before.Version || len(e.env.Mails(t, requester)) != 1 {
		t.Fatal("a refused extension changed something")
	}
	// The page no longer offers the form, and says why.
	body = page(t, d.get(requestPath(ref0)), http.StatusOK)
	if strings.Contains(body, "action=extend") || !strings.Contains(body, i18n.T(i18n.DA, "admin.refused.already_extended")) {
		t.Fatal("detail page still offers the extension")
	}

	late := "B" + ref0[1:]
	e.seed(late, submission("en", "late."+uniq()+"@example.dk"), received0, verify)
	e.clock.Set(e.request(late).Due.Add(1))
	d = e.session(d.email)
	body = page(t, d.act(late, "extend", reason), http.StatusConflict)
	if !strings.Contains(body, i18n.T(i18n.DA, "admin.refused.deadline_passed")) {
		t.Fatalf("late extension not explained:\n%s", body)
	}
	if r := e.request(late); r.Extension != nil {
		t.Fatal("extended after the deadline")
	}
	// Starting twice is refused with the status named.
	redirect(t, d.act(late, "start", nil))
	body = page(t, d.act(late, "start", nil), http.StatusConflict)
	if !strings.Contains(body, i18n.T(i18n.DA, "admin.refused.not_allowed", i18n.T(i18n.DA, "status.in_progress"))) {
		t.Fatalf("second start not explained:\n%s", body)
	}
	// An unconfirmed request cannot be completed yet.
	pending := "C" + ref0[1:]
	e.seed(pending, submission("en", "p."+uniq()+"@example.dk"), received0)
	page(t, d.act(pending, "complete", url.Values{"message": {"x"}}), http.StatusConflict)
}

// Two DPOs answer the same request at the same moment: exactly one answer lands and is
// mailed; the other DPO sees the request as it now is.
func TestTwoDPOsAtOnce(t *testing.T) {
	e := setup(t)
	a, b := e.session(e.cfg.DPOAddresses[0]), e.session(e.cfg.DPOAddresses[1])
	for round := range 3 {
		ref := "R" + string("234"[round]) + "CE-RACE"
		requester := "race." + uniq() + "@example.dk"
		before := e.seed(ref, submission("nb", requester), received0, verify)
		version := url.Values{"version": {itoa64(int64(before.Version))}}
		forms := []url.Values{
			{"message": {"Ferdig fra A."}, "confirm": {"no_delivery"}},
			{"category": {"other"}, "reason": {"Ingen data, fra B."}},
		}
		actions := []string{"complete", "reject"}
		var statuses [2]int
		var bodies [2]string
		var wg sync.WaitGroup
		for i, d := range []*dpo{a, b} {
			wg.Go(func() {
				f := forms[i]
				f.Set("version", version.Get("version"))
				resp := d.post(requestPath(ref)+"/"+actions[i], f)
				statuses[i], bodies[i] = resp.StatusCode, resp.Body
			})
		}
		wg.Wait()
		wins := 0
		for i := range 2 {
			switch statuses[i] {
			case http.StatusSeeOther:
				wins++
			case http.StatusConflict:
				if !strings.Contains(bodies[i], i18n.T(i18n.DA, "admin.conflict.heading")) {
					t.Errorf("loser's page does not explain the conflict:\n%s", bodies[i])
				}
				// The request is closed by the other answer, which the page now shows.
				if !strings.Contains(bodies[i], "fra "+string("AB"[1-i])) {
					t.Errorf("loser's page does not show the answer that won:\n%s", bodies[i])
				}
			default:
				t.Errorf("DPO %d: status %d", i, statuses[i])
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners (%v)", round, wins, statuses)
		}
		r := e.request(ref)
		if !r.Status.Closed() || len(r.Audit) != len(before.Audit)+1 {
			t.Fatalf("after the race: %s, %d audit entries", r.Status, len(r.Audit))
		}
		if n := len(e.env.Mails(t, requester)); n != 1 {
			t.Fatalf("%d mails to the requester, want 1", n)
		}
	}
}

// A DPO acting on a page that is out of date sees the change first; a note still goes in.
func TestStalePage(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	requester := "req." + uniq() + "@example.dk"
	before := e.seed(ref0, submission("da", requester), received0, verify)
	stale := url.Values{"version": {itoa64(int64(before.Version))}}
	redirect(t, d.act(ref0, "note", url.Values{"note": {"Først."}}))

	body := page(t, d.post(requestPath(ref0)+"/complete", url.Values{"version": stale["version"], "message": {"Mit svar."}}), http.StatusConflict)
	if !strings.Contains(body, i18n.T(i18n.DA, "admin.conflict.heading")) || !strings.Contains(body, "Mit svar.") {
		t.Fatalf("stale page: conflict not shown or text lost:\n%s", body)
	}
	if r := e.request(ref0); r.Status != dsr.Open {
		t.Fatal("completed from a stale page")
	}
	redirect(t, d.post(requestPath(ref0)+"/note", url.Values{"version": stale["version"], "note": {"Anden."}}))
	if r := e.request(ref0); len(r.Audit) != len(before.Audit)+2 {
		t.Fatalf("%d audit entries", len(r.Audit))
	}
}

// A closed request stays closed: completing, rejecting, starting or extending one that was
// completed, rejected or left to expire is refused through the HTTP layer with the status
// named, from a page with the current version, and nothing is written or mailed.
func TestClosedRequestsCannotBeAnsweredAgain(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	closed := []struct {
		ref    string
		steps  []func(*dsr.Request, time.Time) (dsr.Change, error)
		status dsr.Status
	}{
		{"C" + ref0[1:], []func(*dsr.Request, time.Time) (dsr.Change, error){verify, start, complete}, dsr.Completed},
		{"R" + ref0[1:], []func(*dsr.Request, time.Time) (dsr.Change, error){verify, reject}, dsr.Rejected},
		{"E" + ref0[1:], []func(*dsr.Request, time.Time) (dsr.Change, error){expire}, dsr.Expired},
	}
	for _, c := range closed {
		requester := "closed." + uniq() + "@example.dk"
		before := e.seed(c.ref, submission("da", requester), received0, c.steps...)
		mails := len(e.env.Mails(t, requester))
		for _, a := range []struct {
			action string
			form   url.Values
		}{
			{"complete", url.Values{"message": {"Done again."}, "confirm": {"no_delivery"}}},
			{"reject", url.Values{"category": {"other"}, "reason": {"No after all."}}},
			{"start", nil},
			{"extend", url.Values{"reason": {"More time."}}},
		} {
			body := page(t, d.act(c.ref, a.action, a.form), http.StatusConflict)
			if !strings.Contains(body, i18n.T(i18n.DA, "admin.refused.heading")) {
				t.Errorf("%s %s: refusal not explained", c.status, a.action)
			}
			after := e.request(c.ref)
			if after.Status != c.status || after.Version != before.Version || len(after.Audit) != len(before.Audit) {
				t.Errorf("%s %s changed the request: %s v%d", c.status, a.action, after.Status, after.Version)
			}
		}
		if n := len(e.env.Mails(t, requester)); n != mails {
			t.Errorf("%s: %d mails to the requester after the refusals, want %d", c.status, n, mails)
		}
	}
}
