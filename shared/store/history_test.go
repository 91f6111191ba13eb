package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// The audit export's Scan reads every request with the kept texts of its mails, oldest first,
// and the messages its trail names; a request with neither gets none, and nothing of one
// request lands on another.
func TestEachHistory(t *testing.T) {
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
	if err := s.EachHistory(ctx, func(r *dsr.Request, mails []dsr.SentMail, msgs []dsr.Message) error {
		var h history
		for _, m := range mails {
			h.subjects = append(h.subjects, m.Subject)
		}
		for _, m := range msgs {
			h.texts = append(h.texts, m.Text)
		}
		got[r.Ref] = h
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if h := got[r.Ref]; len(got) != 2 || len(h.subjects) != 2 || h.subjects[0] != "Bekræft" || h.subjects[1] != "Kvittering" ||
		len(h.texts) != 1 || h.texts[0] != "Which period?" {
		t.Errorf("EachHistory: %+v", got)
	}
	if h, ok := got[other.Ref]; !ok || len(h.subjects) != 0 || len(h.texts) != 0 {
		t.Errorf("the other request: %+v, %v", h, ok)
	}
}
