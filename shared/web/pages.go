package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// Pages are a function's pages, each parsed with the layout (and the files every page shares,
// such as partials) the first time it is rendered. An invocation renders one page, and parsing
// all of them, or even the layout, was a noticeable part of every cold start; the tests parse
// every page.
type Pages struct {
	layout func() (*template.Template, error)
	fsys   fs.FS
	shared []string
	pages  map[string]*page
}

type page struct {
	file string
	once sync.Once
	t    *template.Template
	err  error
}

// NewPages finds the pages matching pattern in fsys, each defining {{define "main"}} and named
// by its file's base name without extension, and parses the layout with funcs. shared are more
// patterns in fsys whose files are parsed into every page.
func NewPages(fsys fs.FS, pattern string, funcs template.FuncMap, shared ...string) (*Pages, error) {
	layout := sync.OnceValues(func() (*template.Template, error) {
		return template.New("layout").Funcs(i18n.Funcs()).Funcs(template.FuncMap{
			"css":     func() template.CSS { return template.CSS(styleCSS) },
			"visible": Visible,
		}).Funcs(funcs).Parse(layoutHTML)
	})
	files, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	p := &Pages{layout: layout, fsys: fsys, shared: shared, pages: map[string]*page{}}
	for _, f := range files {
		p.pages[strings.TrimSuffix(path.Base(f), path.Ext(f))] = &page{file: f}
	}
	return p, nil
}

// Page returns page name, parsing it on first use. An unknown page, or one that does not
// parse, is an error.
func (p *Pages) Page(name string) (*template.Template, error) {
	pg, ok := p.pages[name]
	if !ok {
		return nil, fmt.Errorf("web: no page %q", name)
	}
	pg.once.Do(func() {
		t, err := p.layout()
		if err == nil {
			t, err = t.Clone()
		}
		if err == nil {
			t, err = t.ParseFS(p.fsys, append([]string{pg.file}, p.shared...)...)
		}
		if err != nil {
			pg.err = fmt.Errorf("web: page %s: %w", name, err)
			return
		}
		pg.t = t
	})
	return pg.t, pg.err
}

// Visible is text a requester wrote, escaped, with every format character (Unicode Cf: bidi
// overrides and isolates, zero-width spaces and joiners, byte-order marks) shown as its code
// point in a marked span instead of applied. A right-to-left override makes "fdp.exe" of
// "exe.pdf", and zero-width characters make two texts that differ look the same; whoever reads
// a request should see it as stored. The intake refuses them in names (dsr.CheckText) but
// keeps them in details, which may quote anything.
func Visible(s string) template.HTML {
	var b strings.Builder
	start := 0
	for i, r := range s {
		if !unicode.Is(unicode.Cf, r) {
			continue
		}
		b.WriteString(template.HTMLEscapeString(s[start:i]))
		fmt.Fprintf(&b, `<span class="cf">U+%04X</span>`, r)
		start = i + utf8.RuneLen(r)
	}
	b.WriteString(template.HTMLEscapeString(s[start:]))
	return template.HTML(b.String())
}
