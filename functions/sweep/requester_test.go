package main

import (
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

var verifyLinkRE = regexp.MustCompile(`https://dsr\.example\.dk/verify\?token=[^\s"<]+`)

// linkToken pulls the confirmation token out of a mail's text.
func linkToken(t *testing.T, text string) string {
	t.Helper()
	link := verifyLinkRE.FindString(text)
	if link == "" {
		t.Fatalf("no confirmation link in:\n%s", text)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// subjectOf is the subject the given mail about r must have, rendered as the product renders it.
func (h *harness) subjectOf(kind dsr.MailKind, r *dsr.Request) string {
	h.t.Helper()
	n, err := notice.New(notice.Settings{
		Controller: h.cfg.ControllerName, Country: h.cfg.Calendar.Country(), BaseURL: h.cfg.BaseURL,
		DPOAddresses: h.cfg.DPOAddresses, DefaultLang: h.cfg.DefaultLang, Location: h.cal.Location(),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	msg, err := n.Request(kind, r, "https://dsr.example.dk/verify?token=x")
	if err != nil {
		h.t.Fatal(err)
	}
	return msg.Subject
}

// sweepKey returns the request's place in the sweep index, "" if it is off it.
func (h *harness) sweepKey(ref string) (dsr.Queue, string) {
	h.t.Helper()
	raw := h.raw(ref)
	pk, ok := raw[store.AttrSweepPK].(*ddbtypes.AttributeValueMemberS)
	if !ok {
		return "", ""
	}
	return dsr.Queue(pk.Value), raw[store.AttrSweepAt].(*ddbtypes.AttributeValueMemberS).Value
}

func actions(r *dsr.Request) []dsr.Action {
	var out []dsr.Action
	for _, e := range r.Audit {
		out = append(out, e.Action)
	}
	return out
}

// 48 hours after an unconfirmed submission the requester gets one reminder, in their own
// language, with a fresh link that replaces the old one; after 7 days the request expires,
// its personal data is removed and it leaves the index, while reference and audit trail stay.
func TestReminderThenExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	received := localTime(t, "DK", 2026, 11, 20, 14, 0)
	r, oldTok := h.add(seed{received: received, lang: "nb", typ: dsr.Erasure})
	_, oldHash, _ := token.ParseRequest(oldTok)

	h.run(received.Add(dsr.ReminderAfter - time.Minute))
	if n := len(h.newMails(r.Email)); n != 0 {
		t.Fatalf("%d mails before 48 hours", n)
	}

	at := received.Add(dsr.ReminderAfter)
	h.run(at)
	mails := h.newMails(r.Email)
	if len(mails) != 1 {
		t.Fatalf("%d mails at 48 hours, want one reminder", len(mails))
	}
	got := h.get(r.Ref)
	// In the requester's language (Norwegian), not the deployment's (Danish).
	inDanish := *got
	inDanish.Lang = "da"
	if want := h.subjectOf(dsr.MailReminder, got); mails[0].Subject != want || want == h.subjectOf(dsr.MailReminder, &inDanish) {
		t.Errorf("reminder subject %q, want the Norwegian reminder %q", mails[0].Subject, want)
	}
	tok := linkToken(t, mails[0].Text)
	ref, hash, ok := token.ParseRequest(tok)
	switch {
	case !ok || ref != r.Ref:
		t.Fatalf("reminder link token %q is not for %s", tok, r.Ref)
	case !token.Equal(hash, got.TokenHash):
		t.Fatal("the reminder's link does not match the stored token")
	case token.Equal(oldHash, got.TokenHash):
		t.Fatal("the old link still matches")
	}
	if !got.RemindedAt.Equal(at) || got.Mails[dsr.MailReminder].State != dsr.MailSent || got.Status != dsr.PendingVerification ||
		!slices.Equal(actions(got), []dsr.Action{dsr.ActionSubmitted, dsr.ActionReminded}) {
		t.Fatalf("after the reminder: %+v", got)
	}
	if pk, sat := h.sweepKey(r.Ref); pk != dsr.QueueUnverified || sat != store.TimeKey(received.Add(dsr.ExpireAfter)) {
		t.Fatalf("index after the reminder: %s %s, want UNVERIFIED at the expiry", pk, sat)
	}

	for _, later := range []time.Duration{time.Hour, 24 * time.Hour, 4 * 24 * time.Hour} {
		h.run(at.Add(later))
	}
	if n := len(h.newMails(r.Email)); n != 0 {
		t.Fatalf("%d more reminders", n)
	}

	h.run(received.Add(dsr.ExpireAfter - time.Minute))
	if h.get(r.Ref).Status != dsr.PendingVerification {
		t.Fatal("expired early")
	}
	expiredAt := received.Add(dsr.ExpireAfter)
	h.run(expiredAt)
	checkExpired(t, h, r.Ref, expiredAt, []dsr.Action{dsr.ActionSubmitted, dsr.ActionReminded, dsr.ActionExpired})
	if n := len(h.newMails(r.Email)); n != 0 {
		t.Fatalf("%d mails on expiry", n)
	}
	checkLogs(t, h)
}

func checkExpired(t *testing.T, h *harness, ref string, at time.Time, audit []dsr.Action) {
	t.Helper()
	got := h.get(ref)
	if got.Status != dsr.Expired || !got.ClosedAt.Equal(at) || got.Ref != ref || !slices.Equal(actions(got), audit) {
		t.Fatalf("expired request: status %s closed %s audit %v", got.Status, got.ClosedAt, actions(got))
	}
	raw := h.raw(ref)
	for _, attr := range []string{"name", "email", "email_hash", "details", "customer_ref", "token_hash", "token_expires"} {
		if _, ok := raw[attr]; ok {
			t.Errorf("expired request still holds %s", attr)
		}
	}
	if pk, _ := h.sweepKey(ref); pk != "" {
		t.Errorf("expired request still on the index (%s)", pk)
	}
	if _, ok := raw[store.AttrExpiresAt]; !ok {
		t.Error("expired request has no TTL")
	}
}

// A request nobody confirmed and that was never reminded (the sweep did not run in between)
// expires on time without a reminder.
func TestExpiryWithoutReminder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "NO", "nb")
	received := localTime(t, "NO", 2027, 3, 1, 9, 0)
	r, _ := h.add(seed{received: received, lang: "nb"})
	h.run(received.Add(dsr.ExpireAfter + time.Hour))
	checkExpired(t, h, r.Ref, received.Add(dsr.ExpireAfter+time.Hour), []dsr.Action{dsr.ActionSubmitted, dsr.ActionExpired})
	if n := len(h.newMails(r.Email)); n != 0 {
		t.Fatalf("%d mails", n)
	}
}

// Mails that could not be sent are sent by the next run; those still within their sender's
// lease, given up, or addressed to no one any more are left alone.
func TestMailRetries(t *testing.T) {
	now := localTime(t, "DK", 2026, 11, 23, 7, 0)
	failed := func(attempts int) dsr.MailState {
		return dsr.MailState{State: dsr.MailFailed, At: now.Add(-time.Hour), Attempts: attempts}
	}
	queued := func(age time.Duration) dsr.MailState { return dsr.MailState{State: dsr.MailQueued, At: now.Add(-age)} }
	tests := []struct {
		name string
		seed seed
		// toRequester and toDPO are the mails each must get; link: the requester's carries a
		// new confirmation link.
		toRequester []dsr.MailKind
		toDPO       []dsr.MailKind
		link        bool
		audit       dsr.Action // appended to the trail, if any
		index       dsr.Queue  // queue afterwards
	}{
		{
			name:        "verification failed",
			seed:        seed{received: now.Add(-2 * time.Hour), mails: map[dsr.MailKind]dsr.MailState{dsr.MailVerification: failed(1)}},
			toRequester: []dsr.MailKind{dsr.MailVerification}, link: true, audit: dsr.ActionReissued, index: dsr.QueueUnverified,
		},
		{
			name:        "verification queued past the lease",
			seed:        seed{received: now.Add(-dsr.MailLease - time.Minute), mails: map[dsr.MailKind]dsr.MailState{dsr.MailVerification: queued(dsr.MailLease + time.Minute)}},
			toRequester: []dsr.MailKind{dsr.MailVerification}, link: true, audit: dsr.ActionReissued, index: dsr.QueueUnverified,
		},
		{
			name:  "verification queued within the lease",
			seed:  seed{received: now.Add(-5 * time.Minute), mails: map[dsr.MailKind]dsr.MailState{dsr.MailVerification: queued(5 * time.Minute)}},
			index: dsr.QueueUnverified,
		},
		{
			name: "reminder failed",
			seed: seed{received: now.Add(-60 * time.Hour), remindAt: now.Add(-time.Hour), mails: map[dsr.MailKind]dsr.MailState{
				dsr.MailVerification: failed(1), dsr.MailReminder: failed(1)}},
			toRequester: []dsr.MailKind{dsr.MailReminder}, link: true, audit: dsr.ActionReissued, index: dsr.QueueUnverified,
		},
		{
			name: "receipt and DPO notification failed",
			seed: seed{received: now.AddDate(0, 0, -2), verified: true, lang: "en", mails: map[dsr.MailKind]dsr.MailState{
				dsr.MailReceipt: failed(1), dsr.MailDPONew: failed(2)}},
			toRequester: []dsr.MailKind{dsr.MailReceipt}, toDPO: []dsr.MailKind{dsr.MailDPONew}, index: dsr.QueueOpen,
		},
		{
			name:        "receipt of a closed request",
			seed:        seed{received: now.AddDate(0, 0, -5), verified: true, completeAt: now.AddDate(0, 0, -1), mails: map[dsr.MailKind]dsr.MailState{dsr.MailReceipt: failed(3)}},
			toRequester: []dsr.MailKind{dsr.MailReceipt},
		},
		{
			name:        "completion notice failed",
			seed:        seed{received: now.AddDate(0, 0, -9), verified: true, completeAt: now.AddDate(0, 0, -1), lang: "nb", mails: map[dsr.MailKind]dsr.MailState{dsr.MailCompletion: failed(1)}},
			toRequester: []dsr.MailKind{dsr.MailCompletion},
		},
		{
			name:  "given up",
			seed:  seed{received: now.AddDate(0, 0, -6), verified: true, mails: map[dsr.MailKind]dsr.MailState{dsr.MailReceipt: failed(dsr.MaxMailAttempts)}},
			index: dsr.QueueOpen,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "DK", "da")
			r, _ := h.add(tc.seed)
			h.run(now)
			got := h.get(r.Ref)

			mails := h.newMails(r.Email)
			if len(mails) != len(tc.toRequester) {
				t.Fatalf("requester got %d mails, want %v", len(mails), tc.toRequester)
			}
			for i, kind := range tc.toRequester {
				if mails[i].Subject != h.subjectOf(kind, got) {
					t.Errorf("requester mail %d: subject %q, want the %s mail", i, mails[i].Subject, kind)
				}
				st := got.Mails[kind]
				if st.State != dsr.MailSent || st.Attempts != tc.seed.mails[kind].Attempts+1 {
					t.Errorf("%s state %+v", kind, st)
				}
				if tc.link {
					_, hash, ok := token.ParseRequest(linkToken(t, mails[i].Text))
					if !ok || !token.Equal(hash, got.TokenHash) {
						t.Error("the new link does not match the stored token")
					}
				}
			}
			dpo := h.newMails(h.dpo)
			if len(dpo) != len(tc.toDPO) {
				t.Fatalf("DPO got %d mails, want %v", len(dpo), tc.toDPO)
			}
			for i, kind := range tc.toDPO {
				if dpo[i].Subject != h.subjectOf(kind, got) {
					t.Errorf("DPO mail %d: subject %q, want the %s mail", i, dpo[i].Subject, kind)
				}
			}
			wantAudit := actions(r)
			if tc.audit != "" {
				wantAudit = append(wantAudit, tc.audit)
			}
			if !slices.Equal(actions(got), wantAudit) {
				t.Errorf("audit %v, want %v", actions(got), wantAudit)
			}
			if pk, _ := h.sweepKey(r.Ref); pk != tc.index {
				t.Errorf("partition %q afterwards, want %q", pk, tc.index)
			}
			// A second run sends nothing more.
			h.run(now.Add(time.Minute))
			if n := len(h.newMails(r.Email)) + len(h.newMails(h.dpo)); n != 0 {
				t.Errorf("second run sent %d more mails", n)
			}
		})
	}
}

