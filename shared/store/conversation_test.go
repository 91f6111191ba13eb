package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// days moves a deadline on by n days (the calendar's rule is package deadline's).
type days int

func (n days) Resume(deadline, _, _ time.Time) time.Time { return deadline.AddDate(0, 0, int(n)) }

// A question that stops the clock, and the reply that runs it again, each committed with its
// message beside the request: the conversation reads back in order, with every field, and a
// message whose change never committed stays out of it.
func TestConversationRoundTrip(t *testing.T) {
	c := newClock(received.Add(24 * time.Hour))
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := seed(t, s, c, "CCCC-2222", "jens@example.dk", received, due, verify)

	ask, err := r.Ask("dpo@x.dk", dsr.PurposeIdentity, "Your customer number, please.\nThanks.", "Two customers of that name.", c.now())
	if err != nil {
		t.Fatal(err)
	}
	q := *ask.Message
	// The commit writes the message beside the request.
	if err := s.Commit(ctx, r, ask); err != nil {
		t.Fatal(err)
	}
	// A reply that lost its race: its message is stored, its change never is.
	orphan := dsr.Message{ID: dsr.NewMessageID(c.now().Add(time.Minute)), At: c.now().Add(time.Minute), From: dsr.ActorRequester, Text: "lost"}
	if err := s.PutMessage(ctx, r, orphan); err != nil {
		t.Fatal(err)
	}
	c.set(c.now().Add(72 * time.Hour))
	reply, err := r.Reply("4711", c.now(), days(3))
	if err != nil {
		t.Fatal(err)
	}
	a := *reply.Message
	if err := s.PutMessage(ctx, r, a); err != nil {
		t.Fatal(err)
	}
	// Written twice (a retry): still one message.
	if err := s.PutMessage(ctx, r, a); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, reply); err != nil {
		t.Fatal(err)
	}

	got, msgs, err := s.Conversation(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(msgs, []dsr.Message{q, a}) {
		t.Fatalf("messages:\n got %+v\nwant %+v", msgs, []dsr.Message{q, a})
	}
	// The workspace's read of the whole partition has them too.
	if _, _, all, err := s.OpenConversation(ctx, r.Ref); err != nil || !reflect.DeepEqual(all, msgs) {
		t.Fatalf("OpenConversation: %v, %+v", err, all)
	}
	if got.Waiting != nil || !reflect.DeepEqual(got.Pauses, r.Pauses) || !got.Deadline().Equal(due.AddDate(0, 0, 3)) {
		t.Fatalf("request: waiting %+v, pauses %+v (want %+v), deadline %v", got.Waiting, got.Pauses, r.Pauses, got.Deadline())
	}
	if !reflect.DeepEqual(got.Audit, r.Audit) {
		t.Fatalf("audit:\n got %+v\nwant %+v", got.Audit, r.Audit)
	}
	want := []dsr.Action{dsr.ActionSubmitted, dsr.ActionVerified, dsr.ActionAsked, dsr.ActionClockPaused, dsr.ActionReplied, dsr.ActionClockResumed}
	var actions []dsr.Action
	for _, e := range got.Audit {
		actions = append(actions, e.Action)
	}
	if !slices.Equal(actions, want) || got.Version != 4 {
		t.Fatalf("trail %v, version %d", actions, got.Version)
	}
	// The text is beside the request, not in it.
	raw := rawItem(t, db, table, r.Ref)
	if !containsText(t, raw, "Two customers of that name.") || containsText(t, raw, "4711") {
		t.Fatal("the reply's text is in the request item")
	}

	// The open question is on the request item while it is open.
	r2 := seed(t, s, c, "CCCC-3333", "jens@example.dk", received, due, verify)
	ask2, _ := r2.Ask("dpo@x.dk", dsr.PurposeOther, "Which period?", "", c.now())
	q2 := *ask2.Message
	if err := s.Commit(ctx, r2, ask2); err != nil {
		t.Fatal(err)
	}
	got2, _, err := s.Conversation(ctx, r2.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if w := got2.Waiting; w == nil || *w != *r2.Waiting || w.Message != q2.ID {
		t.Fatalf("waiting = %+v, want %+v", got2.Waiting, r2.Waiting)
	}

	if _, _, err := s.Conversation(ctx, "ZZZZ-9999"); !errors.Is(err, fault.NotFound) {
		t.Fatalf("unknown request: %v", err)
	}

	// The export reads a page of requests with their own messages from the index, in the
	// order of each trail, and leaves out the one no change named.
	p, err := s.PeriodPage(ctx, received.Add(-time.Hour), received.Add(time.Hour), "", 10)
	if err != nil || len(p.Requests) != 2 {
		t.Fatalf("period page %v, %v", refs(p.Requests), err)
	}
	h, err := s.PageHistory(ctx, p.Requests, false)
	if err != nil {
		t.Fatal(err)
	}
	if wantEach := map[string][]dsr.Message{r.Ref: {q, a}, r2.Ref: {q2}}; !reflect.DeepEqual(h.Messages, wantEach) {
		t.Fatalf("PageHistory:\n got %+v\nwant %+v", h.Messages, wantEach)
	}
}

// containsText reports whether any attribute of an item holds text.
func containsText(t *testing.T, av map[string]ddbtypes.AttributeValue, text string) bool {
	t.Helper()
	var m map[string]any
	if err := attributevalue.UnmarshalMap(av, &m); err != nil {
		t.Fatal(err)
	}
	return strings.Contains(fmt.Sprint(m), text)
}

// rawSibling reads an item beside request ref, past the store.
func rawSibling(t *testing.T, db *dynamodb.Client, table, ref, sk string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "REQ#" + ref},
			"sk": &ddbtypes.AttributeValueMemberS{Value: sk},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		t.Fatalf("raw get %s %s: %v", ref, sk, err)
	}
	return out.Item
}

