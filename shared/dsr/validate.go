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
	// CodeUnsendableEmail is an address that is well formed but one SES cannot send to: not
	// ASCII, a domain literal, an encoded word, a domain that is not a host name.
	CodeUnsendableEmail = "unsendable_email"
	// CodeInvisibleChar is a format character (Unicode Cf: bidi overrides, zero-width
	// spaces, …) in a single-line field, where it makes the text read otherwise than it is.
	CodeInvisibleChar = "invisible_character"
	CodeInvalidAmount = "invalid_amount"
	CodeNotAfterNow   = "not_after_today"
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
	if !Type(s.Type).Fileable() {
		errs["type"] = CodeInvalidChoice
		if s.Type == "" {
			errs["type"] = CodeRequired
		}
	}
	// A withdrawal of consent or a marketing objection is as easy as the consent it undoes:
	// an address is enough (Rules.NameRequired).
	rules, known := Type(s.Type).Rules(), Type(s.Type).Valid()
	if code := CheckText(s.Name, MaxName, false, !known || rules.NameRequired); code != "" {
		errs["name"] = code
	} else if s.Name != "" && !strings.ContainsFunc(s.Name, unicode.IsLetter) {
		// Dashes and dots are not a name: the DPO must be able to tell who asked.
		errs["name"] = CodeRequired
	}
	if code := CheckEmail(s.Email); code != "" {
		errs["email"] = code
	}
	// What to correct is the whole of a rectification request; the others may say nothing.
	if code := CheckText(s.Details, MaxDetails, true, rules.DetailsRequired); code != "" {
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
	if !multiline && hiddenFormat(v) {
		return CodeInvisibleChar
	}
	return ""
}

// hiddenFormat reports whether v holds a format character (Unicode Cf) that is not part of a
// word: a bidi override or isolate reorders what follows, a zero-width space or a byte-order
// mark hides, and a name of nothing but those looks blank or like someone else's. Zero-width
// joiners and non-joiners between letters are how Persian and Indic scripts spell names, so
// those stay.
func hiddenFormat(v string) bool {
	rs := []rune(v)
	for i, r := range rs {
		if !unicode.Is(unicode.Cf, r) {
			continue
		}
		if (r == '\u200c' || r == '\u200d') && i > 0 && i < len(rs)-1 && wordRune(rs[i-1]) && wordRune(rs[i+1]) {
			continue
		}
		return true
	}
	return false
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.Is(unicode.M, r) }

// HashEmail is the key an address is found and correlated by: case-insensitive, not
// reversible at a glance, safe to log.
func HashEmail(email string) string { return token.Hash(strings.ToLower(strings.TrimSpace(email))) }

// Mailbox is the address as large providers deliver it, for rate limits only (never for
// storage or sending): case folded, a "+tag" cut from the local part, dots in it dropped
// (Gmail ignores them; at another provider two addresses that differ only by dots then share
// a limit, which costs nobody a request), googlemail.com as gmail.com.
func Mailbox(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email
	}
	local, domain := email[:at], email[at+1:]
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	local = strings.ReplaceAll(local, ".", "")
	if domain == "googlemail.com" {
		domain = "gmail.com"
	}
	return local + "@" + domain
}

// CheckEmail returns the error code for an email address, or "". Only a bare address is
// accepted (no display name, no comments), so what we store is exactly where we send; and only
// one SES can send to (CodeUnsendableEmail), so that a requester hears at the form, not never.
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
	if !sendable(v[:at], v[at+1:]) {
		return CodeUnsendableEmail
	}
	return ""
}

// sendable reports whether SES can send to local@domain: SES takes neither SMTPUTF8 local
// parts nor Unicode domains (only their xn-- form), nor domain literals such as [192.0.2.1];
// an encoded word (=?utf-8?…?=) in the local part is legal RFC 5322 text that SES decodes into
// an address it then refuses. The domain must be a host name: letters, digits and inner
// hyphens in each label, and a top-level label that is not a number.
func sendable(local, domain string) bool {
	for _, r := range local + domain {
		if r > unicode.MaxASCII {
			return false
		}
	}
	if strings.Contains(local, "=?") {
		return false
	}
	labels := strings.Split(domain, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.ContainsFunc(tld, unicode.IsLetter)
}
