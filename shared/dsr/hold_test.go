package dsr

import (
	"slices"
	"testing"
	"time"
)

// A request held at intake (over the day's ceiling on unconfirmed requests) is stored with
// no link and no mail; it waits, on the unconfirmed queue, neither reminded nor expired, until
// it is released with a link of its own, from when its reminder and expiry count.
func TestHoldAndRelease(t *testing.T) {
	r := newRequest()
	r.Hold()
	if !r.Held() || r.TokenHash != "" || !r.TokenExpires.IsZero() || len(r.Mails) != 0 {
		t.Fatalf("held: %v, token %q, mails %v", r.Held(), r.TokenHash, r.Mails)
	}
	if last := r.Audit[len(r.Audit)-1]; last.Action != ActionHeld || last.Actor != ActorSystem {
		t.Fatalf("audit %v", r.Audit)
	}
	if r.CanVerify("", received) {
		t.Fatal("a held request can be confirmed without a link")
	}
	if q, when := r.SweepQueue(); q != QueueUnverified || !when.Equal(received) {
		t.Fatalf("queue %s at %v, want unverified at once", q, when)
	}
	long := received.Add(30 * 24 * time.Hour)
	if f := r.FollowUp(long); f != FollowUpRelease {
		t.Fatalf("follow-up %v a month on, want release (never expired while held)", f)
	}
	if _, err := r.Remind("x", long); err == nil {
		t.Fatal("a held request was reminded")
	}
	if _, err := r.ReissueToken("x", long); err == nil {
		t.Fatal("a held request got a link without a release")
	}

	at := received.Add(20 * time.Hour)
	ch, err := r.Release("hash", at)
	if err != nil {
		t.Fatal(err)
	}
	if r.Held() || r.TokenHash != "hash" || !r.TokenExpires.Equal(at.Add(ExpireAfter)) || !r.ReleasedAt.Equal(at) {
		t.Fatalf("released: held %v, token %q until %v", r.Held(), r.TokenHash, r.TokenExpires)
	}
	if !slices.Equal(ch.Mails, []MailKind{MailVerification}) || ch.Event.Action != ActionReleased || !ch.Fields.Has(FieldHeld|FieldToken) {
		t.Fatalf("change %+v", ch)
	}
	if _, err := r.Release("again", at); err == nil {
		t.Fatal("released twice")
	}
	r.Mails[MailVerification] = MailState{State: MailSent, At: at, Attempts: 1}
	for _, tc := range []struct {
		at   time.Time
		want FollowUp
	}{
		{received.Add(ReminderAfter), NoFollowUp},
		{at.Add(ReminderAfter), FollowUpRemind},
		{received.Add(ExpireAfter), FollowUpRemind},
		{at.Add(ExpireAfter), FollowUpExpire},
	} {
		if got := r.FollowUp(tc.at); got != tc.want {
			t.Errorf("follow-up at %v: %v, want %v (counted from the release)", tc.at, got, tc.want)
		}
	}
	if _, err := r.Remind("new", at.Add(ReminderAfter)); err != nil || !r.TokenExpires.Equal(at.Add(ExpireAfter)) {
		t.Fatalf("reminder: %v, link until %v", err, r.TokenExpires)
	}
	if newRequest().Held() {
		t.Fatal("a new request is held")
	}
}

// The expiry of an unconfirmed request removes its personal data, and the DPO's notes on it
// too; that a note was made, by whom and when, stays (issue 19, item 14).
func TestExpireWipesNotes(t *testing.T) {
	r := newRequest()
	if _, err := r.AddNote("dpo@firma.dk", "Ringede til Jens Hansen på 12345678.", received.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ch, err := r.Expire(received.Add(ExpireAfter))
	if err != nil {
		t.Fatal(err)
	}
	var notes int
	for i, e := range r.Audit {
		if e.Action == ActionNoted {
			notes++
			if e.Note != "" || e.Actor != "dpo@firma.dk" || !e.At.Equal(received.Add(time.Hour)) {
				t.Errorf("note after expiry: %+v", e)
			}
			if !slices.Contains(ch.Wiped, i) {
				t.Errorf("the change does not say audit entry %d lost its note: %v", i, ch.Wiped)
			}
		}
	}
	if notes != 1 {
		t.Fatalf("%d notes left in the trail, want the one, without its text", notes)
	}
}
