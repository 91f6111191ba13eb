package dsr

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// Verify, on a request in hand, and Verification, for one known only by its reference and
// token, are the same change: same guard, same event, same parts, same mails. The request
// Verification returns holds, in every part the change names, what Verify leaves there.
func TestVerifyIsVerification(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	whole := newRequest()
	whole.RemindedAt = received.Add(time.Hour) // a part the change does not touch
	c, err := whole.Verify("hash", now)
	if err != nil {
		t.Fatal(err)
	}
	part, pc := Verification(whole.Ref, "hash", now)
	if pc.Version != 0 || c.Version != 1 {
		t.Errorf("versions %d (Verification) and %d (Verify), want 0 and the one read", pc.Version, c.Version)
	}
	pc.Version = c.Version
	if !reflect.DeepEqual(pc, c) {
		t.Fatalf("Verification made %+v, Verify %+v", pc, c)
	}
	if c.From != PendingVerification || c.Token != "hash" || c.Event.Actor != ActorRequester || c.Event.Action != ActionVerified ||
		!slices.Equal(c.Mails, []MailKind{MailReceipt, MailDPONew}) {
		t.Fatalf("change %+v", c)
	}
	for _, p := range parts {
		if p.field != 0 && c.Fields.Has(p.field) && !reflect.DeepEqual(p.get(part), p.get(whole)) {
			t.Errorf("%s: Verification holds %v, Verify left %v", p.name, p.get(part), p.get(whole))
		}
	}
	for _, k := range c.Mails {
		for _, r := range []*Request{whole, part} {
			if m := r.Mails[k]; m.State != MailQueued || !m.At.Equal(now) || m.Attempts != 0 {
				t.Errorf("%s queued as %+v", k, m)
			}
		}
	}
}

// CanVerify is the one rule for a confirmation link: the page asks it, Verify refuses by it.
func TestCanVerify(t *testing.T) {
	now := received.Add(time.Hour)
	tests := []struct {
		name string
		edit func(*Request)
		hash string
		at   time.Time
		want bool
	}{
		{"the live token", nil, "hash", now, true},
		{"another token", nil, "other", now, false},
		{"no token at all", nil, "", now, false},
		{"replaced by a reminder", func(r *Request) { _, _ = r.Remind("new", now) }, "hash", now, false},
		{"the reminder's token", func(r *Request) { _, _ = r.Remind("new", now) }, "new", now, true},
		{"a second before expiry", nil, "hash", received.Add(ExpireAfter - 2*time.Second), true},
		{"at expiry", nil, "hash", received.Add(ExpireAfter), false},
		{"already confirmed", func(r *Request) { _, _ = r.Verify("hash", now) }, "hash", now, false},
		{"expired", func(r *Request) { _, _ = r.Expire(now) }, "hash", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest()
			if tt.edit != nil {
				tt.edit(r)
			}
			if got := r.CanVerify(tt.hash, tt.at); got != tt.want {
				t.Fatalf("CanVerify = %v, want %v", got, tt.want)
			}
			_, err := r.Verify(tt.hash, tt.at)
			if (err == nil) != tt.want || (err != nil && !errors.Is(err, fault.Refused)) {
				t.Fatalf("Verify: %v, want allowed = %v", err, tt.want)
			}
		})
	}
	r := newRequest()
	if _, err := r.Verify("hash", now); err != nil {
		t.Fatal(err)
	}
	if !r.ConfirmedWith("hash") || r.ConfirmedWith("other") || r.ConfirmedWith("") || newRequest().ConfirmedWith("") {
		t.Error("ConfirmedWith tells the spent token wrongly")
	}
}

// TokenLive is stated at whole seconds, as the store's text comparison can check it: never
// live at or after the expiry, never refused more than two seconds before it.
func TestTokenLive(t *testing.T) {
	expires := received.Add(ExpireAfter).Add(700 * time.Millisecond) // a fraction, as a real receipt time has
	for _, off := range []time.Duration{-3 * time.Second, -2100 * time.Millisecond, -1500 * time.Millisecond, -700 * time.Millisecond,
		-time.Nanosecond, 0, time.Nanosecond, 300 * time.Millisecond, time.Second} {
		now := expires.Add(off)
		live := TokenLive(expires, now)
		if live && !now.Before(expires) {
			t.Errorf("%v from expiry: live after the expiry", off)
		}
		if off <= -2100*time.Millisecond && !live {
			t.Errorf("%v from expiry: refused more than two seconds early", off)
		}
		// The store compares the expiry's whole second with the cutoff.
		if want := expires.Truncate(time.Second).After(TokenCutoff(now)); live != want {
			t.Errorf("%v from expiry: TokenLive %v, cutoff says %v", off, live, want)
		}
	}
	if c := TokenCutoff(time.Date(2026, 3, 2, 10, 0, 0, 1, time.FixedZone("CET", 3600))); !c.Equal(time.Date(2026, 3, 2, 9, 0, 1, 0, time.UTC)) || c.Location() != time.UTC {
		t.Errorf("cutoff %v", c)
	}
}
