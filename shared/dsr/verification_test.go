package dsr

import (
	"reflect"
	"testing"
	"time"
)

// Verify and Verification are the same change: the store applies one without reading, the
// workspace and the tests the other.
func TestVerifyIsVerification(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	r := newRequest()
	c, err := r.Verify(now)
	if err != nil {
		t.Fatal(err)
	}
	ev, mails := Verification(now)
	if c.Event != ev || !reflect.DeepEqual(c.Mails, mails) || c.From != PendingVerification {
		t.Fatalf("Verify made %+v, Verification says %+v %v", c, ev, mails)
	}
	for _, k := range mails {
		if m := r.Mails[k]; m.State != MailQueued || !m.At.Equal(now) || m.Attempts != 0 {
			t.Errorf("%s queued as %+v", k, m)
		}
	}
}
