package main

import (
	"encoding/json"
	"testing"
)

// jsonLen decides where an export is cut, and TestExportInParts measures the parts with
// jsonLen itself: only encoding/json, which writes the Lambda response, can say it counts
// right. It may count more than json writes (a budget may err that way), never less.
func TestJSONLen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		s     string
		exact bool
	}{
		{"empty", "", true},
		{"ascii", `"reference";"type"` + "\r\n", true},
		{"letters", "Æbleskiver, Ørsted, Åse, Grüße", true},
		{"html", "<b>a & b</b>", true},
		{"controls", "a\tb\x01c\x1f", true},
		{"line separators", "a\u2028b\u2029c", true},
		{"backslash", `C:\dir\"x"`, true},
		{"invalid utf-8", "a\xffb\xc3", true},
		{"emoji", "ok 👍", true},
		// json writes \b and \f short, and a valid U+FFFD as it is: counted high, which is safe.
		{"short escapes", "a\bb\fc", false},
		{"replacement char", "a\uFFFDb", false},
	}
	for _, tc := range cases {
		b, err := json.Marshal(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		got := jsonLen(tc.s)
		if got < len(b) || tc.exact && got != len(b) {
			t.Errorf("%s: jsonLen %d, json writes %d bytes", tc.name, got, len(b))
		}
	}
}