// A message takes the TTL its request gives its siblings, and follows it when the request is
// closed (SyncSiblings, which the outbox calls after every mail).
func TestMessagesGoWithTheRequest(t *testing.T) {
	c := newClock(received.Add(24 * time.Hour))
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := seed(t, s, c, "CCCC-4444", "jens@example.dk", received, due, verify)
	ask, _ := r.Ask("dpo@x.dk", dsr.PurposeOther, "Which period?", "", c.now())
	q := *ask.Message
	if err := s.Commit(ctx, r, ask); err != nil {
		t.Fatal(err)
	}
	msgExp := func() string {
		t.Helper()
		out := rawSibling(t, db, table, r.Ref, "MSG#"+q.ID)
		n, _ := out["expires_at"].(*ddbtypes.AttributeValueMemberN)
		if n == nil {
			t.Fatal("message without expires_at")
		}
		return n.Value
	}
	if want := fmt.Sprint(r.SiblingsKeptUntil(365 * 24 * time.Hour).Unix()); msgExp() != want {
		t.Fatalf("open request's message expires %s, want %s", msgExp(), want)
	}
	done, err := r.Complete("dpo@x.dk", "done", c.now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, done); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncSiblings(ctx, r); err != nil {
		t.Fatal(err)
	}
	want := rawItem(t, db, table, r.Ref)["expires_at"].(*ddbtypes.AttributeValueMemberN).Value
	if got := msgExp(); got != want {
		t.Fatalf("message expires_at %s, request's %s", got, want)
	}
	// Past it, the conversation is gone to the code.
	c.set(r.KeptUntil(365 * 24 * time.Hour).Add(time.Second))
	if _, _, err := s.Conversation(ctx, r.Ref); !errors.Is(err, fault.NotFound) {
		t.Fatalf("conversation of an expired request: %v", err)
	}
}

