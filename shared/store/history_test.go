package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// The audit export reads a page of requests with the kept texts of their mails, oldest first,
// and the messages their trails name; a request with neither gets none, and nothing of one
// request lands on another.
func TestPageHistoryWithMails(t *testing.T) {
	c := newClock(received.Add(24 * time.Hour))
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	r := seed(t, s, c, "HHHH-2222", "jens@example.dk", received, due, verify)
	first := dsr.SentMail{Kind: dsr.MailVerification, At: received, To: r.Email, Lang: "da", Subject: "Bekræft", Text: "Hej Jens"}
	later := dsr.SentMail{Kind: dsr.MailReceipt, At: received.Add(2 * time.Hour), To: r.Email, Lang: "da", Subject: "Kvittering", Text: "Modtaget"}
	if err := s.SyncSiblings(ctx, r, later, first); err != nil {
		t.Fatal(err)
	}
	ask, err := r.Ask("dpo@x.dk", dsr.PurposeOther, "Which period?", "", c.now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, ask); err != nil {
		t.Fatal(err)
	}
	other := seed(t, s, c, "HHHH-3333", "ole@example.dk", received, due)

	type history struct {
		subjects, texts []string
	}
	got := map[string]history{}
	if err := s.EachReceived(ctx, received.Add(-time.Hour), received.Add(time.Hour), "", 10, func(rs []*dsr.Request) (bool, error) {
		hist, err := s.PageHistory(ctx, rs, true)
		if err != nil {
			return false, err
		}
		for _, r := range rs {
			var h history
			for _, m := range hist.Mails[r.Ref] {
				h.subjects = append(h.subjects, m.Subject)
			}
			for _, m := range hist.Messages[r.Ref] {
				h.texts = append(h.texts, m.Text)
			}
			got[r.Ref] = h
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if h := got[r.Ref]; len(got) != 2 || len(h.subjects) != 2 || h.subjects[0] != "Bekræft" || h.subjects[1] != "Kvittering" ||
		len(h.texts) != 1 || h.texts[0] != "Which period?" {
		t.Errorf("PageHistory: %+v", got)
	}
	if h, ok := got[other.Ref]; !ok || len(h.subjects) != 0 || len(h.texts) != 0 {
		t.Errorf("the other request: %+v, %v", h, ok)
	}
}
