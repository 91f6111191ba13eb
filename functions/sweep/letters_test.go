package main

import (
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// A letter to a requester the desk cannot mail is listed in the digest from the local day
// after it was written (the DPO has that day to post it) and every day after, until the DPO
// records it posted: a letter written today is not, even by a run that reads its request. A
// digest that could not be sent leaves the line for the next run. A request answered by mail
// has no such line and stays off the sweep once its mails are sent.
func TestDigestListsLettersNotPosted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	now := localTime(t, "DK", 2026, 11, 23, 7, 0) // a Monday
	received := now.AddDate(0, 0, -10)

	// Extended yesterday evening, by a letter not yet posted: open, far from its deadline.
	extended, _ := h.add(seed{received: received, byLetter: true, extendAt: now.AddDate(0, 0, -1).Add(15 * time.Hour)})
	// Refused this morning before the run, by a letter: closed, on the retry queue for it.
	refused, _ := h.add(seed{received: received, byLetter: true, rejectAt: now.Add(-time.Hour)})
	// Refused yesterday by mail, the mail sent: nothing for the digest or the sweep.
	mailed, _ := h.add(seed{received: received, verified: true, rejectAt: now.AddDate(0, 0, -1)})
	// Refused by letter three days ago and posted the day after.
	posted, _ := h.add(seed{received: received, byLetter: true, rejectAt: now.AddDate(0, 0, -3)})
	post := func(t *testing.T, r *dsr.Request, kind dsr.MailKind, at time.Time) {
		t.Helper()
		if err := h.commit(r, func(r *dsr.Request) (dsr.Change, error) {
			return r.RecordPosted("dpo@example.dk", kind, h.cal.StartOfDay(at), at)
		}); err != nil {
			t.Fatal(err)
		}
	}
	post(t, posted, dsr.MailRejection, now.AddDate(0, 0, -2))
	names := map[string]string{extended.Ref: "extended", refused.Ref: "refused", mailed.Ref: "mailed", posted.Ref: "posted"}

	// While unposted, each letter holds its request on the sweep from its writing; a request
	// without letters is where it would be anyway: nowhere, once closed with its mails sent.
	for _, c := range []struct {
		r    *dsr.Request
		kind dsr.MailKind
		q    dsr.Queue
	}{{extended, dsr.MailExtension, dsr.QueueOpen}, {refused, dsr.MailRejection, dsr.QueueRetry}} {
		got := h.get(c.r.Ref)
		if q, at := h.sweepKey(c.r.Ref); got.Mails[c.kind].State != dsr.MailLetter || q != c.q || at != store.TimeKey(got.Mails[c.kind].At) {
			t.Fatalf("%s: %+v on %q at %s", names[c.r.Ref], got.Mails[c.kind], q, at)
		}
	}
	for _, r := range []*dsr.Request{mailed, posted} {
		if q, at := h.sweepKey(r.Ref); q != "" {
			t.Fatalf("%s on %s at %s", names[r.Ref], q, at)
		}
	}

	notPosted := digest.LineNotPosted
	steps := []lineStep{
		{name: "SES down: nothing listed, nothing marked", at: now, ses: deadSES(t), wantErr: true},
		{name: "the next run lists yesterday's letter, not today's", at: now.Add(2 * time.Minute), want: map[string][]*dsr.Request{
			notPosted: {extended}}},
		{name: "again the same day: nothing new", at: now.Add(3 * time.Minute)},
		{name: "late the same day: today's letter still not", at: now.Add(16 * time.Hour)},
		{name: "the next day: both", at: now.AddDate(0, 0, 1), want: map[string][]*dsr.Request{
			notPosted: {extended, refused}}},
		{name: "the extension posted: the refusal again", at: now.AddDate(0, 0, 2), before: func(t *testing.T) {
			post(t, extended, dsr.MailExtension, now.AddDate(0, 0, 1).Add(3*time.Hour))
		}, want: map[string][]*dsr.Request{notPosted: {refused}}},
		{name: "the refusal posted too: nothing", at: now.AddDate(0, 0, 3), before: func(t *testing.T) {
			post(t, refused, dsr.MailRejection, now.AddDate(0, 0, 2).Add(3*time.Hour))
		}},
	}
	for i, st := range steps {
		st.run(t, h, i, names)
		if st.wantErr {
			for _, r := range []*dsr.Request{extended, refused} {
				if m := h.marks(r.Ref); len(m) != 0 {
					t.Errorf("step %d: %s marked without a digest: %v", i, names[r.Ref], m)
				}
			}
		}
		if st.want != nil {
			// The line names each letter listed and the day it was written.
			mails := h.env.Mails(t, h.dpo)
			last := mails[len(mails)-1]
			for _, r := range st.want[notPosted] {
				kind := dsr.MailExtension
				if r == refused {
					kind = dsr.MailRejection
				}
				line := i18n.T(h.cfg.DefaultLang, "sweep.digest.letter_written", digest.MailName(h.cfg.DefaultLang, r, kind),
					i18n.Date(h.cfg.DefaultLang, h.get(r.Ref).Mails[kind].At.In(h.cal.Location())))
				if !strings.Contains(last.Text, line) || !strings.Contains(last.HTML, line) {
					t.Errorf("step %d: the digest lacks %q:\n%s", i, line, last.Text)
				}
			}
			if rec := lastEMF(t, h); rec["NotPosted"].(float64) != float64(len(st.want[notPosted])) {
				t.Errorf("step %d: EMF NotPosted %v", i, rec["NotPosted"])
			}
		}
		if i == 1 {
			if got := h.rawMark(extended.Ref, notPosted); got["p"] != h.cal.LocalDate(now) || got["st"] != store.EscDone {
				t.Errorf("step %d: the extension's mark %v", i, got)
			}
			if got := h.rawMark(refused.Ref, notPosted); got != nil {
				t.Errorf("step %d: today's letter marked %v", i, got)
			}
		}
	}

	// Posted, the letters no longer hold their requests: the open one is back at its deadline,
	// the closed one off every queue. Nothing was ever listed or marked for the request
	// answered by mail, or the letter posted before.
	if q, at := h.sweepKey(extended.Ref); q != dsr.QueueOpen || at != store.TimeKey(h.get(extended.Ref).Deadline()) {
		t.Errorf("extended on %s at %s", q, at)
	}
	for _, r := range []*dsr.Request{refused, mailed, posted} {
		if q, at := h.sweepKey(r.Ref); q != "" {
			t.Errorf("%s still on %s at %s", names[r.Ref], q, at)
		}
	}
	for _, r := range []*dsr.Request{mailed, posted} {
		if m := h.rawMark(r.Ref, notPosted); m != nil {
			t.Errorf("%s marked %v", names[r.Ref], m)
		}
	}
	checkLogs(t, h)
}