func TestPageLinksInTheStore(t *testing.T) {
	c := newClock(received.Add(24 * time.Hour))
	s, db, table := newStore(t, c)
	ctx := context.Background()
	email := "Jens@Example.dk"
	r := seed(t, s, c, "DDDD-2222", email, received, due, verify)
	key := func(secret string) string { return dsr.PageLinkKey(token.Hash(secret), email) }

	got, err := s.AddPageLink(ctx, r.Ref, dsr.HashEmail(email), key("one"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Ref != r.Ref || got.Email != email || !slices.Equal(got.PageLinks, []string{key("one")}) {
		t.Fatalf("after one link: %+v", got)
	}
	got, err = s.AddPageLink(ctx, r.Ref, dsr.HashEmail(email), key("two"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.CanOpenPage(token.Hash("one"), c.now()) || !got.CanOpenPage(token.Hash("two"), c.now()) {
		t.Fatalf("both links should work: %v", got.PageLinks)
	}
	// A version bump elsewhere leaves the links alone, and a link is no change of the request.
	if got.Version != r.Version {
		t.Fatalf("a link changed the version: %d, want %d", got.Version, r.Version)
	}

	// Another address, an unconfirmed or a gone request: no link.
	if _, err := s.AddPageLink(ctx, r.Ref, dsr.HashEmail("someone@else.dk"), key("x")); !errors.Is(err, fault.Conflict) {
		t.Fatalf("other address: %v", err)
	}
	pending := seed(t, s, c, "DDDD-3333", email, received, due)
	if _, err := s.AddPageLink(ctx, pending.Ref, dsr.HashEmail(email), key("x")); !errors.Is(err, fault.Conflict) {
		t.Fatalf("unconfirmed: %v", err)
	}
	if _, err := s.AddPageLink(ctx, "ZZZZ-9999", dsr.HashEmail(email), key("x")); !errors.Is(err, fault.Conflict) && !errors.Is(err, fault.NotFound) {
		t.Fatalf("unknown: %v", err)
	}

	// Answered: links for a month, then none.
	closed := seed(t, s, c, "DDDD-4444", email, received, due, verify, complete)
	if _, err := s.AddPageLink(ctx, closed.Ref, dsr.HashEmail(email), key("x")); err != nil {
		t.Fatalf("just answered: %v", err)
	}
	c.set(closed.ClosedAt.Add(dsr.PageAfterClose + time.Second))
	if _, err := s.AddPageLink(ctx, closed.Ref, dsr.HashEmail(email), key("y")); !errors.Is(err, fault.Conflict) {
		t.Fatalf("answered a month ago: %v", err)
	}
	c.set(received.Add(24 * time.Hour))

	// Past the bound, the next link replaces them all.
	for i := 2; i < dsr.MaxPageLinks; i++ {
		if _, err := s.AddPageLink(ctx, r.Ref, dsr.HashEmail(email), key(fmt.Sprint("n", i))); err != nil {
			t.Fatal(err)
		}
	}
	full, err := s.AddPageLink(ctx, r.Ref, dsr.HashEmail(email), key("last"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(full.PageLinks, []string{key("last")}) {
		t.Fatalf("%d links after the bound, want only the newest", len(full.PageLinks))
	}

	// Revoked: none left, on the item too.
	fresh, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := fresh.RevokePageLinks("dpo@x.dk", c.now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, fresh, ch); err != nil {
		t.Fatal(err)
	}
	if _, ok := rawItem(t, db, table, r.Ref)["page_links"]; ok {
		t.Fatal("revoked links are still stored")
	}
	// And a new one can be added after.
	if _, err := s.AddPageLink(ctx, r.Ref, dsr.HashEmail(email), key("after")); err != nil {
		t.Fatal(err)
	}
}

// An address finds its requests through their search entries, whatever its case; an expired
// request, which holds no address any more, is not found by it.
func TestRequestRefsByEmail(t *testing.T) {
	c := newClock(received.Add(24 * time.Hour))
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	synced := func(r *dsr.Request) {
		t.Helper()
		if err := s.SyncSiblings(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	synced(seed(t, s, c, "EEEE-2222", "Same@X.dk", received, due, verify))
	synced(seed(t, s, c, "EEEE-3333", "same@x.dk", received, due, verify, complete))
	synced(seed(t, s, c, "EEEE-4444", "same@x.dk", received, due))
	synced(seed(t, s, c, "EEEE-5555", "other@x.dk", received, due, verify))
	synced(seed(t, s, c, "EEEE-6666", "same@x.dk.example", received, due, verify))
	synced(seed(t, s, c, "EEEE-7777", "same@x.dk", received, due, expire))
	got, err := s.RequestRefsByEmail(ctx, " SAME@x.dk ")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"EEEE-2222", "EEEE-3333", "EEEE-4444"}; !slices.Equal(got, want) {
		t.Fatalf("refs %v, want %v", got, want)
	}
	if got, err := s.RequestRefsByEmail(ctx, "nobody@x.dk"); err != nil || len(got) != 0 {
		t.Fatalf("nobody: %v, %v", got, err)
	}
}
