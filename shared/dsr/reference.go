package dsr

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// referenceAlphabet has no characters that are easily confused when read aloud or typed from a
// printed letter: no 0/O, 1/I/L, and no U (avoids accidental words with V).
const referenceAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// ReferenceLength is the number of significant characters; 30^8 ≈ 6.6e11 keeps collisions rare
// for a small company, and the store refuses a duplicate anyway.
const ReferenceLength = 8

// NewReference returns a fresh reference such as "K7MQ-4XTZ". A reference names a request in
// mails and phone calls; it is not a secret and grants nothing.
func NewReference() string {
	var b [ReferenceLength]byte
	// rand.Read never fails on supported platforms (Go 1.24+ crashes the program instead).
	_, _ = rand.Read(b[:])
	return format(b[:])
}

// ReferenceFor returns the reference a request made from seed gets: the same for the same
// seed, so that a mail delivered twice (SES's message id as seed) is stored once. It is drawn
// from the same alphabet as NewReference; the store refuses it if another request has it.
func ReferenceFor(seed string) string {
	sum := sha256.Sum256([]byte("dsrdesk reference\n" + seed))
	return format(sum[:ReferenceLength])
}

func format(b []byte) string {
	out := make([]byte, 0, ReferenceLength+1)
	for i, v := range b[:ReferenceLength] {
		if i == ReferenceLength/2 {
			out = append(out, '-')
		}
		// 256 is not a multiple of 30; the slight bias is harmless for a non-secret label.
		out = append(out, referenceAlphabet[int(v)%len(referenceAlphabet)])
	}
	return string(out)
}

// NormalizeReference accepts what a person might type ("k7mq 4xtz", "K7MQ4XTZ") and returns
// the canonical form, or false if it cannot be a reference.
func NormalizeReference(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	var sig []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case strings.IndexByte(referenceAlphabet, c) >= 0:
			sig = append(sig, c)
		default:
			return "", false
		}
	}
	if len(sig) != ReferenceLength {
		return "", false
	}
	return string(sig[:ReferenceLength/2]) + "-" + string(sig[ReferenceLength/2:]), true
}
