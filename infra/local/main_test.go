package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BASE_URL follows -addr unless it is set explicitly: a runner on another port must not
// mail links to port 3000 (issue 17, finding 8). -h says so.
func TestBaseURLFollowsAddr(t *testing.T) {
	dir := t.TempDir()
	withBase := filepath.Join(dir, "with.json")
	without := filepath.Join(dir, "without.json")
	if err := os.WriteFile(withBase, []byte(`{"Parameters": {"BASE_URL": "https://proxy.example"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(without, []byte(`{"Parameters": {"CONTROLLER_NAME": "X"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args    []string
		own     bool
		baseURL string
	}{
		{[]string{"-addr", "127.0.0.1:3999"}, true, ""},
		{nil, true, ""}, // the default env file's BASE_URL is for sam local, not explicit
		{[]string{"-addr", "127.0.0.1:3999", "-param", "BaseUrl=https://x.example"}, false, ""},
		{[]string{"-addr", "127.0.0.1:3999", "-env-file", withBase}, false, ""},
		{[]string{"-addr", "127.0.0.1:3999", "-env-file", without}, true, ""},
		{[]string{"-addr", "127.0.0.1:3999", "-base-url", "https://y.example"}, false, "https://y.example"},
	} {
		var out strings.Builder
		opts, code, ok := parse(tc.args, &out)
		if !ok {
			t.Fatalf("%v: exit %d: %s", tc.args, code, out.String())
		}
		if opts.OwnBaseURL != tc.own || opts.BaseURL != tc.baseURL {
			t.Errorf("%v: own %v, base %q; want own %v, base %q", tc.args, opts.OwnBaseURL, opts.BaseURL, tc.own, tc.baseURL)
		}
	}
	var help strings.Builder
	if _, code, ok := parse([]string{"-h"}, &help); ok || code != 0 {
		t.Fatalf("-h: ok %v, exit %d", ok, code)
	}
	for _, w := range []string{"-base-url", "BASE_URL follows it", "the runner's own, http://<-addr>", "-param BaseUrl="} {
		if !strings.Contains(help.String(), w) {
			t.Errorf("-h does not say %q:\n%s", w, help.String())
		}
	}
}
