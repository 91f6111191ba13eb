package main

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// groups reads every digest sent to the DPO since the last look: group → references, each
// group's sorted, and fails on a reference listed twice in one group.
func groups(t *testing.T, h *harness) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range h.newMails(h.dpo) {
		_, lines := h.digestLines(m)
		for g, refs := range lines {
			for _, ref := range refs {
				if slices.Contains(out[g], ref) {
					t.Errorf("%s listed twice in %s", ref, g)
				}
				out[g] = append(out[g], ref)
			}
		}
	}
	for _, refs := range out {
		slices.Sort(refs)
	}
	return out
}

// lineStep is one run of the sweep in a test of the digest's lines, run by run.
type lineStep struct {
	name string
	at   time.Time
	ses  notice.SES
	// before is what happens on the desk before the run.
	before func(t *testing.T)
	// want is what the run's digest lists, group → requests; nil for no digest.
	want    map[string][]*dsr.Request
	wantErr bool
}

// run runs the sweep at st.at (on st.ses if set) after st.before, and fails the test unless it
// failed as st.wantErr says and its digest listed what st.want says, naming the requests by
// names in the failure.
func (st lineStep) run(t *testing.T, h *harness, i int, names map[string]string) {
	t.Helper()
	if st.before != nil {
		st.before(t)
	}
	h.clock.Set(st.at)
	err := h.sweeper(st.ses).Handle(context.Background(), scheduledEvent(t))
	if (err != nil) != st.wantErr {
		t.Fatalf("step %d (%s): err = %v", i, st.name, err)
	}
	want := map[string][]string{}
	for g, rs := range st.want {
		for _, r := range rs {
			want[g] = append(want[g], r.Ref)
		}
		slices.Sort(want[g])
	}
	if got := groups(t, h); !maps.EqualFunc(got, want, slices.Equal) {
		named := func(m map[string][]string) map[string][]string {
			out := map[string][]string{}
			for g, refs := range m {
				for _, ref := range refs {
					out[g] = append(out[g], names[ref])
				}
			}
			return out
		}
		t.Fatalf("step %d (%s): listed %v, want %v", i, st.name, named(got), named(want))
	}
}

