package keyed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

var (
	keyA = Key{secret: []byte(strings.Repeat("a", 32))}
	keyB = Key{secret: []byte(strings.Repeat("b", 32))}
)

// A keyed hash cannot be reversed by hashing every candidate (all IPv4 addresses, a list of
// addresses) as an unsalted SHA-256 can: without the deployment's key the candidates give
// other values. It is stable under one key, differs between keys and between purposes.
func TestHash(t *testing.T) {
	ip := "203.0.113.7"
	h := keyA.Hash("ip", ip)
	if len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("Hash = %q, want 32 lower-case hex digits", h)
	}
	plain := sha256.Sum256([]byte(ip))
	if strings.HasPrefix(hex.EncodeToString(plain[:]), h) {
		t.Fatal("the keyed hash is the plain SHA-256")
	}
	if keyA.Hash("ip", ip) != h {
		t.Error("not stable")
	}
	if keyB.Hash("ip", ip) == h {
		t.Error("the same under another key")
	}
	if keyA.Hash("email", ip) == h {
		t.Error("the same for another purpose")
	}
	if keyA.Hash("ip", ip+"x") == h {
		t.Error("collides")
	}
	// The purpose and the value are not simply joined: ("a", "bc") is not ("ab", "c").
	if keyA.Hash("a", "bc") == keyA.Hash("ab", "c") {
		t.Error("purpose and value run together")
	}
}

func TestSignOpen(t *testing.T) {
	s := keyA.Sign("form", "1772442000")
	if !strings.HasPrefix(s, "1772442000.") {
		t.Fatalf("Sign = %q, want the message first", s)
	}
	if m, ok := keyA.Open("form", s); !ok || m != "1772442000" {
		t.Fatalf("Open(Sign) = %q, %v", m, ok)
	}
	for name, bad := range map[string]string{
		"another key":        keyB.Sign("form", "1772442000"),
		"another purpose":    keyA.Sign("other", "1772442000"),
		"message changed":    "1" + s,
		"no signature":       "1772442000",
		"empty signature":    "1772442000.",
		"signature cut":      s[:len(s)-1],
		"signature replaced": "1772442000." + strings.Repeat("A", len(s)-len("1772442000.")),
		"empty":              "",
	} {
		if m, ok := keyA.Open("form", bad); ok || m != "" {
			t.Errorf("%s: Open(%q) = %q, %v", name, bad, m, ok)
		}
	}
}

type source struct {
	calls atomic.Int32
	fail  atomic.Bool
}

func (s *source) DeploymentKey(context.Context) ([]byte, error) {
	s.calls.Add(1)
	if s.fail.Load() {
		return nil, errors.New("table unreachable")
	}
	return []byte(strings.Repeat("k", 32)), nil
}

// The key is read once per container, however many requests ask at once; a failed read is
// not remembered, so the next request tries again.
func TestKeysLoadOnce(t *testing.T) {
	src := &source{}
	src.fail.Store(true)
	keys := New(src)
	if _, err := keys.Load(t.Context()); err == nil {
		t.Fatal("a failed read gave a key")
	}
	src.fail.Store(false)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			k, err := keys.Load(t.Context())
			if err != nil || k.Hash("x", "y") != (Key{secret: []byte(strings.Repeat("k", 32))}).Hash("x", "y") {
				t.Errorf("Load = %v", err)
			}
		})
	}
	wg.Wait()
	if n := src.calls.Load(); n != 2 {
		t.Errorf("%d reads, want 2 (the failed one and one more)", n)
	}
}

func TestNewKeyRefusesShortSecrets(t *testing.T) {
	if _, err := FromSecret(make([]byte, 16)); err == nil {
		t.Error("a 128-bit secret was accepted")
	}
	if _, err := FromSecret(make([]byte, 32)); err != nil {
		t.Error(err)
	}
}
