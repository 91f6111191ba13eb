package token

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := New()
		b, err := base64.RawURLEncoding.DecodeString(s)
		if len(s) != 43 || err != nil || len(b) != 32 {
			t.Fatalf("New() = %q (%d bytes, %v), want 256 bits in 43 URL-safe characters", s, len(b), err)
		}
		if seen[s] {
			t.Fatalf("New() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestHash(t *testing.T) {
	// SHA-256 of "abc" (FIPS 180-2, appendix B.1), in lower-case hex.
	if got := Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("Hash(abc) = %s", got)
	}
	if Hash("a") == Hash("A") {
		t.Fatal("Hash folds case")
	}
}

func TestEqual(t *testing.T) {
	h := Hash("secret")
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{h, h, true},
		{h, Hash("other"), false},
		{h, h[:63], false},
		{"", "", true},
		{h, "", false},
	} {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%.8q, %.8q) = %v", tt.a, tt.b, got)
		}
	}
}

// A verification token carries its reference in clear and its secret, of which only the hash
// is stored; ParseRequest gives back exactly what ForRequest stored.
func TestForRequestRoundTrip(t *testing.T) {
	tok, hash := ForRequest("K7MQ-4XTZ")
	ref, secret, ok := strings.Cut(tok, ".")
	if !ok || ref != "K7MQ-4XTZ" || hash != Hash(secret) || strings.Contains(tok, hash) {
		t.Fatalf("ForRequest = %q, %q", tok, hash)
	}
	for _, in := range []string{tok, " " + tok + "\n"} {
		if r, h, ok := ParseRequest(in); !ok || r != "K7MQ-4XTZ" || h != hash {
			t.Errorf("ParseRequest(%q) = %q, %q, %v", in, r, h, ok)
		}
	}
	if other, _ := ForRequest("K7MQ-4XTZ"); other == tok {
		t.Error("two tokens for one reference are the same")
	}
}

func TestParseRequestRefuses(t *testing.T) {
	secret := New()
	for name, tok := range map[string]string{
		"empty":              "",
		"no dot":             "K7MQ-4XTZ" + secret,
		"no reference":       "." + secret,
		"reference too long": strings.Repeat("A", 17) + "." + secret,
		"secret too short":   "K7MQ-4XTZ." + secret[:42],
		"secret too long":    "K7MQ-4XTZ." + secret + "A",
		"not base64url":      "K7MQ-4XTZ." + strings.Repeat("+", 43),
		"padded":             "K7MQ-4XTZ." + secret[:41] + "==",
	} {
		if ref, hash, ok := ParseRequest(tok); ok || ref != "" || hash != "" {
			t.Errorf("%s: ParseRequest(%q) = %q, %q, %v", name, tok, ref, hash, ok)
		}
	}
}
