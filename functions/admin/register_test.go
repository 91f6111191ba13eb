package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awsfault"
)

// registration is a letter received a week before now0, from a requester who gave an address
// and is sent the confirmation link.
func registration(email string) url.Values {
	return url.Values{
		"channel": {"letter"}, "received_at": {"2026-03-03T11:30"}, "type": {"access"},
		"name": {"Karen Blixen"}, "email": {email}, "postal_address": {"Rungsted Strandvej 111\n2960 Rungsted Kyst"},
		"requester_lang": {"nb"}, "details": {"Jeg ber om innsyn i alt dere har om meg."}, "identity": {"link"},
	}
}

// with returns v with the given fields set.
func with(v url.Values, kv ...string) url.Values {
	out := clone(v)
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// A request that came by letter a week ago is registered with its receipt: the deadline runs
// from the letter, not from today; the preview shows the exact mail (the confirmation link,
// in the requester's language) and warns of the address's open request; only the
// confirmation stores it, once, with the DPO and the channel in its audit trail.
func TestRegisterFromThePast(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	requester := "req." + uniq() + "@example.dk"
	received := time.Date(2026, 3, 3, 10, 30, 0, 0, time.UTC) // 11:30 in Copenhagen

	// The form, with the receipt defaulting to now in the deployment's zone.
	for _, lang := range i18n.Langs {
		body := page(t, d.get(registerPath+"?lang="+string(lang)), http.StatusOK)
		for _, want := range []string{`name="channel"`, `type="datetime-local"`, `value="2026-03-10T10:15"`, `name="identity"`, `value="unclassified"`,
			i18n.T(lang, "admin.register.lead")} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the form lacks %s", lang, want)
			}
		}
	}

	// The same address has an open request already (found through its search entries).
	other := e.seed("R2MQ-OPEN", submission("da", requester), received0, verify)
	if err := e.st.SyncSiblings(context.Background(), other); err != nil {
		t.Fatal(err)
	}

	form := registration(requester)
	body := page(t, d.post(registerPath, with(form, "step", stepPreview)), http.StatusOK)
	due := dsr.Access.Due(e.cfg.Calendar, received, e.cfg.PromptWorkingDays)
	for _, want := range []string{
		i18n.T(i18n.DA, "admin.register.due", i18n.LongDate(i18n.DA, due.In(e.h.cal.Location()))),
		i18n.T(i18n.DA, "admin.register.duplicates"), requestPath("R2MQ-OPEN"),
		i18n.T(i18n.NB, "intake.mail.verification.subject", e.cfg.ControllerName), "/verify?token=",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the preview lacks %q:\n%s", want, body)
		}
	}
	if n := len(e.env.Mails(t, requester)); n != 0 {
		t.Fatalf("the preview sent %d mails", n)
	}

	loc := redirect(t, d.post(registerPath, with(form, "step", stepConfirm)))
	ref, ok := strings.CutPrefix(loc, "/admin/requests/")
	ref, _, _ = strings.Cut(ref, "?")
	if !ok || !strings.HasSuffix(loc, "?done=register") {
		t.Fatalf("to %q", loc)
	}
	r := e.request(ref)
	if r.Channel != dsr.ChannelLetter || !r.ReceivedAt.Equal(received) || !r.Entered().Equal(now0) || !r.Due.Equal(due) ||
		r.Status != dsr.PendingVerification || r.Lang != "nb" || r.PostalAddress != "Rungsted Strandvej 111\n2960 Rungsted Kyst" ||
		len(r.Audit) != 1 || r.Audit[0].Action != dsr.ActionRegistered || r.Audit[0].Actor != d.email || r.Audit[0].Note != "letter" {
		t.Fatalf("stored %+v", r)
	}
	mails := e.env.Mails(t, requester)
	if len(mails) != 1 || mails[0].Subject != i18n.T(i18n.NB, "intake.mail.verification.subject", e.cfg.ControllerName) ||
		!strings.Contains(mails[0].Text, baseURL+"/verify?token=") || r.Mails[dsr.MailVerification].State != dsr.MailSent {
		t.Fatalf("mails %+v, state %+v", mails, r.Mails)
	}
	// Its page says how it came and where it came from.
	body = page(t, d.get(loc), http.StatusOK)
	for _, want := range []string{i18n.T(i18n.DA, "admin.done.register"), i18n.T(i18n.DA, "channel.letter"), "Rungsted Strandvej 111",
		html.EscapeString(i18n.T(i18n.DA, "action.registered"))} {
		if !strings.Contains(body, want) {
			t.Errorf("the request's page lacks %q", want)
		}
	}
	// Now the address has two open requests: the new one is found as a duplicate too.
	body = page(t, d.post(registerPath, with(form, "step", stepPreview)), http.StatusOK)
	if !strings.Contains(body, requestPath(ref)) {
		t.Error("the registered request is not found by its address")
	}
}

