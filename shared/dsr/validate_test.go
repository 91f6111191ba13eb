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
