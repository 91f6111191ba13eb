package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
)

// The digest preview shows the digest a run of the sweep would send now, with the sweep's own
// words, and sends it to the signed-in DPO alone on request, marking nothing reported.
func TestDigestPreview(t *testing.T) {
	e := setup(t)
	me, other := e.cfg.DPOAddresses[0], e.cfg.DPOAddresses[1]
	d := e.session(me)

	// A fresh desk: nothing near a deadline, nothing to send.
	body := page(t, d.get("/admin/digest"), http.StatusOK)
	if !strings.Contains(body, htmlEscape(i18n.T(i18n.DA, "admin.digest.none"))) || strings.Contains(body, `action="/admin/digest"`) {
		t.Errorf("an empty digest is not said to be empty, or offers to send:\n%s", section(body, "<main", "</main>"))
	}
	redirect(t, d.post("/admin/digest", url.Values{}))
	if n := len(e.env.Mails(t, me)); n != 0 {
		t.Fatalf("an empty digest went out: %d mails", n)
	}

	// 10 March: one overdue (received 5 January), one due in two working days (received
	// 10 February: due 10 March… so received 12 February, due 12 March), one far ahead.
	overdue, soon, far := dsr.NewReference(), dsr.NewReference(), dsr.NewReference()
	e.seed(overdue, submission("da", "o."+uniq()+"@example.dk"), time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), verify)
	e.seed(soon, submission("nb", "s."+uniq()+"@example.dk"), time.Date(2026, 2, 12, 9, 0, 0, 0, time.UTC), verify)
	e.seed(far, submission("en", "f."+uniq()+"@example.dk"), received0, verify)

	body = page(t, d.get("/admin/digest"), http.StatusOK)
	main := section(body, "<main", "</main>")
	for _, w := range []string{
		overdue, soon, htmlEscape(plural(i18n.DA, "admin.digest.count", 2)),
		htmlEscape(i18n.T(i18n.DA, "sweep.level.overdue")), htmlEscape(i18n.T(i18n.DA, "sweep.level.working_days", 2)),
		htmlEscape(i18n.T(i18n.DA, "admin.digest.levels", "5 og 2")),
		htmlEscape(strings.Join(e.cfg.DPOAddresses, ", ")),
		`action="/admin/digest"`, `name="csrf"`,
	} {
		if !strings.Contains(main, w) {
			t.Errorf("the preview lacks %q", w)
		}
	}
	if strings.Contains(main, far) {
		t.Errorf("a request far from its deadline is in the preview")
	}
	// The reads are bounded whatever the queues hold: past the bound the page says it shows
	// only the first lines.
	e.h.previewRead = 1
	if body := page(t, d.get("/admin/digest"), http.StatusOK); !strings.Contains(body, htmlEscape(i18n.T(i18n.DA, "admin.digest.more", 1))) {
		t.Errorf("a preview past its read bound does not say it is partial:\n%s", section(body, "<main", "</main>"))
	}
	e.h.previewRead = previewRead

	// Sent to me alone, as the page showed it; the page then says so.
	sent := redirect(t, d.post("/admin/digest", url.Values{}))
	if sent != "/admin/digest?sent=1" {
		t.Errorf("redirect to %q", sent)
	}
	mails := e.env.Mails(t, me)
	if len(mails) != 1 || !strings.Contains(mails[0].Text, overdue) || !strings.Contains(mails[0].Text, soon) || strings.Contains(mails[0].Text, far) ||
		!strings.Contains(main, htmlEscape(mails[0].Subject)) {
		t.Fatalf("mails to me: %+v", mails)
	}
	if n := len(e.env.Mails(t, other)); n != 0 {
		t.Errorf("the preview went to another DPO too: %d mails", n)
	}
	if !strings.Contains(page(t, d.get(sent), http.StatusOK), htmlEscape(i18n.T(i18n.DA, "admin.digest.sent", me))) {
		t.Error("the page does not say the digest was sent")
	}

	// Nothing marked reported: the sweep still reports both at their levels.
	ladder := digest.NewLadder(e.cfg.Calendar, e.cfg.Thresholds)
	for it, err := range e.st.SweepDue(context.Background(), dsr.QueueOpen, ladder.Horizon(now0), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if len(it.Esc) != 0 {
			t.Errorf("%s: marked %v by the preview", it.Request.Ref, it.Esc)
		}
	}
}

