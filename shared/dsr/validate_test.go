package dsr

import (
	"maps"
	"strings"
	"testing"
)

func TestSubmissionValidate(t *testing.T) {
	ok := Submission{Type: "access", Name: "Jens Hansen", Email: "jens@example.dk", Details: "Alt om mig", Lang: "da"}
	tests := []struct {
		name string
		edit func(*Submission)
		want FieldErrors
	}{
		{"valid", func(*Submission) {}, nil},
		{"valid without details", func(s *Submission) { s.Details = "" }, nil},
		{"valid with customer ref", func(s *Submission) { s.CustomerRef = "KN-1234" }, nil},
		{"valid multi-line details", func(s *Submission) { s.Details = "linje 1\nlinje 2\tindrykket" }, nil},
		{"valid unicode name", func(s *Submission) { s.Name = "Åse Øyen-Ærø" }, nil},
		{"missing type", func(s *Submission) { s.Type = "" }, FieldErrors{"type": CodeRequired}},
		{"unknown type", func(s *Submission) { s.Type = "complaint" }, FieldErrors{"type": CodeInvalidChoice}},
		{"missing name", func(s *Submission) { s.Name = "" }, FieldErrors{"name": CodeRequired}},
		{"blank name", func(s *Submission) { s.Name = "   " }, FieldErrors{"name": CodeRequired}},
		{"long name", func(s *Submission) { s.Name = strings.Repeat("ø", MaxName+1) }, FieldErrors{"name": CodeTooLong}},
		{"name at cap", func(s *Submission) { s.Name = strings.Repeat("ø", MaxName) }, nil},
		{"newline in name", func(s *Submission) { s.Name = "Jens\r\nBcc: x@evil.test" }, FieldErrors{"name": CodeControlChar}},
		{"NUL in name", func(s *Submission) { s.Name = "Jens\x00" }, FieldErrors{"name": CodeControlChar}},
		{"line separator in name", func(s *Submission) { s.Name = "Jens\u2028Hansen" }, FieldErrors{"name": CodeControlChar}},
		{"invalid utf-8 name", func(s *Submission) { s.Name = "Jens \xff" }, FieldErrors{"name": CodeInvalidUTF8}},
		{"missing email", func(s *Submission) { s.Email = "" }, FieldErrors{"email": CodeRequired}},
		{"email without at", func(s *Submission) { s.Email = "jens.example.dk" }, FieldErrors{"email": CodeInvalidEmail}},
		{"email without dot in domain", func(s *Submission) { s.Email = "jens@localhost" }, FieldErrors{"email": CodeInvalidEmail}},
		{"email with display name", func(s *Submission) { s.Email = "Jens <jens@example.dk>" }, FieldErrors{"email": CodeInvalidEmail}},
		{"two addresses", func(s *Submission) { s.Email = "jens@example.dk, eve@example.dk" }, FieldErrors{"email": CodeInvalidEmail}},
		{"email header injection", func(s *Submission) { s.Email = "jens@example.dk\nBcc: eve@example.dk" }, FieldErrors{"email": CodeControlChar}},
		{"email too long", func(s *Submission) { s.Email = strings.Repeat("a", 250) + "@x.dk" }, FieldErrors{"email": CodeTooLong}},
		{"details too long", func(s *Submission) { s.Details = strings.Repeat("x", MaxDetails+1) }, FieldErrors{"details": CodeTooLong}},
		{"details with escape char", func(s *Submission) { s.Details = "hi \x1b[31m" }, FieldErrors{"details": CodeControlChar}},
		{"rectification needs details", func(s *Submission) { s.Type, s.Details = "rectification", "" }, FieldErrors{"details": CodeRequired}},
		{"customer ref with newline", func(s *Submission) { s.CustomerRef = "A\nB" }, FieldErrors{"customer_ref": CodeControlChar}},
		{"customer ref too long", func(s *Submission) { s.CustomerRef = strings.Repeat("1", MaxCustomerRef+1) }, FieldErrors{"customer_ref": CodeTooLong}},
		// SES sends only to ASCII addresses with a host name: these parse as addresses, but their
		// mails would fail five times, silently (issue 19, item 13).
		{"domain literal", func(s *Submission) { s.Email = "jens@[192.0.2.1]" }, FieldErrors{"email": CodeUnsendableEmail}},
		{"non-ASCII local part", func(s *Submission) { s.Email = "jørgen@example.dk" }, FieldErrors{"email": CodeUnsendableEmail}},
		{"non-ASCII domain", func(s *Submission) { s.Email = "jens@blåbær.dk" }, FieldErrors{"email": CodeUnsendableEmail}},
		{"IDN domain in its ASCII form", func(s *Submission) { s.Email = "jens@xn--blbr-roa4a.dk" }, nil},
		{"encoded word", func(s *Submission) { s.Email = "=?utf-8?q?j=C3=B8rgen?=@example.dk" }, FieldErrors{"email": CodeUnsendableEmail}},
		{"domain label starting with a hyphen", func(s *Submission) { s.Email = "jens@-example.dk" }, FieldErrors{"email": CodeUnsendableEmail}},
		{"domain with an empty label", func(s *Submission) { s.Email = "jens@example..dk" }, FieldErrors{"email": CodeInvalidEmail}},
		{"numeric top-level domain", func(s *Submission) { s.Email = "jens@192.0.2.1" }, FieldErrors{"email": CodeUnsendableEmail}},
		{"plus and dots are fine", func(s *Submission) { s.Email = "jens.hansen+dsr@example.dk" }, nil},
		// Format characters (Unicode Cf) make a name read otherwise than it is stored (issue 19,
		// item 7); a joiner between letters, as Persian and Indic names have, is part of the name.
		{"right-to-left override in name", func(s *Submission) { s.Name = "Jens \u202eneshaH" }, FieldErrors{"name": CodeInvisibleChar}},
		{"zero-width space in name", func(s *Submission) { s.Name = "Jens\u200bHansen" }, FieldErrors{"name": CodeInvisibleChar}},
		{"byte-order mark in name", func(s *Submission) { s.Name = "\ufeffJens" }, FieldErrors{"name": CodeInvisibleChar}},
		{"only invisible characters", func(s *Submission) { s.Name = "\u200b\u200c\u2060" }, FieldErrors{"name": CodeInvisibleChar}},
		{"joiner at the end of a name", func(s *Submission) { s.Name = "Jens\u200d" }, FieldErrors{"name": CodeInvisibleChar}},
		{"non-joiner inside a Persian name", func(s *Submission) { s.Name = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645" }, nil},
		{"name without a letter", func(s *Submission) { s.Name = "--- ..." }, FieldErrors{"name": CodeRequired}},
		{"isolate in customer ref", func(s *Submission) { s.CustomerRef = "K-1\u2066042" }, FieldErrors{"customer_ref": CodeInvisibleChar}},
		// Details may hold anything a person writes; the workspace shows format characters
		// visibly instead (web.Visible).
		{"override in details", func(s *Submission) { s.Details = "abc \u202e fed" }, nil},
		{"everything wrong", func(s *Submission) { *s = Submission{Type: "x", Email: "nope"} },
			FieldErrors{"type": CodeInvalidChoice, "name": CodeRequired, "email": CodeInvalidEmail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			got := s.Normalize().Validate()
			if !maps.Equal(got, tt.want) {
				t.Fatalf("Validate() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	s := Submission{Type: " access ", Name: "  Jens ", Email: " jens@example.dk ", Details: "\r\n a\r\nb \r\n", CustomerRef: " 7 ", Lang: " da"}.Normalize()
	want := Submission{Type: "access", Name: "Jens", Email: "jens@example.dk", Details: "a\nb", CustomerRef: "7", Lang: "da"}
	if s != want {
		t.Fatalf("Normalize = %+v, want %+v", s, want)
	}
}

func TestFieldErrorsMessageIsStable(t *testing.T) {
	err := FieldErrors{"name": CodeRequired, "email": CodeInvalidEmail}
	if got := err.Error(); got != "invalid fields: email=invalid_email name=required" {
		t.Fatalf("Error() = %q", got)
	}
}

// Mailbox folds the spellings large providers deliver to one mailbox, so that a rate limit
// per address cannot be dodged with victim+1@ or v.ictim@ (issue 19, item 4).
func TestMailbox(t *testing.T) {
	same := []string{"victim@example.dk", " Victim@Example.DK ", "victim+1@example.dk", "v.ictim@example.dk",
		"V.I.C.T.I.M+dsr+x@example.dk", "victim+@example.dk"}
	for _, a := range same {
		if got := Mailbox(a); got != Mailbox(same[0]) {
			t.Errorf("Mailbox(%q) = %q, want %q", a, got, Mailbox(same[0]))
		}
	}
	if Mailbox("jens@gmail.com") != Mailbox("j.e.n.s+x@googlemail.com") {
		t.Error("googlemail.com is gmail.com")
	}
	for _, other := range []string{"victim@example.no", "victim2@example.dk", "victim@sub.example.dk", "+victim@example.dk"} {
		if Mailbox(other) == Mailbox(same[0]) {
			t.Errorf("Mailbox(%q) folds into %q", other, same[0])
		}
	}
}
