package main

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// The fuzz targets' seed corpora live in testdata/fuzz/<target>/ and run with every
// `go test`; `go test -fuzz=FuzzDecodeForm` (or FuzzDecodeJSON) searches further.

// FuzzDecodeForm: any body either decodes or is a bad request; what decodes survives a round
// trip and validation, and nothing that validates can carry a line break into a header.
func FuzzDecodeForm(f *testing.F) {
	f.Add([]byte("type=access&name=Mette+S%C3%B8rensen&email=m%40example.dk&ts=1772441905&lang=da&website="))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeForm(body)
		if err != nil {
			if !errors.Is(err, fault.BadRequest) {
				t.Fatalf("error %v is not a bad request", err)
			}
			return
		}
		again, err := decodeForm([]byte(formOf(in).Encode()))
		if err != nil || again.Sub != in.Sub || again.Website != in.Website || again.TS != in.TS {
			t.Fatalf("round trip: %+v / %+v (%v)", in, again, err)
		}
		checkSubmission(t, in)
	})
}

// FuzzDecodeJSON: the same for JSON, where a value may also be the wrong kind.
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"type":"erasure","name":"Ola","email":"ola@example.no","lang":"nb","extra":[1,2]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeJSON(body)
		if err != nil {
			if !errors.Is(err, fault.BadRequest) {
				t.Fatalf("error %v is not a bad request", err)
			}
			return
		}
		for field, code := range in.Errs {
			if !strings.Contains(" type name email details customer_ref ", " "+field+" ") ||
				(code != codeNotText && code != dsr.CodeInvalidUTF8) {
				t.Fatalf("unexpected field error %s=%s", field, code)
			}
		}
		if in.Errs == nil && validUTF8(in.Sub) {
			b, _ := json.Marshal(map[string]string{"type": in.Sub.Type, "name": in.Sub.Name, "email": in.Sub.Email,
				"details": in.Sub.Details, "customer_ref": in.Sub.CustomerRef, "lang": in.Sub.Lang, "website": in.Website})
			again, err := decodeJSON(b)
			if err != nil || again.Sub != in.Sub || again.Website != in.Website {
				t.Fatalf("round trip: %+v / %+v (%v)", in, again, err)
			}
		}
		checkSubmission(t, in)
	})
}

func formOf(in input) url.Values {
	return url.Values{"type": {in.Sub.Type}, "name": {in.Sub.Name}, "email": {in.Sub.Email}, "details": {in.Sub.Details},
		"customer_ref": {in.Sub.CustomerRef}, "lang": {in.Sub.Lang}, "website": {in.Website}, "ts": {in.TS}}
}

func validUTF8(s dsr.Submission) bool {
	for _, v := range []string{s.Type, s.Name, s.Email, s.Details, s.CustomerRef, s.Lang} {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// checkSubmission validates what was decoded the way the handler does and checks what a
// valid submission can never hold.
func checkSubmission(t *testing.T, in input) {
	t.Helper()
	sub := in.Sub.Normalize()
	if sub.Validate() != nil {
		return
	}
	for _, v := range []string{sub.Name, sub.Email, sub.CustomerRef} {
		if strings.ContainsAny(v, "\r\n\x00") {
			t.Fatalf("a valid single-line field holds a line break: %q", v)
		}
	}
	if !validUTF8(sub) || !dsr.Type(sub.Type).Valid() {
		t.Fatalf("valid submission %+v", sub)
	}
	if utf8.RuneCountInString(sub.Details) > dsr.MaxDetails {
		t.Fatal("details over the cap passed validation")
	}
}

func TestDecodeForm(t *testing.T) {
	t.Parallel()
	in, err := decodeForm([]byte("type=access&type=erasure&name=%E2%80%8BJ&email=j%40e.dk&website=&ts=12&unknown=1"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Sub.Type != "access" || in.Sub.Name != "\u200bJ" || in.Sub.Email != "j@e.dk" || in.TS != "12" || in.Website != "" {
		t.Errorf("%+v", in)
	}
	if _, err := decodeForm([]byte("name=%zz")); !errors.Is(err, fault.BadRequest) {
		t.Errorf("broken escape: %v", err)
	}
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body    string
		wantErr bool
		errs    dsr.FieldErrors
		website string
	}{
		{`{"type":"access","name":null,"lang":7}`, false, nil, ""},
		{`{"name":true}`, false, dsr.FieldErrors{"name": codeNotText}, ""},
		{`{"website":1}`, false, nil, "x"},
		{`{"website":"hi"}`, false, nil, "hi"},
		{"{\"name\":\"\xff\"}", false, dsr.FieldErrors{"name": dsr.CodeInvalidUTF8}, ""},
		{`  {"type":"access"}  ` + "\n", false, nil, ""},
		{`{"type":"access"}x`, true, nil, ""},
		{`"access"`, true, nil, ""},
		{``, true, nil, ""},
	} {
		in, err := decodeJSON([]byte(tc.body))
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v", tc.body, err)
			continue
		}
		if err != nil {
			continue
		}
		if len(in.Errs) != len(tc.errs) || in.Website != tc.website {
			t.Errorf("%s: errs %v website %q", tc.body, in.Errs, in.Website)
		}
		for k, v := range tc.errs {
			if in.Errs[k] != v {
				t.Errorf("%s: %s=%s, want %s", tc.body, k, in.Errs[k], v)
			}
		}
	}
}
