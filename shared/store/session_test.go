package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

func TestLoginIsSingleUseAndExpires(t *testing.T) {
	const ttl = 15 * time.Minute
	start := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		after time.Duration
		ok    bool
	}{
		{"at once", 0, true},
		{"one second before expiry", ttl - time.Second, true},
		{"at expiry", ttl, false},
		{"long after", 24 * time.Hour, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(start)
			s, _, _ := newStore(t, c)
			ctx := context.Background()
			tok := token.New()
			if err := s.CreateLogin(ctx, tok, store.Login{Email: "dpo@firma.dk", Next: "/admin/requests/ABCD-EFGH", Expires: start.Add(ttl), Browser: "b1"}); err != nil {
				t.Fatal(err)
			}
			c.set(start.Add(tc.after))
			l, err := s.ConsumeLogin(ctx, tok, "b1")
			if !tc.ok {
				if !errors.Is(err, fault.NotFound) {
					t.Fatalf("err = %v, want fault.NotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Email != "dpo@firma.dk" || l.Next != "/admin/requests/ABCD-EFGH" {
				t.Fatalf("login = %+v", l)
			}
			if _, err := s.ConsumeLogin(ctx, tok, "b1"); !errors.Is(err, fault.NotFound) {
				t.Fatalf("second use: err = %v, want fault.NotFound", err)
			}
		})
	}
}

func TestLoginUnknownToken(t *testing.T) {
	s, _, _ := newStore(t, newClock(received))
	if _, err := s.ConsumeLogin(context.Background(), token.New(), "b1"); !errors.Is(err, fault.NotFound) {
		t.Fatalf("err = %v, want fault.NotFound", err)
	}
}

// Two clicks at the same moment: the conditional delete lets exactly one through.
func TestLoginConcurrentConsumeExactlyOne(t *testing.T) {
	c := newClock(received)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	tok := token.New()
	if err := s.CreateLogin(ctx, tok, store.Login{Email: "dpo@firma.dk", Expires: c.now().Add(time.Hour), Browser: "b1"}); err != nil {
		t.Fatal(err)
	}
	if wins := race(t, 8, fault.NotFound, func() error { _, err := s.ConsumeLogin(ctx, tok, "b1"); return err }); wins != 1 {
		t.Fatalf("%d consumers got the login, want exactly 1", wins)
	}
}

// A link signs in only the browser that asked, and those attached to it later; pressed in
// another it is refused as fault.Forbidden and stays live. Attaching finds the newest live link
// sent to the address, and nothing once it has expired or been used.
func TestLoginBrowsers(t *testing.T) {
	c := newClock(received)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	older, newest := token.New(), token.New()
	for _, tok := range []string{older, newest} {
		if err := s.CreateLogin(ctx, tok, store.Login{Email: "dpo@firma.dk", Expires: c.now().Add(15 * time.Minute), Browser: "asked", For: "dpo"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AttachBrowser(ctx, "someone-else", "b2"); !errors.Is(err, fault.NotFound) {
		t.Fatalf("attach to an address without links: %v", err)
	}
	if err := s.AttachBrowser(ctx, "dpo", "b2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeLogin(ctx, older, "b2"); !errors.Is(err, fault.Forbidden) {
		t.Fatalf("an older link in the attached browser: %v, want fault.Forbidden", err)
	}
	if _, err := s.ConsumeLogin(ctx, newest, "stranger"); !errors.Is(err, fault.Forbidden) {
		t.Fatalf("another browser: %v, want fault.Forbidden", err)
	}
	if l, err := s.ConsumeLogin(ctx, newest, "b2"); err != nil || l.Email != "dpo@firma.dk" {
		t.Fatalf("the attached browser: %+v, %v", l, err)
	}
	if _, err := s.ConsumeLogin(ctx, newest, "asked"); !errors.Is(err, fault.NotFound) {
		t.Fatalf("used: %v, want fault.NotFound", err)
	}
	if err := s.AttachBrowser(ctx, "dpo", "b3"); !errors.Is(err, fault.NotFound) {
		t.Fatalf("attach to a used link: %v", err)
	}
	if l, err := s.ConsumeLogin(ctx, older, "asked"); err != nil || l.Email != "dpo@firma.dk" {
		t.Fatalf("the older link in the browser that asked: %+v, %v", l, err)
	}
	c.set(received.Add(16 * time.Minute))
	if _, err := s.ConsumeLogin(ctx, token.New(), "asked"); !errors.Is(err, fault.NotFound) {
		t.Fatalf("unknown: %v", err)
	}
}

// Neither the link's token nor the session id is stored: a copy of the table signs no one in.
func TestSecretsAreStoredHashed(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	tok, id := token.New(), token.New()
	if err := s.CreateLogin(ctx, tok, store.Login{Email: "dpo@firma.dk", Expires: c.now().Add(time.Hour), Browser: "b1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, id, store.Session{Email: "dpo@firma.dk", CSRF: token.New(), Created: c.now(), Expires: c.now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range out.Items {
		for name, v := range it {
			if sv, ok := v.(*ddbtypes.AttributeValueMemberS); ok && (strings.Contains(sv.Value, tok) || strings.Contains(sv.Value, id)) {
				t.Errorf("attribute %s holds a secret in clear", name)
			}
		}
		keys = append(keys, it["pk"].(*ddbtypes.AttributeValueMemberS).Value)
	}
	want := map[string]bool{store.LoginPrefix + token.Hash(tok): true, store.SessionPrefix + token.Hash(id): true}
	for _, k := range keys {
		delete(want, k)
	}
	if len(want) != 0 {
		t.Fatalf("items %v, missing %v", keys, want)
	}
}

func TestSessionLifecycle(t *testing.T) {
	c := newClock(received)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	id := token.New()
	want := store.Session{Email: "dpo@firma.dk", CSRF: token.New(), Created: c.now(), Expires: c.now().Add(8 * time.Hour)}
	if err := s.CreateSession(ctx, id, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != want.Email || got.CSRF != want.CSRF || !got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := s.GetSession(ctx, token.New()); !errors.Is(err, fault.NotFound) {
		t.Fatalf("unknown id: err = %v", err)
	}
	c.set(want.Expires.Add(-time.Second))
	if _, err := s.GetSession(ctx, id); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	// TTL has not run (dynalite never runs it); the code refuses the session anyway.
	c.set(want.Expires)
	if _, err := s.GetSession(ctx, id); !errors.Is(err, fault.NotFound) {
		t.Fatalf("expired: err = %v, want fault.NotFound", err)
	}
	c.set(received)
	if err := s.DeleteSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, id); !errors.Is(err, fault.NotFound) {
		t.Fatalf("signed out: err = %v, want fault.NotFound", err)
	}
	if err := s.DeleteSession(ctx, id); err != nil {
		t.Fatalf("signing out twice: %v", err)
	}
}
