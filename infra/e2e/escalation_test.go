package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// TestEscalationOnDemand seeds a confirmed request due in two working days, as if it had been
// filed a month ago, fires the sweep the way the README tells a developer to (POST
// /_local/invoke/SweepFunction, which sends the schedule's own event), and expects the DPO's
// digest to list it once, with its deadline and a link, and nothing about the requester.
func TestEscalationOnDemand(t *testing.T) {
	d := desk(t)
	ctx := context.Background()
	now := time.Now()

	// The receipt time that puts the deadline two working days from today: found rather than
	// fixed, because weekends and holidays move it.
	const daysLeft = 2
	var received, due time.Time
	for n := 20; n <= 45 && received.IsZero(); n++ {
		at := now.Add(-time.Duration(n) * 24 * time.Hour)
		if dl := d.cal.Due(at); !now.After(dl) && d.cal.WorkingDaysUntil(now, dl) == daysLeft {
			received, due = at, dl
		}
	}
	if received.IsZero() {
		t.Fatalf("no receipt time in the last 20-45 days gives a deadline %d working days from %s", daysLeft, now)
	}

	email := address("escalation")
	ref := dsr.NewReference()
	_, hash := token.ForRequest(ref)
	r := dsr.New(ref, dsr.Submission{Type: string(dsr.Objection), Name: "Sigrid Escalation", Email: email, Details: "Stop the newsletter.", Lang: "en"}, received, due, hash)
	if err := d.store.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	verified := received.Add(2 * time.Hour)
	change, err := r.Verify(r.TokenHash, verified)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.store.Commit(ctx, r, change); err != nil {
		t.Fatal(err)
	}
	// Its mails went out back then; otherwise the sweep would (rightly) retry them.
	sent := dsr.MailState{State: dsr.MailSent, At: verified, Attempts: 1}
	if err := d.store.RecordMails(ctx, r, map[dsr.MailKind]dsr.MailState{dsr.MailReceipt: sent, dsr.MailDPONew: sent}); err != nil {
		t.Fatal(err)
	}

	sweep(t, d)
	digest := mails(t, d, dpoNotified, 1, about(ref))[0]
	loc := d.cal.Location()
	short := i18n.T(dpoLang, "sweep.short.working_days", daysLeft)
	if want := i18n.T(dpoLang, "sweep.digest.subject.one", controller, short); digest.Subject != want {
		t.Errorf("digest subject %q, want %q", digest.Subject, want)
	}
	for _, want := range []string{
		i18n.T(dpoLang, "sweep.level.working_days", daysLeft),
		ref + " · " + i18n.T(dpoLang, "type.objection.name"),
		i18n.LongDate(dpoLang, due.In(loc)) + " (" + i18n.T(dpoLang, "sweep.days.left.other", daysLeft) + ")",
		d.base + "/admin/requests/" + ref,
	} {
		if !strings.Contains(digest.Text, want) {
			t.Errorf("the digest lacks %q:\n%s", want, digest.Text)
		}
	}
	for _, personal := range []string{r.Name, email, r.Details} {
		if strings.Contains(digest.Text+digest.HTML, personal) {
			t.Errorf("the digest shows %q: it must hold references and dates only", personal)
		}
	}

	// Once: a second run the same day reports nothing new about it.
	sweep(t, d)
	mails(t, d, dpoNotified, 1, about(ref))
	if n := len(d.aws.Mails(t, email)); n != 0 {
		t.Errorf("%d mails to the requester; the sweep had nothing to send them", n)
	}
}

// sweep runs the sweep now through the runner's on-demand endpoint and fails on a function
// error.
func sweep(t *testing.T, d *stack) {
	t.Helper()
	client := &http.Client{Timeout: time.Minute}
	res, err := client.Post(d.base+"/_local/invoke/SweepFunction", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke SweepFunction: %d %s %s", res.StatusCode, res.Header.Get("X-Amz-Function-Error"), body)
	}
}