// A call from a requester whose identity the DPO confirmed on the phone, who gave no address:
// the request is open at once, nothing is sent, and the trail says how the identity was
// confirmed.
func TestRegisterConfirmedByOtherMeans(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	form := url.Values{"channel": {"phone"}, "received_at": {"2026-03-10T09:00"}, "type": {"unclassified"}, "name": {"Jens Hansen"},
		"requester_lang": {"da"}, "details": {"Ringede om sine oplysninger."}, "identity": {"other_means"}, "identity_note": {"Ringede tilbage på nummeret fra kundekortet."}}
	body := page(t, d.post(registerPath, with(form, "step", stepPreview)), http.StatusOK)
	if !strings.Contains(body, i18n.T(i18n.DA, "admin.register.no_mail")) {
		t.Fatalf("the preview does not say no mail goes:\n%s", body)
	}
	loc := redirect(t, d.post(registerPath, with(form, "step", stepConfirm)))
	ref, _, _ := strings.Cut(strings.TrimPrefix(loc, "/admin/requests/"), "?")
	r := e.request(ref)
	received := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	if r.Status != dsr.Open || r.Type != dsr.Unclassified || r.Email != "" || !r.ReceivedAt.Equal(received) || len(r.Mails) != 0 ||
		!r.Due.Equal(dsr.Unclassified.Due(e.cfg.Calendar, received, e.cfg.PromptWorkingDays)) ||
		len(r.Audit) != 2 || r.Audit[1].Action != dsr.ActionConfirmedOther || r.Audit[1].Note != form.Get("identity_note") {
		t.Fatalf("stored %+v", r)
	}
}

// What cannot be registered is said next to its field, and nothing is stored.
func TestRegisterRefuses(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	base := registration("req." + uniq() + "@example.dk")
	cases := []struct {
		name  string
		form  url.Values
		field string
		code  string
	}{
		{"in the future", with(base, "received_at", "2026-03-10T10:16"), "received_at", dsr.CodeInFuture},
		{"no time", with(base, "received_at", ""), "received_at", dsr.CodeRequired},
		{"not a time", with(base, "received_at", "10/03/2026"), "received_at", codeInvalidTime},
		{"an email without its address", with(base, "channel", "email", "email", ""), "email", dsr.CodeRequired},
		{"a link without an address", with(base, "email", ""), "email", dsr.CodeNeedsEmail},
		{"other means without saying how", with(base, "identity", "other_means"), "identity_note", dsr.CodeRequired},
		{"no channel", with(base, "channel", ""), "channel", dsr.CodeRequired},
		{"a type the desk does not know", with(base, "type", "everything"), "type", dsr.CodeInvalidChoice},
	}
	for _, step := range []string{stepPreview, stepConfirm} {
		for _, tc := range cases {
			t.Run(step+"/"+tc.name, func(t *testing.T) {
				e.t = t
				body := page(t, d.post(registerPath, with(tc.form, "step", step)), http.StatusBadRequest)
				if !strings.Contains(body, `id="register.`+tc.field+`-error"`) || !strings.Contains(body, i18n.T(i18n.DA, "error."+tc.code)) {
					t.Errorf("no %s error on %s:\n%s", tc.code, tc.field, body)
				}
			})
		}
	}
	if p, err := e.st.PeriodPage(context.Background(), time.Time{}, now0.AddDate(1, 0, 0), "", 100); err != nil || len(p.Requests) != 0 {
		t.Fatalf("%d requests stored, %v", len(p.Requests), err)
	}
	// A form without the session's CSRF token is refused.
	if resp := d.post(registerPath, with(base, "csrf", "forged", "step", stepConfirm)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged CSRF: %d", resp.StatusCode)
	}
}

