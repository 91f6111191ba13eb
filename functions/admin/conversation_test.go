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
	"github.com/dsrdesk/dsrdesk/shared/notice"
)

// Asking the requester, in each of their languages: the form opens with the purpose's template
// in the requester's language, the preview is the exact mail (the status page link's secret
// cut out, as the request keeps it), and only the confirmation sends it, with a link to the
// status page; the request then waits for the requester, and the question is in its history.
func TestAskTheRequester(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			e.t = t
			ref := dsr.NewReference()
			requester := "ask." + uniq() + "@example.dk"
			before := e.seed(ref, submission(string(lang), requester), received0, verify)

			form := page(t, d.get(requestPath(ref)+"?action=ask_identity"), http.StatusOK)
			template := i18n.T(lang, "admin.ask.template.identity")
			if !strings.Contains(form, ">"+htmlEscape(template)+"</textarea>") || !strings.Contains(form, `name="pause_reason"`) {
				t.Fatalf("the identity question's form does not open with the %s template and the pause:\n%s", lang, form)
			}
			if strings.Contains(page(t, d.get(requestPath(ref)+"?action=ask_clarification"), http.StatusOK), `name="pause_reason"`) {
				t.Error("a clarification may pause the clock")
			}

			question := template + "\nTak."
			ask := url.Values{"text": {question}, "pause_reason": {"To kunder med samme navn."}, "step": {stepPreview}}
			body := page(t, d.act(ref, "ask_identity", ask), http.StatusOK)
			if len(e.env.Mails(t, requester)) != 0 || e.request(ref).Version != before.Version {
				t.Fatal("the preview sent or changed something")
			}
			preview := unescape(between(t, between(t, body, `<div class="mail">`, `</pre>`), "<pre>", ""))
			for _, w := range []string{i18n.T(lang, "portal.mail.question.subject", ref), "> " + template, "> To kunder med samme navn.",
				notice.PreviewStatusLink(baseURL, ref)} {
				if !strings.Contains(preview+body, htmlEscape(w)) && !strings.Contains(preview, w) {
					t.Errorf("the preview lacks %q:\n%s", w, preview)
				}
			}

			ask.Set("step", stepConfirm)
			if loc := redirect(t, d.act(ref, "ask_identity", ask)); loc != requestPath(ref)+"?done=ask_identity" {
				t.Fatalf("after asking: %s", loc)
			}
			mails := e.env.Mails(t, requester)
			if len(mails) != 1 || mails[0].Subject != i18n.T(lang, "portal.mail.question.subject", ref) {
				t.Fatalf("mails to the requester: %+v", mails)
			}
			link := regexp.MustCompile(`\S+/status\?token=\S+`).FindString(mails[0].Text)
			sent := strings.TrimSpace(strings.ReplaceAll(mails[0].Text, link, notice.RedactLink(link)))
			if link == "" || sent != strings.TrimSpace(preview) {
				t.Errorf("sent:\n%s\npreviewed:\n%s", mails[0].Text, preview)
			}
			r, _, msgs, err := e.st.OpenConversation(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if r.Waiting == nil || r.Paused() == nil || r.Paused().Reason != "To kunder med samme navn." || len(msgs) != 1 || msgs[0].Text != question ||
				msgs[0].From != d.email || len(r.PageLinks) != 1 {
				t.Fatalf("after asking: waiting %+v, paused %+v, messages %+v, links %d", r.Waiting, r.Paused(), msgs, len(r.PageLinks))
			}
			// The page says what it waits for, that the clock stands still and why, and shows the
			// question in the history.
			body = page(t, d.get(requestPath(ref)), http.StatusOK)
			for _, w := range []string{i18n.T(i18n.DA, "admin.waiting.answer_paused", e.h.date(i18n.DA, r.Waiting.At)),
				i18n.T(i18n.DA, "admin.why.paused", e.h.date(i18n.DA, r.Waiting.At), "To kunder med samme navn."),
				i18n.T(i18n.DA, "action.asked"), i18n.T(i18n.DA, "action.clock_paused"), question} {
				if !strings.Contains(unescape(body), w) {
					t.Errorf("the request page lacks %q", w)
				}
			}
		})
	}
}

