package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// The report and the exports read the requests received in a period, oldest first, whatever
// their list and type, each once, from the index, a page at a time; a page's history (mail
// texts and messages) comes with it, and nothing of a request outside the page.
func TestPeriodPages(t *testing.T) {
	c := newClock(received.Add(time.Hour))
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	day := 24 * time.Hour
	at := func(t time.Time) time.Time { c.set(t.Add(time.Hour)); return t }
	// Across a month's end, every list, two types, two at the same moment.
	seed(t, s, c, "AAAA-AAAA", "a@x.dk", at(received.Add(-40*day)), due)
	seed(t, s, c, "BBBB-BBBB", "b@x.dk", at(received.Add(-20*day)), due, verify)
	seed(t, s, c, "CCCC-CCCC", "c@x.dk", at(received.Add(-20*day)), due, verify, complete)
	seed(t, s, c, "DDDD-DDDD", "d@x.dk", at(received.Add(-3*day)), due, expire)
	ar := dsr.New("EEEE-EEEE", dsr.Submission{Type: "access", Name: "E", Email: "e@x.dk", Lang: "da"}, received.Add(-day), due, "h")
	if err := s.CreateRequest(ctx, ar); err != nil {
		t.Fatal(err)
	}
	asked := seed(t, s, c, "FFFF-FFFF", "f@x.dk", at(received), due, verify)
	ask, err := asked.Ask("dpo@x.dk", dsr.PurposeOther, "Which period?", "", c.now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, asked, ask); err != nil {
		t.Fatal(err)
	}
	sent := dsr.SentMail{Kind: "ack", At: received, To: "f@x.dk", Lang: "en", Subject: "S", Text: "T"}
	if err := s.SyncSiblings(ctx, asked, sent); err != nil {
		t.Fatal(err)
	}
	seed(t, s, c, "GGGG-GGGG", "g@x.dk", at(received.Add(day)), due)
	// A mail to the privacy address, not yet classified, is a request of the period too.
	mail := dsr.New("HHHH-HHHH", dsr.Submission{Type: string(dsr.Unclassified), Name: "H", Email: "h@x.dk", Lang: "da"}, at(received.Add(-2*day)), due, "h")
	if err := s.CreateRequest(ctx, mail); err != nil {
		t.Fatal(err)
	}

	from, to := received.Add(-30*day), received.Add(day) // leaves out A (before) and G (at to)
	want := []string{"BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "HHHH-HHHH", "EEEE-EEEE", "FFFF-FFFF"}
	for _, n := range []int{1, 2, 3, 100} {
		got := walk(t, n, func(cur string, n int) (store.Page, error) { return s.PeriodPage(ctx, from, to, cur, n) })
		if !slices.Equal(got, want) {
			t.Errorf("%d a page: %v, want %v", n, got, want)
		}
	}
	if _, err := s.PeriodPage(ctx, from, to, "not a cursor", 10); !errors.Is(err, fault.BadRequest) {
		t.Errorf("a made-up cursor: %v", err)
	}

	p, err := s.PeriodPage(ctx, received.Add(-3*day), to, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, mails := range []bool{false, true} {
		h, err := s.PageHistory(ctx, p.Requests, mails)
		if err != nil {
			t.Fatal(err)
		}
		if m := h.Messages["FFFF-FFFF"]; len(m) != 1 || m[0].Text != "Which period?" || len(h.Messages) != 1 {
			t.Errorf("messages %+v", h.Messages)
		}
		if m := h.Mails["FFFF-FFFF"]; mails != (len(m) == 1 && m[0].Text == "T") || len(h.Mails) > 1 {
			t.Errorf("with mails %v: %+v", mails, h.Mails)
		}
	}
	// A page that leaves out the request with the history reads none of it.
	if h, err := s.PageHistory(ctx, p.Requests[:1], true); err != nil || len(h.Messages)+len(h.Mails) != 0 {
		t.Errorf("history of a page without it: %+v, %v", h, err)
	}
}