// The attack of issue 19, item 14: a DPO's note on a request that is never confirmed outlived
// the wipe of its personal data. Expired, the request keeps that a note was made, by whom and
// when, and no text of it anywhere in the table.
func TestExpiryWipesTheDPOsNotes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	received := localTime(t, "DK", 2026, 11, 20, 14, 0)
	note := "Ringede til Kari på 40 12 34 56 om kontoen " + unique()
	r, _ := h.add(seed{received: received, note: note})
	h.run(received.Add(dsr.ExpireAfter))
	checkExpired(t, h, r.Ref, received.Add(dsr.ExpireAfter), []dsr.Action{dsr.ActionSubmitted, dsr.ActionNoted, dsr.ActionExpired})
	got := h.get(r.Ref)
	if e := got.Audit[1]; e.Note != "" || e.Actor != "dpo@example.dk" || !e.At.Equal(received.Add(time.Hour)) {
		t.Errorf("the note's entry after expiry: %+v", e)
	}
	if where := h.tableHolds(note); where != "" {
		t.Errorf("after expiry the table still holds the note, in %s", where)
	}
}

// The attack of issue 19, item 1, at the sweep: requests held at intake get their links on a
// later day, oldest first, only as far as that day's ceiling allows; the rest wait, and none
// expires or is reminded while it waits. Once released, its reminder and expiry count from
// the release.
func TestHeldRequestsAreReleasedWithinTheCeiling(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da", map[string]string{"UNCONFIRMED_PER_DAY": "2"})
	received := localTime(t, "DK", 2026, 11, 20, 14, 0)
	var held []*dsr.Request
	for i := range 3 {
		r, _ := h.add(seed{received: received.Add(time.Duration(i) * time.Minute), held: true})
		held = append(held, r)
	}
	day2 := localTime(t, "DK", 2026, 11, 21, 7, 0)
	h.run(day2)
	for i, r := range held {
		got, mails := h.get(r.Ref), h.newMails(r.Email)
		if want := i < 2; got.Held() == want || (len(mails) == 1) != want {
			t.Fatalf("request %d on day 2: held %v, %d mails", i, got.Held(), len(mails))
		}
		if i < 2 {
			if mails[0].Subject != h.subjectOf(dsr.MailVerification, got) || linkToken(t, mails[0].Text) == "" ||
				!slices.Equal(actions(got), []dsr.Action{dsr.ActionSubmitted, dsr.ActionHeld, dsr.ActionReleased}) {
				t.Errorf("request %d released: %q, %v", i, mails[0].Subject, actions(got))
			}
		}
	}
	// The same day again: the ceiling is spent.
	h.run(day2.Add(time.Hour))
	if got := h.get(held[2].Ref); !got.Held() || len(h.newMails(held[2].Email)) != 0 {
		t.Fatal("released past the day's ceiling")
	}
	// Weeks later it is still there, not expired, and released on a day with room.
	later := localTime(t, "DK", 2026, 12, 20, 7, 0)
	h.run(later)
	got := h.get(held[2].Ref)
	if got.Status != dsr.PendingVerification || got.Held() || len(h.newMails(held[2].Email)) != 1 {
		t.Fatalf("a month on: %s, held %v", got.Status, got.Held())
	}
	// Its reminder counts from the release, not from receipt.
	h.run(later.Add(dsr.ReminderAfter - time.Minute))
	if n := len(h.newMails(held[2].Email)); n != 0 {
		t.Fatalf("%d mails before 48 hours after the release", n)
	}
	h.run(later.Add(dsr.ReminderAfter))
	if n := len(h.newMails(held[2].Email)); n != 1 {
		t.Fatalf("%d reminders 48 hours after the release, want 1", n)
	}
	checkLogs(t, h)
}
