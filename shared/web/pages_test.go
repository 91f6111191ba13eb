package web

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

func TestPages(t *testing.T) {
	fsys := fstest.MapFS{
		"pages/hello.html":          {Data: []byte(`{{define "main"}}<p>{{template "greeting" .Main}}</p>{{end}}`)},
		"pages/broken.html":         {Data: []byte(`{{define "main"}}{{if}}{{end}}`)},
		"pages/partials/greet.html": {Data: []byte(`{{define "greeting"}}Hej {{.}}{{end}}`)},
	}
	p, err := NewPages(fsys, "pages/*.html", nil, "pages/partials/*.html")
	if err != nil {
		t.Fatal(err) // the broken page is not parsed yet
	}
	if got := strings.Join(slices.Sorted(maps.Keys(p.pages)), ","); got != "broken,hello" {
		t.Fatalf("names %q", got)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			tpl, err := p.Page("hello")
			if err != nil {
				t.Error(err)
				return
			}
			resp := Render(tpl, 200, Page{Lang: "da", Title: "T", Main: "<Ada>"})
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, "<p>Hej &lt;Ada&gt;</p>") {
				t.Errorf("rendered %d: %s", resp.StatusCode, resp.Body)
			}
		})
	}
	wg.Wait()
	for _, name := range []string{"broken", "missing"} {
		if _, err := p.Page(name); err == nil {
			t.Errorf("page %s: no error", name)
		}
	}
}
