// Package token makes and checks the secrets behind one-time links, sessions and CSRF tokens.
// Only hashes are ever stored; the secret exists in the link, the cookie or the form.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// New returns 256 random bits, URL-safe. crypto/rand does not fail on supported platforms.
func New() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash is hex SHA-256: what is stored or logged in place of a secret or an identifier. For a
// secret of 256 random bits SHA-256 is enough (there is no guessing to slow down); hex keeps the
// table readable.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Equal compares two hashes in constant time.
func Equal(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// ForRequest returns a verification token for request ref and the hash to store. The token is
// "<ref>.<secret>": the reference (not a secret) lets the handler fetch the one request with a
// consistent read; the secret proves the holder received our mail.
func ForRequest(ref string) (tok, hash string) {
	secret := New()
	return ref + "." + secret, Hash(secret)
}

// ParseRequest splits a verification token into the reference and the hash of its secret.
func ParseRequest(tok string) (ref, hash string, ok bool) {
	ref, secret, ok := strings.Cut(strings.TrimSpace(tok), ".")
	if !ok || len(secret) != 43 || len(ref) == 0 || len(ref) > 16 {
		return "", "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", "", false
	}
	return ref, Hash(secret), true
}
