package store_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/rawitem"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

var limits = dsr.DeliveryLimits{MaxFile: 200 << 20, MaxTotal: 1000 << 20, Retention: 30 * 24 * time.Hour, RemindAfter: 7 * 24 * time.Hour}

// delivered stores an access request answered with two files and the Art. 15 answer, its
// mails all sent, at c's time.
func delivered(t *testing.T, s *store.Store, c *clock, ref string) *dsr.Request {
	t.Helper()
	ctx := context.Background()
	r := sample(ref)
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	v, err := r.Verify("tokhash", received.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, v); err != nil {
		t.Fatal(err)
	}
	up := c.now().Add(-time.Hour)
	in := dsr.DeliveryInput{
		Message: "Your copy is on your status page.",
		Files: []dsr.File{
			{ID: "u1", Name: "ordrer æøå.csv", Size: 1234, MD5: "0123456789abcdef0123456789abcdef", Key: ref + "/u1/ordrer æøå.csv", Uploaded: up},
			{ID: "u2", Name: "billeder.zip", Size: 7 << 20, MD5: "fedcba9876543210fedcba9876543210", Key: ref + "/u2/billeder.zip", Uploaded: up},
		},
		Answer: &dsr.AccessAnswer{Purposes: "Orders", Categories: "Name, orders", Recipients: "Carrier", Retention: "5 years",
			Source: "You", Automated: "None", Safeguards: "No transfers"},
	}
	ch, err := r.Deliver("dpo@x.dk", in, limits, c.now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	states := map[dsr.MailKind]dsr.MailState{}
	for k := range r.Mails {
		states[k] = dsr.MailState{State: dsr.MailSent, At: c.now(), Attempts: 1}
	}
	if err := s.RecordMails(ctx, r, states); err != nil {
		t.Fatal(err)
	}
	return r
}

// The delivery is stored on the request and read back whole.
func TestDeliveryRoundTrip(t *testing.T) {
	c := newClock(received.Add(48 * time.Hour))
	s, _, _ := newStore(t, c)
	r := delivered(t, s, c, "DDDD-2222")
	got, err := s.GetRequest(context.Background(), r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Delivery, r.Delivery) || got.Outcome.Message != r.Outcome.Message || got.Status != dsr.Completed {
		t.Fatalf("delivery:\n got %+v\nwant %+v", got.Delivery, r.Delivery)
	}
}

// A download is one write, its record beside the request: the request does not change, and
// the records read back in order.
func TestRecordDownload(t *testing.T) {
	c := newClock(received.Add(48 * time.Hour))
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	r := delivered(t, s, c, "DDDD-3333")
	before, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	first := dsr.NewDownload("u2", c.now())
	again := dsr.NewDownload("u2", c.now().Add(time.Minute))
	last := dsr.NewDownload("u1", c.now().Add(2*time.Minute))
	for _, d := range []dsr.Download{first, again, again, last} {
		if err := s.RecordDownload(ctx, r, d); err != nil {
			t.Fatal(err)
		}
	}
	after, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Error("a download changed the request")
	}
	downloads, err := s.Downloads(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(downloads, []dsr.Download{first, again, last}) {
		t.Errorf("downloads\n got %+v\nwant %+v", downloads, []dsr.Download{first, again, last})
	}
	if other, err := s.Downloads(ctx, "DDDD-9999"); err != nil || len(other) != 0 {
		t.Errorf("another request's downloads: %v, %v", other, err)
	}
}

// A files link is used once, before it expires, and read with its request in one Query.
func TestProofs(t *testing.T) {
	c := newClock(received.Add(48 * time.Hour))
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	r := delivered(t, s, c, "DDDD-5555")
	other := delivered(t, s, c, "DDDD-6666")

	key := token.Hash(token.New())
	p := r.NewProof(key, c.now())
	if err := s.PutProof(ctx, r.Ref, p); err != nil {
		t.Fatal(err)
	}
	if err := s.PutProof(ctx, r.Ref, p); !errors.Is(err, fault.Conflict) {
		t.Errorf("the same link twice: %v", err)
	}
	got, gp, err := s.FilesPage(ctx, r.Ref, key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Ref != r.Ref || !reflect.DeepEqual(gp, p) || !gp.LinkUsable(got, c.now()) {
		t.Fatalf("files page: %s, proof\n got %+v\nwant %+v", got.Ref, gp, p)
	}
	if _, gp, err := s.FilesPage(ctx, other.Ref, key); err != nil || gp.Key != "" {
		t.Errorf("the link with another request: %+v, %v", gp, err)
	}
	if _, _, err := s.FilesPage(ctx, "ZZZZ-ZZZZ", key); !errors.Is(err, fault.NotFound) {
		t.Errorf("no request: %v", err)
	}

	// The conversation's Query reads past it.
	if _, _, err := s.Conversation(ctx, r.Ref); err != nil {
		t.Fatal(err)
	}

	c.set(c.now().Add(5 * time.Minute))
	used := gp
	used.Use(token.Hash("session"), c.now())
	wins := race(t, 5, fault.NotFound, func() error { return s.UseProof(ctx, r.Ref, used) })
	if wins != 1 {
		t.Fatalf("a link opened %d sessions", wins)
	}
	_, gp, err = s.FilesPage(ctx, r.Ref, key)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gp, used) || gp.LinkUsable(r, c.now()) || !gp.SessionOpen(r, token.Hash("session"), c.now()) {
		t.Errorf("after use: %+v", gp)
	}

	// An expired link cannot be used.
	late := r.NewProof(token.Hash(token.New()), c.now())
	if err := s.PutProof(ctx, r.Ref, late); err != nil {
		t.Fatal(err)
	}
	c.set(c.now().Add(dsr.ProofLinkValid + time.Second))
	late.Use(token.Hash("s2"), c.now())
	if err := s.UseProof(ctx, r.Ref, late); !errors.Is(err, fault.NotFound) {
		t.Errorf("an expired link was used: %v", err)
	}
	// Past its item's expiry, a link is gone.
	c.set(c.now().Add(time.Hour))
	if _, gp, err := s.FilesPage(ctx, r.Ref, key); err != nil || gp.Key != "" {
		t.Errorf("long after: %+v, %v", gp, err)
	}
}

// The partition's upkeep (SyncSiblings) gives a download's record the request's expiry, and
// leaves a files link its own of minutes; once the request's data is gone, both go.
func TestDeliverySiblingsExpire(t *testing.T) {
	c := newClock(received.Add(48 * time.Hour))
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := delivered(t, s, c, "DDDD-7777")
	p := r.NewProof(token.Hash(token.New()), c.now())
	if err := s.PutProof(ctx, r.Ref, p); err != nil {
		t.Fatal(err)
	}
	d := dsr.NewDownload("u1", c.now())
	if err := s.RecordDownload(ctx, r, d); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncSiblings(ctx, r); err != nil {
		t.Fatal(err)
	}
	items := rawitem.Partition(t, db, table, r.Ref)
	ttl := func(sk string) string {
		if n, ok := items[sk]["expires_at"].(*ddbtypes.AttributeValueMemberN); ok {
			return n.Value
		}
		return ""
	}
	kept := r.SiblingsKeptUntil(365 * 24 * time.Hour).Unix()
	if got := ttl("TAKEN#" + d.ID); got != strconv.FormatInt(kept, 10) {
		t.Errorf("download record expires %s, want the request's %d", got, kept)
	}
	if got, want := ttl("PROOF#"+p.Key), strconv.FormatInt(p.ValidUntil.Add(dsr.FilesSession).Unix(), 10); got != want {
		t.Errorf("files link expires %s, want its own %s", got, want)
	}
}