func TestAskRefusals(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref := dsr.NewReference()
	e.seed(ref, submission("da", "refusals."+uniq()+"@example.dk"), received0, verify)
	// A clarification may not stop the clock, even posted by hand: refused, nothing changed.
	if resp := d.act(ref, "ask_clarification", url.Values{"text": {"Hvilken periode?"}, "pause_reason": {"nej"}, "step": {stepConfirm}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a clarification pausing the clock: %d", resp.StatusCode)
	}
	if r := e.request(ref); r.Paused() != nil || r.Waiting != nil {
		t.Fatalf("a refused clarification: paused %+v, waiting %+v", r.Paused(), r.Waiting)
	}
	// An empty question is refused with the field marked.
	resp := d.act(ref, "ask_other", url.Values{"text": {"  "}, "step": {stepPreview}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, htmlEscape(i18n.T(i18n.DA, "error.required"))) {
		t.Fatalf("empty question: %d", resp.StatusCode)
	}
	// A closed request offers no question.
	closed := dsr.NewReference()
	e.seed(closed, submission("da", "closed."+uniq()+"@example.dk"), received0, verify, complete)
	if strings.Contains(page(t, d.get(requestPath(closed)), http.StatusOK), "?action=ask_identity") {
		t.Error("a closed request offers a question")
	}
	if resp := d.act(closed, "ask_other", url.Values{"text": {"Hej?"}, "step": {stepConfirm}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("asking on a closed request: %d", resp.StatusCode)
	}
}

// The requester's reply shows in the request's history and the worklist; the DPO's next act
// settles it.
func TestTheReplyReachesTheWorkspace(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref := dsr.NewReference()
	e.seed(ref, submission("nb", "reply."+uniq()+"@example.dk"), received0, verify, func(r *dsr.Request, at time.Time) (dsr.Change, error) {
		return r.Ask("dpo@fjordlys.dk", dsr.PurposeClarification, "Hvilken periode?", "", at)
	})
	worklist := page(t, d.get("/admin"), http.StatusOK)
	if !strings.Contains(unescape(worklist), i18n.T(i18n.DA, "admin.conversation.waiting", e.h.date(i18n.DA, received0.Add(2*time.Hour)))) {
		t.Errorf("the worklist does not show the request waiting for the requester:\n%s", worklist)
	}
	r := e.request(ref)
	reply, err := r.Reply("Fra 2024 til i dag.", now0, e.cfg.Calendar)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Commit(context.Background(), r, reply); err != nil {
		t.Fatal(err)
	}
	body := unescape(page(t, d.get(requestPath(ref)), http.StatusOK))
	for _, w := range []string{"Fra 2024 til i dag.", i18n.T(i18n.DA, "action.replied"), i18n.T(i18n.DA, "admin.waiting.replied", e.h.dateTime(i18n.DA, now0), e.h.longDate(i18n.DA, r.Deadline()))} {
		if !strings.Contains(body, w) {
			t.Errorf("the request page lacks %q", w)
		}
	}
	if !strings.Contains(unescape(page(t, d.get("/admin"), http.StatusOK)), i18n.T(i18n.DA, "admin.conversation.replied", e.h.dateTime(i18n.DA, now0))) {
		t.Error("the worklist does not show the reply")
	}
	// A note is an act on the request: the reply is settled.
	redirect(t, d.act(ref, "note", url.Values{"note": {"Læst."}}))
	if strings.Contains(unescape(page(t, d.get("/admin"), http.StatusOK)), i18n.T(i18n.DA, "admin.conversation.replied", e.h.dateTime(i18n.DA, now0))) {
		t.Error("the reply still shows after the DPO acted")
	}
}

func TestRevokeTheStatusPageLinks(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref := dsr.NewReference()
	requester := "revoke." + uniq() + "@example.dk"
	e.seed(ref, submission("da", requester), received0, verify)
	if strings.Contains(page(t, d.get(requestPath(ref)), http.StatusOK), "?action=revoke_links") {
		t.Error("a request without links offers to revoke them")
	}
	// A mail to the requester issues a link.
	redirect(t, d.act(ref, "extend", url.Values{"reason": {"Mange systemer."}, "step": {stepConfirm}}))
	if n := len(e.request(ref).PageLinks); n != 1 {
		t.Fatalf("%d links after a mail", n)
	}
	if !strings.Contains(page(t, d.get(requestPath(ref)), http.StatusOK), "?action=revoke_links") {
		t.Fatal("the page does not offer to revoke the link")
	}
	if loc := redirect(t, d.act(ref, "revoke_links", url.Values{})); loc != requestPath(ref)+"?done=revoke_links" {
		t.Fatalf("after revoking: %s", loc)
	}
	r := e.request(ref)
	if len(r.PageLinks) != 0 || r.Audit[len(r.Audit)-1].Action != dsr.ActionLinksRevoked || r.Audit[len(r.Audit)-1].Actor != d.email {
		t.Fatalf("after revoking: links %v, trail ends %+v", r.PageLinks, r.Audit[len(r.Audit)-1])
	}
	if n := len(e.env.Mails(t, requester)); n != 1 {
		t.Fatalf("revoking mailed the requester: %d mails", n)
	}
}

// htmlEscape is what html/template makes of a text in a page.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;", "+", "&#43;").Replace(s)
}

// The export says of each request since when it waits for the requester, every pause of its
// clock with the DPO's reason, and how many messages went either way.
func TestExportHasTheConversation(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref := dsr.NewReference()
	e.seed(ref, submission("da", "export."+uniq()+"@example.dk"), received0, verify, func(r *dsr.Request, at time.Time) (dsr.Change, error) {
		return r.Ask("dpo@fjordlys.dk", dsr.PurposeIdentity, "Kundenummer?", "To kunder med samme navn.", at)
	}, func(r *dsr.Request, at time.Time) (dsr.Change, error) {
		return r.Reply("4711", at.Add(72*time.Hour), e.cfg.Calendar)
	}, func(r *dsr.Request, at time.Time) (dsr.Change, error) {
		return r.Ask("dpo@fjordlys.dk", dsr.PurposeClarification, "Hvilken periode?", "", at.Add(96*time.Hour))
	})
	rows := sheetRows(t, d.get("/admin/export.csv"), i18n.DA, "admin.export.col.", exportColumns)
	if len(rows) != 1 {
		t.Fatalf("rows %v", rows)
	}
	col := rows[0]
	// Received 2 March 10:00; asked an hour after confirming (12:00), answered three days on,
	// asked again four days after the second step's hour (13:00 + 96 h).
	if col["waiting_since"] != "2026-03-06T14:00:00+01:00" || col["clock_paused"] != "2026-03-02/2026-03-05: To kunder med samme navn." ||
		col["messages"] != "2026-03-02T12:00:00+01:00 dpo@fjordlys.dk ("+i18n.T(i18n.DA, "admin.ask.purpose.identity")+"): Kundenummer?\n"+
			"2026-03-05T13:00:00+01:00 "+actorLabel(i18n.DA, dsr.ActorRequester)+": 4711\n"+
			"2026-03-06T14:00:00+01:00 dpo@fjordlys.dk ("+i18n.T(i18n.DA, "admin.ask.purpose.clarification")+"): Hvilken periode?" {
		t.Errorf("conversation columns: waiting_since %q, clock_paused %q, messages %q", col["waiting_since"], col["clock_paused"], col["messages"])
	}
	// The report says so too.
	report := page(t, d.get("/admin/report"), http.StatusOK)
	if !strings.Contains(report, htmlEscape(i18n.T(i18n.DA, "admin.report.paused"))+"</dt><dd>1</dd>") ||
		!strings.Contains(report, htmlEscape(i18n.T(i18n.DA, "admin.report.paused_hint"))) {
		t.Error("the report does not say a clock was paused")
	}
}

// The history names the deadline a reply moved, in words.
func TestHistorySaysTheNewDeadline(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref := dsr.NewReference()
	r := e.seed(ref, submission("da", "resumed."+uniq()+"@example.dk"), received0, verify, func(r *dsr.Request, at time.Time) (dsr.Change, error) {
		return r.Ask("dpo@fjordlys.dk", dsr.PurposeIdentity, "Kundenummer?", "To kunder.", at)
	}, func(r *dsr.Request, at time.Time) (dsr.Change, error) {
		return r.Reply("4711", at.Add(6*24*time.Hour), e.cfg.Calendar)
	})
	body := unescape(page(t, d.get(requestPath(ref)), http.StatusOK))
	// Stopped on 2 March, running again on 8 March: 7 April + 6 = Monday 13 April 2026.
	if want := i18n.T(i18n.DA, "admin.history.new_deadline", "mandag 13. april 2026"); !strings.Contains(body, want) || !r.Deadline().Equal(time.Date(2026, 4, 13, 21, 59, 59, 999999999, time.UTC)) {
		t.Errorf("the history lacks %q (deadline %v)", want, r.Deadline())
	}
}
