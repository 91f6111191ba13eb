package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// maxBody caps a submission before anything parses it. The longest legitimate form (5,000
// characters of details, percent-encoded) stays well below it.
const maxBody = 16 << 10

// codeNotText is the field error for a JSON value that is not a string. dsr has no such code
// because only JSON can carry a number where text belongs.
const codeNotText = "not_text"

// input is one decoded submission: the request itself plus the bot traps that travel with it.
type input struct {
	Sub dsr.Submission
	// Website is the honeypot: a field people never see, so anything in it came from a bot.
	Website string
	// TS is the unix time the form was rendered (form posts only).
	TS string
	// Errs are fields that could not be read as text at all (JSON only).
	Errs dsr.FieldErrors
}

// decodeForm reads an application/x-www-form-urlencoded body. A repeated field counts once,
// with its first value. Bytes that are not UTF-8 are kept as they are: validation names the
// field, which tells the person more than refusing the whole form would.
func decodeForm(body []byte) (input, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return input{}, fmt.Errorf("decode form: %w: %w", fault.BadRequest, err)
	}
	return input{
		Sub: dsr.Submission{
			Type:        v.Get("type"),
			Name:        v.Get("name"),
			Email:       v.Get("email"),
			Details:     v.Get("details"),
			CustomerRef: v.Get("customer_ref"),
			Lang:        v.Get("lang"),
		},
		Website: v.Get("website"),
		TS:      v.Get("ts"),
	}, nil
}

// errNotObject is the syntax error for JSON that is valid but not an object.
var errNotObject = errors.New("body is not a JSON object")

// decodeJSON reads an application/json object with the same field names as the form. Unknown
// fields are ignored (a company's site may send more than we read); null counts as absent; any
// other non-string value is a field error rather than a silent conversion.
func decodeJSON(body []byte) (input, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return input{}, fmt.Errorf("decode json: %w: %w", fault.BadRequest, err)
	}
	if raw == nil {
		return input{}, fmt.Errorf("decode json: %w: %w", fault.BadRequest, errNotObject)
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return input{}, fmt.Errorf("decode json: %w: data after the object", fault.BadRequest)
	}
	in := input{Errs: dsr.FieldErrors{}}
	text := func(field string) string {
		m, ok := raw[field]
		if !ok {
			return ""
		}
		// encoding/json turns invalid UTF-8 into U+FFFD without a word; the raw bytes still
		// have it, and the requester deserves to know rather than to have their text altered.
		if !utf8.Valid(m) {
			in.Errs[field] = dsr.CodeInvalidUTF8
			return ""
		}
		var s *string
		if err := json.Unmarshal(m, &s); err != nil {
			in.Errs[field] = codeNotText
			return ""
		}
		if s == nil {
			return ""
		}
		return *s
	}
	in.Sub = dsr.Submission{
		Type:        text("type"),
		Name:        text("name"),
		Email:       text("email"),
		Details:     text("details"),
		CustomerRef: text("customer_ref"),
		Lang:        text("lang"),
	}
	in.Website = text("website")
	delete(in.Errs, "lang") // an unreadable language falls back to negotiation
	if in.Errs["website"] != "" {
		// A honeypot that is not an empty string was filled by something.
		delete(in.Errs, "website")
		in.Website = "x"
	}
	if len(in.Errs) == 0 {
		in.Errs = nil
	}
	return in, nil
}

// decode reads a body of the given media type; other types are fault.Unsupported.
func decode(mediaType string, body []byte) (input, error) {
	switch mediaType {
	case web.MediaForm:
		return decodeForm(body)
	case web.MediaJSON:
		return decodeJSON(body)
	}
	return input{}, fmt.Errorf("decode %q: %w", mediaType, fault.Unsupported)
}