// The digest lists the mails SES reported did not arrive every day until a DPO acts on the
// request, and an answer whose files were not all downloaded once, when its reminder falls
// due; an answer downloaded in time is not listed. A digest that could not be sent leaves
// every line for the next run, as it does the deadlines' levels.
func TestDigestListsUndeliveredAndNotDownloaded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	now := localTime(t, "DK", 2026, 11, 23, 7, 0) // a Monday
	received := now.AddDate(0, 0, -12)

	// A refusal that bounced yesterday, on a closed request.
	refusal, _ := h.add(seed{received: received, verified: true, rejectAt: now.AddDate(0, 0, -2),
		bounce: dsr.MailRejection, bounceAt: now.AddDate(0, 0, -1)})
	// A receipt marked as spam, on an open request far from its deadline.
	receipt, _ := h.add(seed{received: now.AddDate(0, 0, -3), verified: true,
		bounce: dsr.MailReceipt, bounceAt: now.AddDate(0, 0, -3).Add(2 * time.Hour), complaint: true})
	// A refusal that bounced, which the DPO then wrote a note on: not listed.
	handled, _ := h.add(seed{received: received, verified: true, rejectAt: now.AddDate(0, 0, -2),
		bounce: dsr.MailRejection, bounceAt: now.AddDate(0, 0, -2).Add(time.Hour)})
	if err := h.commit(handled, func(r *dsr.Request) (dsr.Change, error) {
		return r.AddNote("dpo@example.dk", "Sendt med posten.", now.AddDate(0, 0, -1))
	}); err != nil {
		t.Fatal(err)
	}
	// Answers with two files eight days ago: one downloaded of two, both, none yet three
	// days ago.
	partly, _ := h.add(seed{received: received, verified: true, deliverAt: now.AddDate(0, 0, -8), files: 2, downloaded: []int{1}})
	fetched, _ := h.add(seed{received: received, verified: true, deliverAt: now.AddDate(0, 0, -8), files: 2, downloaded: []int{0, 1}})
	recent, _ := h.add(seed{received: received, verified: true, deliverAt: now.AddDate(0, 0, -3), files: 2})
	names := map[string]string{refusal.Ref: "refusal", receipt.Ref: "receipt", handled.Ref: "handled", partly.Ref: "partly",
		fetched.Ref: "fetched", recent.Ref: "recent"}

	undelivered, notDownloaded := digest.LineUndelivered, digest.LineNotDownloaded
	steps := []lineStep{
		{name: "SES down: nothing listed, nothing marked", at: now, ses: deadSES(t), wantErr: true},
		{name: "the next run lists it all", at: now.Add(2 * time.Minute), want: map[string][]*dsr.Request{
			undelivered: {refusal, receipt}, notDownloaded: {partly}}},
		{name: "again the same day: nothing new", at: now.Add(3 * time.Minute)},
		{name: "the next day: the mails again, the files not", at: now.AddDate(0, 0, 1), want: map[string][]*dsr.Request{
			undelivered: {refusal, receipt}}},
		{name: "the DPO acted on both: nothing", at: now.AddDate(0, 0, 2), before: func(t *testing.T) {
			for _, r := range []*dsr.Request{refusal, receipt} {
				if err := h.commit(r, func(r *dsr.Request) (dsr.Change, error) {
					return r.AddNote("dpo@example.dk", "Ringet op.", now.AddDate(0, 0, 1).Add(time.Hour))
				}); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "the recent answer's reminder falls due", at: now.AddDate(0, 0, 4), want: map[string][]*dsr.Request{
			notDownloaded: {recent}}},
	}
	for i, st := range steps {
		st.run(t, h, i, names)
		if st.wantErr {
			for _, r := range []*dsr.Request{refusal, receipt, partly} {
				if m := h.marks(r.Ref); len(m) != 0 {
					t.Errorf("step %d: %s marked without a digest: %v", i, names[r.Ref], m)
				}
			}
			if got := h.get(partly.Ref); !got.Delivery.RemindedAt.IsZero() {
				t.Errorf("step %d: the reminder was recorded without a digest", i)
			}
		}
	}

	// The trail says what the sweep found: the reminder names the file not downloaded, the
	// answer downloaded in time says so; both left the queue. A bounce the DPO acted on left it
	// too; the open request is back at its deadline.
	checkTrail := func(r *dsr.Request, action dsr.Action, note string) {
		t.Helper()
		got := h.get(r.Ref)
		last := got.Audit[len(got.Audit)-1]
		if last.Action != action || last.Note != note || got.Delivery.RemindedAt.IsZero() {
			t.Errorf("%s: last event %+v, reminded %v", names[r.Ref], last, got.Delivery.RemindedAt)
		}
		if q, _ := h.sweepKey(r.Ref); q != "" {
			t.Errorf("%s still on %s", names[r.Ref], q)
		}
	}
	checkTrail(partly, dsr.ActionDeliveryReminded, "not downloaded: "+partly.Delivery.Files[0].Name)
	checkTrail(fetched, dsr.ActionDeliveryFetched, "")
	checkTrail(recent, dsr.ActionDeliveryReminded, "not downloaded: "+recent.Delivery.Files[0].Name+", "+recent.Delivery.Files[1].Name)
	for _, r := range []*dsr.Request{refusal, handled} {
		if q, _ := h.sweepKey(r.Ref); q != "" {
			t.Errorf("%s still on %s", names[r.Ref], q)
		}
	}
	if q, at := h.sweepKey(receipt.Ref); q != dsr.QueueOpen || at != store.TimeKey(h.get(receipt.Ref).Deadline()) {
		t.Errorf("receipt on %s at %s", q, at)
	}
	rec := lastEMF(t, h)
	if rec["NotDownloaded"].(float64) != 1 || rec["Undelivered"].(float64) != 0 {
		t.Errorf("EMF of the last run: %v", rec)
	}
	// The digest holds no file's name and no address.
	for _, m := range h.env.Mails(t, h.dpo) {
		for _, private := range []string{partly.Delivery.Files[0].Name, refusal.Email, receipt.Email} {
			if strings.Contains(m.Text, private) || strings.Contains(m.HTML, private) {
				t.Errorf("a digest holds %q", private)
			}
		}
	}
	checkLogs(t, h)
}
