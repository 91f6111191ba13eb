package i18n

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Every file in messages/ is in the catalog, and the catalog reader sees each exactly as
// encoding/json does.
func TestCatalogReadsAsJSON(t *testing.T) {
	entries, err := os.ReadDir("messages")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, f := range messageFiles {
		listed[f.name] = f.data
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join("messages", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if listed[e.Name()] != string(raw) {
			t.Errorf("messages/%s is not embedded in messageFiles (i18n.go)", e.Name())
			continue
		}
		var want map[string]map[Lang]string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		got := map[string]texts{}
		if err := parseCatalog(string(raw), func(k string, tx texts) error { got[k] = tx; return nil }); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d keys, encoding/json reads %d", e.Name(), len(got), len(want))
		}
		for k, m := range want {
			for _, l := range Langs {
				if got[k].in(l) != m[l] {
					t.Errorf("%s %s/%s: %q, encoding/json reads %q", e.Name(), k, l, got[k].in(l), m[l])
				}
			}
		}
	}
	if len(entries) != len(messageFiles) {
		t.Errorf("%d files in messages/, %d embedded", len(entries), len(messageFiles))
	}
}

func TestCatalogParse(t *testing.T) {
	ok := []struct {
		name, in string
		want     map[string]texts
	}{
		{"empty", ` {} `, map[string]texts{}},
		{"plain", `{"a": {"da": "æ", "nb": "ø", "en": "e"}}`, map[string]texts{"a": {"æ", "ø", "e"}}},
		{"escapes", `{"k":{"en":"\"q\" \\ \/ \b\f\n\r\t \u00e6 \ud83d\ude00"}}`, map[string]texts{"k": {2: "\"q\" \\ / \b\f\n\r\t æ 😀"}}},
		{"lone surrogate", `{"k":{"en":"\ud83d!"}}`, map[string]texts{"k": {2: "\uFFFD!"}}},
		{"two keys", "{\n\t\"a\": {\"en\": \"1\"},\r\n\"b\": {}\n}", map[string]texts{"a": {2: "1"}, "b": {}}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]texts{}
			if err := parseCatalog(tc.in, func(k string, tx texts) error { got[k] = tx; return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: %q, want %q", k, got[k], v)
				}
			}
		})
	}
	bad := map[string]string{
		"not an object":     `[]`,
		"trailing data":     `{} {}`,
		"trailing comma":    `{"a": {"en": "x"},}`,
		"unknown language":  `{"a": {"de": "x"}}`,
		"language twice":    `{"a": {"en": "x", "en": "y"}}`,
		"not a string":      `{"a": {"en": 1}}`,
		"unterminated":      `{"a": {"en": "x`,
		"raw newline":       "{\"a\": {\"en\": \"x\ny\"}}",
		"bad escape":        `{"a": {"en": "\q"}}`,
		"short \\u":         `{"a": {"en": "\u12"}}`,
		"invalid UTF-8":     "{\"a\": {\"en\": \"\xff\"}}",
		"missing colon":     `{"a" {"en": "x"}}`,
		"missing brace":     `{"a": {"en": "x"}`,
		"escape at the end": `{"a": {"en": "x\`,
	}
	for name, in := range bad {
		err := parseCatalog(in, func(string, texts) error { return nil })
		if err == nil {
			t.Errorf("%s: accepted %q", name, in)
		}
	}
}
