package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// byLetter registers an access request that came by letter from a requester who gave no
// email address, only a postal one, in lang; their identity is confirmed by the letter.
func byLetter(t *testing.T, d *dpo, lang i18n.Lang) string {
	t.Helper()
	form := url.Values{"channel": {"letter"}, "received_at": {"2026-03-03T11:30"}, "type": {"access"}, "name": {"Karen Blixen"},
		"postal_address": {"Rungsted Strandvej 111\n2960 Rungsted Kyst"}, "requester_lang": {string(lang)},
		"details": {"Brev om indsigt."}, "identity": {"other_means"}, "identity_note": {"Underskrevet brev med kopi af pas."},
		"step": {stepConfirm}}
	loc := redirect(t, d.post(registerPath, form))
	ref, _, _ := strings.Cut(strings.TrimPrefix(loc, "/admin/requests/"), "?")
	return ref
}

// A requester registered without an email address is answered by letter: each action that
// would mail them (an extension, a refusal, a question, a completion) is taken and recorded
// as for anyone, its preview shows the letter in the requester's language addressed to their
// postal address, and the letter's exact text is kept on the request, with no mail sent and
// nothing for the sweep to retry. Its page is ready to print, with the controller's name and
// address; the DPO records the day it was posted, which the page then states (with what it
// proves, for an extension or a refusal), and the requester's answer to a question by
// letter is written down by the DPO.
func TestAnsweredByLetter(t *testing.T) {
	t.Parallel()
	type step struct {
		action string
		form   url.Values
		kind   dsr.MailKind
		// subject is the letter's subject's message key, given the reference; proof, the
		// page's statement once posted, "" for none.
		subject, proof string
	}
	extend := step{"extend", url.Values{"reason": {"Fem systemer skal gennemsøges."}}, dsr.MailExtension, "admin.mail.extension.subject", "admin.letter.proof.extension"}
	reject := step{"reject", url.Values{"category": {string(dsr.GroundLegalExemption)}, "reason": {"Oplysningerne er undtaget efter loven."}},
		dsr.MailRejection, "admin.mail.rejection.subject", "admin.letter.proof.rejection"}
	ask := step{"ask_clarification", url.Values{"text": {"Hvilke år drejer det sig om?"}}, dsr.MailQuestion, "portal.mail.question.subject", ""}
	complete := step{"complete", url.Values{"message": {"Kopien ligger i brevet."}, "confirm": {"no_delivery"}}, dsr.MailCompletion, "admin.mail.completion.subject", ""}
	cases := []struct {
		lang  i18n.Lang
		steps []step
	}{
		{i18n.DA, []step{extend, reject}},
		{i18n.NB, []step{ask, complete}},
		{i18n.EN, []step{extend, ask, complete}},
	}
	for _, tc := range cases {
		t.Run(string(tc.lang), func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			d := e.session(e.cfg.DPOAddresses[0])
			ref := byLetter(t, d, tc.lang)
			// No way to files behind a mailbox: the delivery is not offered, and the page says why.
			body := page(t, d.get(requestPath(ref)), http.StatusOK)
			if strings.Contains(body, "?action=deliver#") || !strings.Contains(body, html.EscapeString(i18n.T(i18n.DA, "admin.refused.no_address_delivery"))) {
				t.Error("a delivery is offered to a requester without an address")
			}
			for _, s := range tc.steps {
				if s.kind == dsr.MailCompletion && e.request(ref).Waiting != nil {
					// The answer to the question came by letter: the DPO writes it down.
					redirect(t, d.act(ref, "reply_recorded", url.Values{"text": {"Brev af 12. marts: 2019 til 2023."}}))
					if r := e.request(ref); r.Waiting != nil || r.Audit[len(r.Audit)-1].Note != dsr.NoteRecorded {
						t.Fatalf("the written-down answer left %+v", r.Waiting)
					}
				}
				subject := i18n.T(tc.lang, s.subject, ref)
				// The preview is the letter, in the requester's language, to their postal address.
				body := page(t, d.act(ref, s.action, with(s.form, "step", stepPreview)), http.StatusOK)
				for _, want := range []string{html.EscapeString(i18n.T(i18n.DA, "admin.letter.lead", i18n.T(i18n.DA, "admin.langname."+string(tc.lang)))),
					"Rungsted Strandvej 111", html.EscapeString(subject)} {
					if !strings.Contains(body, want) {
						t.Errorf("%s: the preview lacks %q", s.action, want)
					}
				}
				if loc := redirect(t, d.act(ref, s.action, with(s.form, "step", stepConfirm))); loc != requestPath(ref)+"?done="+s.action {
					t.Fatalf("%s: to %q", s.action, loc)
				}
				r, mails, err := e.st.OpenRequest(context.Background(), ref)
				if err != nil {
					t.Fatal(err)
				}
				if m := r.Mails[s.kind]; m.State != dsr.MailLetter || m.Attempts != 0 {
					t.Fatalf("%s: the mail is %+v, not a letter", s.action, m)
				}
				// Nothing for the sweep to send: but until it is posted, the sweep reads the
				// request from the letter's writing, for the digest to list it (an open one as
				// well as a closed one, which is on the retry queue for it).
				if at, _ := e.raw(ref)["sweep_at"].(*ddbtypes.AttributeValueMemberS); at == nil || at.Value != store.TimeKey(r.Mails[s.kind].At) {
					t.Errorf("%s: on the sweep at %v, the letter written %s", s.action, at, r.Mails[s.kind].At)
				}
				var kept *dsr.SentMail
				for i := range mails {
					if mails[i].Kind == s.kind {
						kept = &mails[i]
					}
				}
				if kept == nil || kept.Subject != subject || kept.Lang != string(tc.lang) || !strings.Contains(kept.To, "2960 Rungsted Kyst") ||
					strings.Contains(kept.Text, "/status?") || !strings.Contains(kept.Text, i18n.T(tc.lang, "letter.contact", e.cfg.DPOAddresses[0], ref)) {
					t.Fatalf("%s: kept %+v", s.action, kept)
				}
				// The letter's page: the letter alone on paper, with the controller's address.
				letter := page(t, d.get(letterPath(ref, s.kind)), http.StatusOK)
				for _, want := range []string{`class="letter"`, `lang="` + string(tc.lang) + `"`, "Karen Blixen<br>Rungsted Strandvej 111<br>2960 Rungsted Kyst",
					e.cfg.ControllerName + "<br>Strandvejen 12<br>2900 Hellerup", html.EscapeString(subject), `name="posted_on"`,
					html.EscapeString(i18n.T(i18n.DA, "admin.letter.not_posted"))} {
					if !strings.Contains(letter, want) {
						t.Errorf("%s: the letter's page lacks %q", s.action, want)
					}
				}
				// Posted today, as the page's form records it.
				redirect(t, d.act(ref, actionLetterPosted, url.Values{"letter": {string(s.kind)}, "posted_on": {"2026-03-10"}}))
				r = e.request(ref)
				if m := r.Mails[s.kind]; m.State != dsr.MailPosted {
					t.Fatalf("%s: after posting, %+v", s.action, m)
				}
				// Posted, the letter no longer holds the request on the sweep: an open one
				// waits on its deadline, a closed one is on no queue at all (a mail left to
				// send would put it on the retry queue).
				at, _ := e.raw(ref)["sweep_at"].(*ddbtypes.AttributeValueMemberS)
				switch {
				case r.Status.Active() && (at == nil || at.Value != store.TimeKey(r.Deadline())):
					t.Errorf("%s: posted, on the sweep at %v, deadline %s", s.action, at, r.Deadline())
				case !r.Status.Active() && at != nil:
					t.Errorf("%s: closed and posted, and on the sweep at %s", s.action, at.Value)
				}
				letter = page(t, d.get(letterPath(ref, s.kind)), http.StatusOK)
				posted := i18n.T(i18n.DA, "admin.letter.posted", i18n.LongDate(i18n.DA, now0.In(e.h.cal.Location()).Truncate(0)), d.email, "")
				posted, _, _ = strings.Cut(posted, d.email)
				if !strings.Contains(letter, html.EscapeString(posted)) || strings.Contains(letter, `name="posted_on"`) {
					t.Errorf("%s: the posted letter's page does not say so:\n%s", s.action, letter)
				}
				if s.proof != "" && !strings.Contains(letter, html.EscapeString(i18n.T(i18n.DA, s.proof, "tirsdag 10. marts 2026"))) {
					t.Errorf("%s: the page does not state the proof of notice", s.action)
				}
			}
		})
	}
}
