package store_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/testkit/rawitem"
)

// What a request's partition holds beside it follows the request: the texts of its mails and
// its search entries carry the request's retention as it moves from unconfirmed to open to
// closed, the entries change with the words it is found by, and once the requester's personal
// data goes (expiry), they all go.
func TestSiblingsFollowTheRequest(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := sample("SIBL-2222")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	verification := dsr.SentMail{Kind: dsr.MailVerification, At: received, To: r.Email, Lang: "da", Subject: "Bekræft", Text: "Hej Jens\nhttps://x/verify?token=SIBL2222.…\n"}
	if err := s.SyncSiblings(ctx, r, verification, verification); err != nil { // the same mail twice is one item
		t.Fatal(err)
	}
	if err := s.SyncSiblings(ctx, r, verification); err != nil { // and a retried call writes it again
		t.Fatal(err)
	}
	expiry := func(want time.Time) {
		t.Helper()
		items := rawitem.Partition(t, db, table, r.Ref)
		var words []string
		for sk, it := range items {
			if sk == "REQ" {
				continue
			}
			if strings.HasPrefix(sk, "IDX#") {
				words = append(words, strings.TrimPrefix(sk, "IDX#"))
			}
			exp, ok := it["expires_at"].(*ddbtypes.AttributeValueMemberN)
			if !ok || exp.Value != strconv.FormatInt(want.Unix(), 10) {
				t.Errorf("%s expires %v, want %s", sk, it["expires_at"], want)
			}
			if _, ok := it["ws_pk"]; !ok {
				t.Errorf("%s is not on the workspace index", sk)
			}
		}
		slices.Sort(words)
		if got, want := strings.Join(words, " "), "2222 dk example hansen jens jens@example.dk sibl sibl-2222"; got != want {
			t.Errorf("search words %q, want %q", got, want)
		}
	}
	// Unconfirmed: they go when the request would expire.
	expiry(received.Add(dsr.ExpireAfter))
	got, mails, err := s.OpenRequest(ctx, r.Ref)
	if err != nil || got.Ref != r.Ref || len(mails) != 1 || mails[0].Text != verification.Text || mails[0].Subject != "Bekræft" {
		t.Fatalf("open: %v, %+v", err, mails)
	}

	// Confirmed: they are kept as long as the request would be if answered on its deadline.
	ch, err := r.Verify(r.TokenHash, received.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncSiblings(ctx, r); err != nil {
		t.Fatal(err)
	}
	expiry(r.Deadline().Add(365 * 24 * time.Hour))

	// Answered: they go with the request.
	closed := received.Add(48 * time.Hour)
	c.set(closed)
	if ch, err = r.Complete("dpo@example.dk", "Svar.", closed); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncSiblings(ctx, r); err != nil {
		t.Fatal(err)
	}
	expiry(closed.Add(365 * 24 * time.Hour))

	// Past their expiry, they are not there, whether or not TTL has deleted them yet.
	c.set(closed.Add(366 * 24 * time.Hour))
	if _, mails, err := s.OpenRequest(ctx, r.Ref); err == nil || len(mails) != 0 {
		t.Errorf("past retention: %v, %d mails", err, len(mails))
	}
}

// An unconfirmed request that expires loses its mail texts and search entries with its
// personal data; nothing is kept for it afterwards.
func TestExpiryWipesSiblings(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := sample("WIPE-2222")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncSiblings(ctx, r, dsr.SentMail{Kind: dsr.MailVerification, At: received, To: r.Email, Text: "Hej Jens"}); err != nil {
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
	if err := s.SyncSiblings(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncSiblings(ctx, r, dsr.SentMail{Kind: dsr.MailReminder, At: at, To: "x", Text: "late"}); err != nil {
		t.Fatal(err)
	}
	items := rawitem.Partition(t, db, table, r.Ref)
	if len(items) != 1 || items["REQ"] == nil {
		keys := make([]string, 0, len(items))
		for k := range items {
			keys = append(keys, k)
		}
		t.Fatalf("after expiry the partition holds %v, want the request alone", keys)
	}
}