// The preview lists what the sweep's digest would besides the deadlines: a refusal SES
// reported bounced, and an answer whose files were not all downloaded a week on; not an
// answer downloaded in time, and not a bounce a DPO has acted on since.
func TestDigestPreviewListsUndeliveredAndNotDownloaded(t *testing.T) {
	e := setup(t)
	me := e.cfg.DPOAddresses[0]
	d := e.session(me)
	ctx := context.Background()
	bounced, delivered := previewSeeds(t, e)
	refusal, handled := bounced(dsr.NewReference()), bounced(dsr.NewReference())
	ch, err := handled.AddNote("seed@fjordlys.dk", "Sendt med posten.", now0.Add(-30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Commit(ctx, handled, ch); err != nil {
		t.Fatal(err)
	}
	partly, fetched := delivered(dsr.NewReference(), "u2"), delivered(dsr.NewReference(), "u1", "u2")

	main := section(page(t, d.get("/admin/digest"), http.StatusOK), "<main", "</main>")
	for _, w := range []string{refusal.Ref, partly.Ref, htmlEscape(plural(i18n.DA, "admin.digest.count", 2)),
		htmlEscape(i18n.T(i18n.DA, "sweep.group.undelivered")), htmlEscape(i18n.T(i18n.DA, "sweep.group.not_downloaded")),
		htmlEscape(i18n.T(i18n.DA, "sweep.digest.missing.other", 1, 2))} {
		if !strings.Contains(main, w) {
			t.Errorf("the preview lacks %q", w)
		}
	}
	for _, r := range []*dsr.Request{handled, fetched} {
		if strings.Contains(main, r.Ref) {
			t.Errorf("%s is in the preview", r.Ref)
		}
	}
	// The request's page says what ends the line: a note. Once there is one, it says no more.
	open := htmlEscape(i18n.T(i18n.DA, "admin.mail.feedback.open"))
	if body := page(t, d.get(requestPath(refusal.Ref)), http.StatusOK); !strings.Contains(body, open) {
		t.Errorf("the bounced refusal's page does not say it is in the digest until a note")
	}
	if body := page(t, d.get(requestPath(handled.Ref)), http.StatusOK); strings.Contains(body, open) ||
		!strings.Contains(body, htmlEscape(i18n.T(i18n.DA, "admin.mail.feedback.bounce", i18n.DateTime(i18n.DA, now0.Add(-time.Hour).In(e.h.cal.Location()))))) {
		t.Errorf("the page of a bounce the DPO acted on: in the digest still, or the bounce not shown")
	}
	// Nothing recorded: the sweep still finds the answer's reminder due.
	if got := e.request(partly.Ref); !got.Delivery.RemindedAt.IsZero() || !got.DeliveryReminderDue(now0) {
		t.Errorf("the preview recorded the reminder: %+v", got.Delivery)
	}
}

// The preview lists the letters not posted as the sweep's digest would: from the day after
// each was written, until the DPO records it posted; not a letter written today.
func TestDigestPreviewListsLettersNotPosted(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	yesterday := now0.Add(-24 * time.Hour)
	refused := unposted(t, e, dsr.NewReference(), true, yesterday)
	extended := unposted(t, e, dsr.NewReference(), false, now0.Add(-time.Hour))

	main := section(page(t, d.get("/admin/digest"), http.StatusOK), "<main", "</main>")
	written := i18n.T(i18n.DA, "sweep.digest.letter_written", i18n.T(i18n.DA, "mail.kind.rejection"), i18n.Date(i18n.DA, yesterday.In(e.h.cal.Location())))
	for _, w := range []string{refused.Ref, htmlEscape(plural(i18n.DA, "admin.digest.count", 1)),
		htmlEscape(i18n.T(i18n.DA, "sweep.group.not_posted")), htmlEscape(written), htmlEscape(i18n.T(i18n.DA, "sweep.short.not_posted"))} {
		if !strings.Contains(main, w) {
			t.Errorf("the preview lacks %q", w)
		}
	}
	if strings.Contains(main, extended.Ref) {
		t.Errorf("a letter written today is in the preview")
	}
	// Recorded posted, it is listed no more.
	redirect(t, d.act(refused.Ref, actionLetterPosted, url.Values{"letter": {string(dsr.MailRejection)}, "posted_on": {"2026-03-10"}}))
	if main := section(page(t, d.get("/admin/digest"), http.StatusOK), "<main", "</main>"); strings.Contains(main, refused.Ref) ||
		!strings.Contains(main, htmlEscape(i18n.T(i18n.DA, "admin.digest.none"))) {
		t.Errorf("a posted letter is still in the preview:\n%s", main)
	}
}

// unposted stores a request registered from a letter without an email address and answered
// at by a letter not yet posted: refused (closed) or extended (open).
func unposted(t testing.TB, e *tenv, ref string, refuse bool, at time.Time) *dsr.Request {
	t.Helper()
	ctx := context.Background()
	saved := e.clock.Now()
	defer e.clock.Set(saved)
	g := dsr.Registration{Channel: dsr.ChannelLetter, ReceivedAt: received0, Type: dsr.Access, Name: "Karen Blixen",
		PostalAddress: "Rungsted Strandvej 111\n2960 Rungsted Kyst", Lang: "da", Details: "Brev om indsigt.",
		Identity: dsr.IdentityOtherMeans, IdentityNote: "Underskrevet brev."}
	e.clock.Set(received0)
	r := dsr.Registered(ref, g, dsr.Access.Due(e.cfg.Calendar, received0, e.cfg.PromptWorkingDays), "", "seed@fjordlys.dk", received0)
	if err := e.st.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at)
	var ch dsr.Change
	var err error
	if refuse {
		ch, err = r.Reject("seed@fjordlys.dk", string(dsr.GroundOther), "Nej.", at)
	} else {
		ch, err = r.Extend("seed@fjordlys.dk", "Fem systemer.", e.cfg.Calendar.Extended(received0), at)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	return e.request(ref)
}

// With answers whose reminder is due, the preview reads their downloads after the queues,
// all at once: three round trips, the budget. Whether a letter waits to be posted is on the
// request read from the queue: no round trip more.
func TestDigestPreviewRoundTrips(t *testing.T) {
	e := setup(t)
	rec := &awscount.Recorder{Latency: tripLatency}
	e.recorded(rec)
	d := e.session(e.cfg.DPOAddresses[0])
	bounced, delivered := previewSeeds(t, e)
	bounced(dsr.NewReference())
	delivered(dsr.NewReference())
	delivered(dsr.NewReference(), "u1")
	unposted(t, e, dsr.NewReference(), true, now0.Add(-24*time.Hour))
	unposted(t, e, dsr.NewReference(), false, now0.Add(-24*time.Hour))
	rec.Take()
	page(t, d.get("/admin/digest"), http.StatusOK)
	before := rec.Take()
	e.held.Run()
	awscount.CheckAnswer(t, before, rec.Take(), 3, "GetItem → Query ‖ Query ‖ Query → Query ‖ Query", "")
}

// previewSeeds returns helpers that store a request whose refusal SES reported bounced, and
// an access request answered with two files (u1, u2) on 2 March, of which the requester
// downloaded those given.
func previewSeeds(t *testing.T, e *tenv) (bounced func(ref string) *dsr.Request, delivered func(ref string, downloaded ...string) *dsr.Request) {
	ctx := context.Background()

	reject := func(r *dsr.Request, at time.Time) (dsr.Change, error) {
		return r.Reject("seed@fjordlys.dk", string(dsr.GroundOther), "Nej.", at)
	}
	bounced = func(ref string) *dsr.Request {
		r := e.seed(ref, submission("da", "b."+uniq()+"@example.dk"), received0, verify, reject)
		ch, err := r.RecordFeedback(dsr.MailRejection, dsr.Feedback{Kind: dsr.FeedbackBounce, At: now0.Add(-time.Hour), Detail: "Permanent/General"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.Commit(ctx, r, ch); err != nil {
			t.Fatal(err)
		}
		return r
	}
	lim := dsr.DeliveryLimits{MaxFile: 1 << 20, MaxTotal: 1 << 22, Retention: 30 * 24 * time.Hour, RemindAfter: 7 * 24 * time.Hour}
	deliver := func(r *dsr.Request, at time.Time) (dsr.Change, error) {
		files := []dsr.File{
			{ID: "u1", Name: "kunde.json", Size: 10, MD5: "m", Key: r.Ref + "/u1/kunde.json", Uploaded: at.Add(-time.Hour)},
			{ID: "u2", Name: "ordrer.csv", Size: 10, MD5: "m", Key: r.Ref + "/u2/ordrer.csv", Uploaded: at.Add(-time.Hour)},
		}
		answer := &dsr.AccessAnswer{Purposes: "Ordrer.", Categories: "Navn.", Recipients: "Ingen.", Retention: "Fem år."}
		return r.Deliver("seed@fjordlys.dk", dsr.DeliveryInput{Message: "Her.", Files: files, Answer: answer}, lim, at)
	}
	delivered = func(ref string, downloaded ...string) *dsr.Request {
		r := e.seed(ref, submission("da", "d."+uniq()+"@example.dk"), received0, verify, deliver)
		for _, id := range downloaded {
			if err := e.st.RecordDownload(ctx, r, dsr.NewDownload(id, received0.Add(24*time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	return bounced, delivered
}

// A bounce says on the request's page what ends its line in the digest, for whom the mail
// was: a DPO notification that did not arrive is about the DPO's own address, not about
// reaching the requester.
func TestBounceHintByAddressee(t *testing.T) {
	for _, tc := range []struct {
		kind dsr.MailKind
		key  string
	}{
		{dsr.MailRejection, "admin.mail.feedback.open"},
		{dsr.MailReceipt, "admin.mail.feedback.open"},
		{dsr.MailDPONew, "admin.mail.feedback.open_dpo"},
		{dsr.RecipientMail("carrier"), "admin.mail.feedback.open_recipient"},
	} {
		if got := feedbackHint(tc.kind); got != tc.key {
			t.Errorf("%s: %s, want %s", tc.kind, got, tc.key)
		}
	}
	e := setup(t)
	ctx := context.Background()
	d := e.session(e.cfg.DPOAddresses[0])
	r := e.seed(dsr.NewReference(), submission("da", "h."+uniq()+"@example.dk"), received0, verify)
	if _, ok := r.Mails[dsr.MailDPONew]; !ok {
		t.Fatalf("the seeded request has no DPO notification: %v", r.Mails)
	}
	ch, err := r.RecordFeedback(dsr.MailDPONew, dsr.Feedback{Kind: dsr.FeedbackBounce, At: now0.Add(-time.Hour), Detail: "Permanent/General"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	for _, l := range []i18n.Lang{i18n.DA, i18n.NB, i18n.EN} {
		body := page(t, d.get(requestPath(r.Ref)+"?lang="+string(l)), http.StatusOK)
		if want := htmlEscape(i18n.T(l, "admin.mail.feedback.open_dpo")); !strings.Contains(body, want) {
			t.Errorf("%s: the page of a bounced DPO notification does not say %q", l, want)
		}
		if strings.Contains(body, htmlEscape(i18n.T(l, "admin.mail.feedback.open"))) {
			t.Errorf("%s: the page of a bounced DPO notification asks how the requester was reached", l)
		}
	}
}
