package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/rawitem"
)

// absent reports whether the table holds no request ref.
func absent(t *testing.T, db *dynamodb.Client, table, ref string) bool {
	t.Helper()
	return rawitem.Request(t, db, table, ref) == nil
}

// confirm commits a confirmation as the intake does: dsr.Verification, in one write without a
// read.
func confirm(ctx context.Context, s *store.Store, ref, tokenHash string, now time.Time) (*dsr.Request, dsr.Change, error) {
	r, c := dsr.Verification(ref, tokenHash, now)
	return r, c, s.Commit(ctx, r, c)
}

// A Verification's one write leaves the request exactly as reading it, Verify and Commit do:
// same fields, same audit trail, same queued mails, same index and TTL attributes.
func TestVerificationIsVerifyAndCommit(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	read, blind := sample("CCCC-2222"), sample("CCCC-3333")
	for _, r := range []*dsr.Request{read, blind} {
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	now := received.Add(26*time.Hour + 123456789*time.Nanosecond)
	c.set(now)

	r, err := s.GetRequest(ctx, read.Ref)
	if err != nil {
		t.Fatal(err)
	}
	want, err := r.Verify(r.TokenHash, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, want); err != nil {
		t.Fatal(err)
	}
	got, change, err := confirm(ctx, s, blind.Ref, "tokhash", now)
	if err != nil {
		t.Fatal(err)
	}
	if change.Version != 0 {
		t.Errorf("a change without a read has version %d", change.Version)
	}
	change.Version = want.Version
	if !reflect.DeepEqual(change, want) {
		t.Errorf("change %+v, want %+v", change, want)
	}

	viaRead, err := s.GetRequest(ctx, read.Ref)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.GetRequest(ctx, blind.Ref)
	if err != nil {
		t.Fatal(err)
	}
	viaRead.Ref = blind.Ref
	if !reflect.DeepEqual(stored, viaRead) {
		t.Errorf("confirmed in one write:\n%+v\nread, verified, committed:\n%+v", stored, viaRead)
	}
	if !reflect.DeepEqual(got, stored) {
		t.Errorf("returned %+v, stored %+v", got, stored)
	}
	a, b := rawItem(t, db, table, read.Ref), rawItem(t, db, table, blind.Ref)
	for _, attr := range []string{store.AttrSweepPK, store.AttrSweepAt, store.AttrExpiresAt, "email_hash"} {
		if !reflect.DeepEqual(a[attr], b[attr]) {
			t.Errorf("%s: %v after one write, %v after read and commit", attr, b[attr], a[attr])
		}
	}
	if pk := b[store.AttrSweepPK].(*ddbtypes.AttributeValueMemberS).Value; pk != string(dsr.QueueOpen) {
		t.Errorf("sweep partition %s", pk)
	}
	if at := b[store.AttrSweepAt].(*ddbtypes.AttributeValueMemberS).Value; at != store.TimeKey(now.Add(dsr.MailLease)) {
		t.Errorf("sweep time %s, want the mails' lease", at)
	}
}

// Every link that does not confirm writes nothing and is fault.Conflict: the caller reads to say
// why. Two clicks at once confirm once.
func TestVerificationRefuses(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := sample("CCCC-4444")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	before := rawItem(t, db, table, r.Ref)
	now := received.Add(time.Hour)
	c.set(now)
	for name, try := range map[string]func() error{
		"wrong secret": func() error { _, _, err := confirm(ctx, s, r.Ref, "other", now); return err },
		"unknown ref":  func() error { _, _, err := confirm(ctx, s, "CCCC-5555", "tokhash", now); return err },
		"expired": func() error {
			_, _, err := confirm(ctx, s, r.Ref, "tokhash", r.TokenExpires.Add(time.Minute))
			return err
		},
	} {
		if err := try(); !errors.Is(err, fault.Conflict) {
			t.Errorf("%s: err = %v, want fault.Conflict", name, err)
		}
	}
	if after := rawItem(t, db, table, r.Ref); !reflect.DeepEqual(before, after) {
		t.Error("a refused confirmation changed the request")
	}
	if !absent(t, db, table, "CCCC-5555") {
		t.Error("confirming an unknown reference created an item")
	}

	won := race(t, 4, fault.Conflict, func() error { _, _, err := confirm(ctx, s, r.Ref, "tokhash", now); return err })
	got, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if won != 1 || got.Version != 2 || len(got.Audit) != 2 || got.SpentTokenHash != "tokhash" || got.TokenHash != "" {
		t.Errorf("%d of 4 concurrent confirmations won; stored version %d, %d audit entries", won, got.Version, len(got.Audit))
	}
}

// The write's expiry check and dsr.TokenLive agree at every instant around the expiry, and
// neither ever accepts a token past it.
func TestTokenLiveIsTheWritesRule(t *testing.T) {
	c := newClock(received)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	r := sample("CCCC-6666")
	r.TokenExpires = r.TokenExpires.Add(700 * time.Millisecond) // a fraction, as a real receipt time has
	for i, off := range []time.Duration{-3 * time.Second, -2100 * time.Millisecond, -1500 * time.Millisecond, -700 * time.Millisecond,
		-time.Nanosecond, 0, time.Nanosecond, 300 * time.Millisecond, time.Second} {
		r := *r
		r.Ref = "CCCD-" + string("23456789A"[i]) + "222"
		if err := s.CreateRequest(ctx, &r); err != nil {
			t.Fatal(err)
		}
		now := r.TokenExpires.Add(off)
		c.set(now)
		live := dsr.TokenLive(r.TokenExpires, now)
		_, _, err := confirm(ctx, s, r.Ref, "tokhash", now)
		if (err == nil) != live {
			t.Errorf("%v from expiry: TokenLive %v, write err %v", off, live, err)
		}
		if live && !now.Before(r.TokenExpires) {
			t.Errorf("%v from expiry: live after the expiry", off)
		}
		if off <= -2100*time.Millisecond && !live {
			t.Errorf("%v from expiry: refused more than two seconds early", off)
		}
	}
}

// At whole seconds, where a text comparison and a time comparison could disagree by one
// (">" against ">="), the write accepts a link one second before its expiry and refuses it at
// the expiry and after, as dsr.TokenLive says.
func TestTokenExpiryAtWholeSeconds(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	for i, tc := range []struct {
		off  time.Duration
		live bool
	}{{-time.Second, true}, {0, false}, {time.Second, false}} {
		r := sample("CCCE-" + string("234"[i]) + "222")
		r.TokenExpires = r.TokenExpires.Truncate(time.Second)
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		before := rawItem(t, db, table, r.Ref)
		now := r.TokenExpires.Add(tc.off)
		c.set(now)
		if got := dsr.TokenLive(r.TokenExpires, now); got != tc.live {
			t.Errorf("%v from expiry: TokenLive %v, want %v", tc.off, got, tc.live)
		}
		_, _, err := confirm(ctx, s, r.Ref, "tokhash", now)
		switch {
		case tc.live && err != nil:
			t.Errorf("%v from expiry: refused (%v)", tc.off, err)
		case !tc.live && !errors.Is(err, fault.Conflict):
			t.Errorf("%v from expiry: err %v, want fault.Conflict", tc.off, err)
		case !tc.live && !reflect.DeepEqual(before, rawItem(t, db, table, r.Ref)):
			t.Errorf("%v from expiry: a refused confirmation changed the request", tc.off)
		}
	}
}