// formKey is the key of the registration form a DPO is shown.
func formKey(t *testing.T, d *dpo) string {
	t.Helper()
	body := page(t, d.get(registerPath), http.StatusOK)
	_, rest, ok := strings.Cut(body, `name="form" value="`)
	key, _, _ := strings.Cut(rest, `"`)
	if !ok || len(key) < 40 {
		t.Fatalf("the form has no key:\n%s", body)
	}
	return key
}

// A registration posted twice is stored once: the DPO double-clicks, the browser resubmits
// the confirmation, or the answer to the write is lost and the SDK writes again. Each post of
// the form is shown the one request, and the requester gets one mail. Without the form's key
// a letter confirmed by other means was stored under two references.
func TestRegisterTwice(t *testing.T) {
	t.Parallel()
	letter := func(email string) url.Values { return registration(email) }
	confirmed := func(email string) url.Values {
		return with(registration(email), "identity", "other_means", "identity_note", "Underskrevet brev med kopi af pas.")
	}
	phone := func(string) url.Values {
		return with(registration(""), "channel", "phone", "postal_address", "", "identity", "other_means", "identity_note", "Ringede tilbage.")
	}
	cases := []struct {
		name string
		form func(email string) url.Values
		// lost drops the answer to the first write instead of posting twice.
		lost  bool
		mails int
	}{
		{"link, posted twice", letter, false, 1},
		{"other means, posted twice", confirmed, false, 1},
		{"phone without an address, posted twice", phone, false, 0},
		{"link, answer lost", letter, true, 1},
		{"other means, answer lost", confirmed, true, 1},
		{"phone without an address, answer lost", phone, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			p := e.faulty()
			d := e.session(e.cfg.DPOAddresses[0])
			requester := "req." + uniq() + "@example.dk"
			form := with(tc.form(requester), "form", formKey(t, d))
			page(t, d.post(registerPath, with(form, "step", stepPreview)), http.StatusOK)

			var locs []string
			if tc.lost {
				p.Inject(awsfault.Rule{Op: "UpdateItem", Fault: awsfault.DropAnswer, Times: 1})
				locs = append(locs, redirect(t, d.post(registerPath, with(form, "step", stepConfirm))))
			} else {
				locs = append(locs, redirect(t, d.post(registerPath, with(form, "step", stepConfirm))))
				e.clock.Add(3 * time.Second)
				locs = append(locs, redirect(t, d.post(registerPath, with(form, "step", stepConfirm))))
			}
			for _, loc := range locs {
				if loc != locs[0] || !strings.HasSuffix(loc, "?done=register") {
					t.Fatalf("shown %q", locs)
				}
			}
			got, err := e.st.PeriodPage(context.Background(), time.Time{}, now0.AddDate(1, 0, 0), "", 100)
			if err != nil || len(got.Requests) != 1 {
				t.Fatalf("%d requests stored, %v", len(got.Requests), err)
			}
			if r := got.Requests[0]; "/admin/requests/"+r.Ref+"?done=register" != locs[0] || r.Version != 1 {
				t.Fatalf("stored %s (version %d), shown %s", r.Ref, r.Version, locs[0])
			}
			if tc.mails > 0 {
				if n := len(e.env.Mails(t, requester)); n != tc.mails {
					t.Errorf("the requester got %d mails, want %d", n, tc.mails)
				}
			}
		})
	}
}
