package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// seed stores a request received at `at`, due at `due`, from email, and walks it through steps.
func seed(t *testing.T, s *store.Store, c *clock, ref, email string, at, due time.Time, steps ...step) *dsr.Request {
	t.Helper()
	ctx := context.Background()
	sub := dsr.Submission{Type: "erasure", Name: "N", Email: email, Details: strings.Repeat("x", 10), Lang: "en"}
	r := dsr.New(ref, sub, at, due, "h")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		ch, err := st.op(r, c.now())
		if err != nil {
			t.Fatalf("%s %s: %v", ref, st.name, err)
		}
		if err := s.Commit(ctx, r, ch); err != nil {
			t.Fatalf("%s %s: %v", ref, st.name, err)
		}
	}
	return r
}

func refs(rs []*dsr.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Ref
	}
	return out
}

func TestWorkspaceReads(t *testing.T) {
	c := newClock(received.Add(time.Hour))
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	day := 24 * time.Hour
	seed(t, s, c, "AAAA-AAAA", "pending@x.dk", received, due)
	seed(t, s, c, "BBBB-BBBB", "Same@X.dk", received, due.Add(2*day), verify)
	seed(t, s, c, "CCCC-CCCC", "other@x.dk", received, due, verify, start)
	// Extended: its deadline in force is the latest although its first due date is the earliest.
	seed(t, s, c, "DDDD-DDDD", "other@x.dk", received, due.Add(-day), verify, extend)
	seed(t, s, c, "EEEE-EEEE", "same@x.dk", received.Add(-day), due, verify, complete)
	seed(t, s, c, "FFFF-FFFF", "gone@x.dk", received, due, expire)
	seed(t, s, c, "GGGG-GGGG", "pending@x.dk", received.Add(-day), due)
	// Items of other kinds share the table and must not show up as requests.
	if err := s.CreateLogin(ctx, token.New(), store.Login{Email: "dpo@x.dk", Expires: received.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, token.New(), store.Session{Email: "dpo@x.dk", Created: c.now(), Expires: c.now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Allow(ctx, "x", "k", 5, time.Hour); err != nil {
		t.Fatal(err)
	}

	active, err := s.ActiveRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := refs(active), []string{"CCCC-CCCC", "BBBB-BBBB", "DDDD-DDDD"}; !slices.Equal(got, want) {
		t.Errorf("active = %v, want %v (by deadline in force)", got, want)
	}
	unverified, err := s.UnverifiedRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := refs(unverified), []string{"GGGG-GGGG", "AAAA-AAAA"}; !slices.Equal(got, want) {
		t.Errorf("unverified = %v, want %v (oldest first)", got, want)
	}
	byEmail, err := s.RequestsByEmail(ctx, " same@x.DK ")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := refs(byEmail), []string{"BBBB-BBBB", "EEEE-EEEE"}; !slices.Equal(got, want) {
		t.Errorf("by email = %v, want %v (closed ones too, newest first)", got, want)
	}
	if none, err := s.RequestsByEmail(ctx, "gone@x.dk"); err != nil || len(none) != 0 {
		t.Errorf("an expired request keeps no address to be found by: %v %v", refs(none), err)
	}
	var all []string
	if err := s.EachRequest(ctx, func(r *dsr.Request) error { all = append(all, r.Ref); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	if want := []string{"AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE", "FFFF-FFFF", "GGGG-GGGG"}; !slices.Equal(all, want) {
		t.Errorf("each = %v, want %v", all, want)
	}
	stop := fmt.Errorf("stop")
	n := 0
	if err := s.EachRequest(ctx, func(*dsr.Request) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("EachRequest did not stop on the callback's error: err %v after %d calls", err, n)
	}
}

// Every read follows LastEvaluatedKey: with pages of three items, all requests are still read.
func TestWorkspaceReadsEveryPage(t *testing.T) {
	c := newClock(received)
	s, _, _ := newStore(t, c)
	store.SetPageLimit(s, 3)
	ctx := context.Background()
	const n = 10
	for i := range n {
		seed(t, s, c, fmt.Sprintf("P%03d-PAGE", i), "p@x.dk", received, due.Add(time.Duration(i)*time.Hour), verify)
		seed(t, s, c, fmt.Sprintf("Q%03d-PAGE", i), "q@x.dk", received, due)
	}
	count := 0
	if err := s.EachRequest(ctx, func(*dsr.Request) error { count++; return nil }); err != nil {
		t.Fatal(err)
	}
	if count != 2*n {
		t.Errorf("each: read %d requests, want %d", count, 2*n)
	}
	if found, err := s.RequestsByEmail(ctx, "p@x.dk"); err != nil || len(found) != n {
		t.Errorf("by email: %d, %v", len(found), err)
	}
	if active, err := s.ActiveRequests(ctx); err != nil || len(active) != n || active[0].Ref != "P000-PAGE" || active[n-1].Ref != "P009-PAGE" {
		t.Errorf("active: %v, %v", refs(active), err)
	}
	if pending, err := s.UnverifiedRequests(ctx); err != nil || len(pending) != n {
		t.Errorf("unverified: %d, %v", len(pending), err)
	}
}
