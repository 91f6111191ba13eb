package dsr

import (
	"net/mail"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// Length caps, in characters. They bound what a requester can make us store and mail.
const (
	MaxName        = 200
	MaxEmail       = 254 // RFC 5321 path limit
	MaxDetails     = 5000
	MaxCustomerRef = 100
	MaxMessage     = 5000
)

// Field error codes. Pages and mails translate them; they are part of the JSON API.
const (
	CodeRequired      = "required"
	CodeTooLong       = "too_long"
	CodeInvalidUTF8   = "invalid_utf8"
	CodeControlChar   = "control_character"
	CodeInvalidEmail  = "invalid_email"
	CodeInvalidChoice = "invalid_choice"
)

// FieldErrors maps a field name to an error code. A nil or empty map means valid. It is a
// fault.Invalid.
type FieldErrors map[string]string

// Unwrap makes every FieldErrors a fault.Invalid.
func (f FieldErrors) Unwrap() error { return fault.Invalid }

func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("invalid fields:")
	for _, k := range keys {
		b.WriteString(" " + k + "=" + f[k])
	}
	return b.String()
}

// Submission is what a requester sends through the form or the JSON API.
type Submission struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	Details     string `json:"details"`
	CustomerRef string `json:"customer_ref"`
	Lang        string `json:"lang"`
}

// Normalize trims surrounding space and turns CRLF into LF in the free text, so that what is
// validated is what is stored.
func (s Submission) Normalize() Submission {
	s.Type = strings.TrimSpace(s.Type)
	s.Name = strings.TrimSpace(s.Name)
	s.Email = strings.TrimSpace(s.Email)
	s.Details = strings.TrimSpace(strings.ReplaceAll(s.Details, "\r\n", "\n"))
	s.CustomerRef = strings.TrimSpace(s.CustomerRef)
	s.Lang = strings.TrimSpace(s.Lang)
	return s
}

// Validate checks a normalized submission and returns the errors per field, or nil.
func (s Submission) Validate() FieldErrors {
	errs := FieldErrors{}
	if !Type(s.Type).Valid() {
		errs["type"] = CodeInvalidChoice
		if s.Type == "" {
			errs["type"] = CodeRequired
		}
	}
	if code := CheckText(s.Name, MaxName, false, true); code != "" {
		errs["name"] = code
	}
	if code := CheckEmail(s.Email); code != "" {
		errs["email"] = code
	}
	// What to correct is the whole of a rectification request; the others may say nothing.
	required := Type(s.Type) == Rectification
	if code := CheckText(s.Details, MaxDetails, true, required); code != "" {
		errs["details"] = code
	}
	if code := CheckText(s.CustomerRef, MaxCustomerRef, false, false); code != "" {
		errs["customer_ref"] = code
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// CheckText returns the error code for a text field, or "". Single-line fields refuse every
// control character, which keeps CR/LF out of mail headers; multi-line fields allow LF and TAB.
func CheckText(v string, max int, multiline, required bool) string {
	switch {
	case !utf8.ValidString(v):
		return CodeInvalidUTF8
	case strings.TrimSpace(v) == "":
		if required {
			return CodeRequired
		}
		return ""
	case utf8.RuneCountInString(v) > max:
		return CodeTooLong
	}
	for _, r := range v {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		// unicode.IsControl covers C0, DEL and C1; line and paragraph separators also split
		// lines in some mail clients.
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return CodeControlChar
		}
	}
	return ""
}

// HashEmail is the key an address is found and correlated by: case-insensitive, not
// reversible at a glance, safe to log.
func HashEmail(email string) string { return token.Hash(strings.ToLower(strings.TrimSpace(email))) }

// CheckEmail returns the error code for an email address, or "". Only a bare address is
// accepted (no display name, no comments), so what we store is exactly where we send.
func CheckEmail(v string) string {
	if code := CheckText(v, MaxEmail, false, true); code != "" {
		return code
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return CodeInvalidEmail
	}
	at := strings.LastIndexByte(v, '@')
	if at < 1 || !strings.Contains(v[at+1:], ".") || strings.ContainsAny(v, " \"") {
		return CodeInvalidEmail
	}
	return ""
}
