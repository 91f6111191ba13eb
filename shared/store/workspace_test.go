package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
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
	// The mails went out, as the outbox sends them at once: none waits for a retry.
	sent := map[dsr.MailKind]dsr.MailState{}
	for k, m := range r.Mails {
		sent[k] = dsr.MailState{State: dsr.MailSent, At: m.At, Attempts: 1}
	}
	if err := s.RecordMails(ctx, r, sent); err != nil {
		t.Fatal(err)
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

// walk reads every page of a list, n at a time, and returns the references in order.
func walk(t *testing.T, n int, page func(cursor string, n int) (store.Page, error)) []string {
	t.Helper()
	var out []string
	cursor := ""
	for range 100 {
		p, err := page(cursor, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Requests) > n {
			t.Fatalf("a page of %d holds %d", n, len(p.Requests))
		}
		out = append(out, refs(p.Requests)...)
		if p.Next == "" {
			return out
		}
		cursor = p.Next
	}
	t.Fatal("the list never ends")
	return nil
}

// Every list the workspace shows is read a page at a time from an index: the open requests
// by deadline, the lists of a group (or all) newest first, of one type or all; paging through
// them yields each request once, in order, whatever the page size.
func TestWorkspaceLists(t *testing.T) {
	c := newClock(received.Add(time.Hour))
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	day := 24 * time.Hour
	seed(t, s, c, "AAAA-AAAA", "pending@x.dk", received, due)
	seed(t, s, c, "BBBB-BBBB", "Same@X.dk", received.Add(time.Minute), due.Add(2*day), verify)
	seed(t, s, c, "CCCC-CCCC", "other@x.dk", received.Add(2*time.Minute), due, verify, start)
	// Extended: its deadline in force is the latest although its first due date is the earliest.
	seed(t, s, c, "DDDD-DDDD", "other@x.dk", received.Add(3*time.Minute), due.Add(-day), verify, extend)
	seed(t, s, c, "EEEE-EEEE", "same@x.dk", received.Add(-day), due, verify, complete)
	seed(t, s, c, "FFFF-FFFF", "gone@x.dk", received.Add(4*time.Minute), due, expire)
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

	for _, n := range []int{1, 2, 25} {
		open := walk(t, n, func(cur string, n int) (store.Page, error) { return s.OpenPage(ctx, "", cur, n) })
		if want := []string{"CCCC-CCCC", "BBBB-BBBB", "DDDD-DDDD"}; !slices.Equal(open, want) {
			t.Errorf("open, %d a page = %v, want %v (by deadline in force)", n, open, want)
		}
		lists := map[string]struct {
			groups []dsr.Group
			want   []string
		}{
			"waiting": {[]dsr.Group{dsr.GroupWaiting}, []string{"AAAA-AAAA", "GGGG-GGGG"}},
			"closed":  {[]dsr.Group{dsr.GroupClosed}, []string{"FFFF-FFFF", "EEEE-EEEE"}},
			"all":     {dsr.Groups, []string{"FFFF-FFFF", "DDDD-DDDD", "CCCC-CCCC", "BBBB-BBBB", "AAAA-AAAA", "GGGG-GGGG", "EEEE-EEEE"}},
		}
		for name, l := range lists {
			got := walk(t, n, func(cur string, n int) (store.Page, error) { return s.GroupPage(ctx, l.groups, "", cur, n) })
			if !slices.Equal(got, l.want) {
				t.Errorf("%s, %d a page = %v, want %v (newest first)", name, n, got, l.want)
			}
		}
	}
	// One type: the others are not read.
	access := dsr.Submission{Type: "access", Name: "A", Email: "a@x.dk", Lang: "da"}
	ar := dsr.New("JJJJ-JJJJ", access, received.Add(6*time.Minute), due, "h")
	if err := s.CreateRequest(ctx, ar); err != nil {
		t.Fatal(err)
	}
	if got := walk(t, 1, func(cur string, n int) (store.Page, error) { return s.GroupPage(ctx, dsr.Groups, dsr.Access, cur, n) }); !slices.Equal(got, []string{"JJJJ-JJJJ"}) {
		t.Errorf("all access requests = %v", got)
	}
	if p, err := s.OpenPage(ctx, dsr.Access, "", 10); err != nil || len(p.Requests) != 0 {
		t.Errorf("open access requests = %v, %v", refs(p.Requests), err)
	}
	if _, err := s.GroupPage(ctx, dsr.Groups, "", "not a cursor", 10); !errors.Is(err, fault.BadRequest) {
		t.Errorf("a made-up cursor: %v", err)
	}

	// Counts, bounded.
	if n, more, err := s.CountQueue(ctx, dsr.QueueUnverified, 10); err != nil || n != 3 || more {
		t.Errorf("unverified count %d (more %v), %v", n, more, err)
	}
	if n, more, err := s.CountQueue(ctx, dsr.QueueUnverified, 2); err != nil || n != 2 || !more {
		t.Errorf("unverified count up to 2: %d (more %v), %v", n, more, err)
	}
	if n, _, err := s.Overdue(ctx, due.Add(time.Hour), 100); err != nil || n != 1 {
		t.Errorf("overdue after the first deadline: %d, %v", n, err)
	}
	if n, _, err := s.Overdue(ctx, due.Add(3*day), 100); err != nil || n != 2 {
		t.Errorf("overdue after the second deadline: %d, %v (the extended one is not)", n, err)
	}
	// A request whose type nobody knows yet (a mail to the privacy address) is on the lists too.
	mailed := dsr.New("KKKK-KKKK", dsr.Submission{Type: string(dsr.Unclassified), Name: "M", Email: "m@x.dk", Lang: "da"}, received.Add(7*time.Minute), due, "h")
	if err := s.CreateRequest(ctx, mailed); err != nil {
		t.Fatal(err)
	}
	for name, groups := range map[string][]dsr.Group{"its own list": {mailed.Group()}, "all": dsr.Groups} {
		if got := walk(t, 25, func(cur string, n int) (store.Page, error) { return s.GroupPage(ctx, groups, "", cur, n) }); !slices.Contains(got, "KKKK-KKKK") {
			t.Errorf("an unclassified request is not on %s: %v", name, got)
		}
	}
}

// Search finds a request by any part of a word of its name, address, reference or customer
// number, however typed, from its search entries, and never one its words do not match.
func TestSearch(t *testing.T) {
	c := newClock(received.Add(time.Hour))
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	people := []struct{ ref, name, email, customer string }{
		{"SRCA-2222", "Søren Kierkegaard", "soren@example.dk", "K-1042"},
		{"SRCB-2222", "Ola Nordmann", "ola.nordmann@example.no", ""},
		{"SRCC-2222", "Åse Ødegård", "ase@example.no", "C-77"},
		{"SRCD-2222", "Ola Hansen", "hansen@example.dk", ""},
	}
	for i, p := range people {
		sub := dsr.Submission{Type: "access", Name: p.name, Email: p.email, CustomerRef: p.customer, Lang: "da"}
		r := dsr.New(p.ref, sub, received.Add(time.Duration(i)*time.Minute), due, "h")
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.SyncSiblings(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct{ q, want string }{
		{"Søren", "SRCA-2222"},
		{"soren", "SRCA-2222"},
		{"SØR", "SRCA-2222"},
		{"kierke", "SRCA-2222"},
		{"ola", "SRCD-2222 SRCB-2222"},
		{"Ola Nordmann", "SRCB-2222"},
		{"nordmann ola", "SRCB-2222"},
		{"ola.nordmann@ex", "SRCB-2222"},
		{"example.no", "SRCC-2222 SRCB-2222"},
		{"Ase", "SRCC-2222"},
		{"odegard", "SRCC-2222"},
		{"1042", "SRCA-2222"},
		{"srcb", "SRCB-2222"},
		{"zz", ""},
	}
	for _, tc := range cases {
		q, ok := dsr.ParseQuery(tc.q)
		if !ok {
			t.Fatalf("%q is not a query", tc.q)
		}
		for _, n := range []int{1, 10} {
			got := walk(t, n, func(cur string, n int) (store.Page, error) { return s.SearchPage(ctx, q, cur, n) })
			if n > 1 && strings.Join(got, " ") != tc.want {
				t.Errorf("%q = %v, want %s", tc.q, got, tc.want)
			}
			if n == 1 {
				slices.Sort(got)
				got = slices.Compact(got)
				want := strings.Fields(tc.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%q a page at a time = %v, want %v", tc.q, got, want)
				}
			}
		}
	}
	// An entry that no longer matches its request (its words changed since, and the sync that
	// would drop the entry has not run) finds nothing.
	r, err := s.GetRequest(ctx, "SRCB-2222")
	if err != nil {
		t.Fatal(err)
	}
	at := received.Add(dsr.ExpireAfter)
	c.set(at)
	ch, err := r.Expire(at)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	q, _ := dsr.ParseQuery("nordmann")
	if p, err := s.SearchPage(ctx, q, "", 10); err != nil || len(p.Requests) != 0 {
		t.Errorf("an expired request found by its old name: %v %v", refs(p.Requests), err)
	}
}
