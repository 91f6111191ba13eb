// Package i18n holds the product's languages (Danish, Norwegian bokmål, English), chooses one
// for a request, and translates message keys.
//
// Messages live in messages/*.json, one file per area, each key with all three languages side
// by side so a translator sees them together: {"form.title": {"da": "…", "nb": "…", "en": "…"}}.
// A test refuses a key missing a language or defined twice.
package i18n

import (
	_ "embed" // the message files
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Lang is a supported language tag.
type Lang string

// The supported languages.
const (
	DA Lang = "da"
	NB Lang = "nb"
	EN Lang = "en"
)

// Langs lists the supported languages in the order the language switch shows them.
var Langs = []Lang{DA, NB, EN}

// Parse maps a tag to a supported language: "da", "da-DK", "nb", "no", "nn" (bokmål is the
// written standard we offer Norwegians), "en", "en-GB"…
func Parse(tag string) (Lang, bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	switch tag {
	case "da":
		return DA, true
	case "nb", "no", "nn":
		return NB, true
	case "en":
		return EN, true
	}
	return "", false
}

// ParseOr is Parse's language for tag, or fallback when tag names none: a request's stored
// language, say, with the deployment's default for one filed without.
func ParseOr(tag string, fallback Lang) Lang {
	if l, ok := Parse(tag); ok {
		return l
	}
	return fallback
}

// Accepted is the supported language the browser's Accept-Language header prefers, if it names
// one (a q of 0 says "not this one").
func Accepted(acceptLanguage string) (Lang, bool) {
	best, bestQ := Lang(""), 0.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, q := part, 1.0
		if i := strings.Index(part, ";"); i >= 0 {
			tag = part[:i]
			if v, ok := strings.CutPrefix(strings.TrimSpace(part[i+1:]), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		if l, ok := Parse(tag); ok && q > bestQ {
			best, bestQ = l, q
		}
	}
	return best, best != ""
}

// The message files, one per area, embedded as strings so that the catalog's texts are slices
// of the binary's own data: an embed.FS copies a file on every read. A test checks that every
// file in messages/ is listed.

//go:embed messages/admin.json
var adminMessages string

//go:embed messages/common.json
var commonMessages string

//go:embed messages/intake.json
var intakeMessages string

//go:embed messages/portal.json
var portalMessages string

//go:embed messages/sweep.json
var sweepMessages string

var messageFiles = []struct{ name, data string }{
	{"admin.json", adminMessages},
	{"common.json", commonMessages},
	{"intake.json", intakeMessages},
	{"portal.json", portalMessages},
	{"sweep.json", sweepMessages},
}

// The catalog is read one area at a time. The keys of an area ("intake.…", "admin.…",
// "sweep.…") are in that area's file, every other key is in common.json, and a file is read
// when one of its keys is first looked up: a function reads the texts it uses (the intake
// never the workspace's two hundred), and a cold start reads none. TestCatalogComplete reads
// every file, so a broken one fails the tests, not a request.
type area struct {
	data  string
	once  sync.Once
	texts map[string]texts
	err   error
}

// areas by name; common.json is "".
var areas = func() map[string]*area {
	m := map[string]*area{}
	for _, f := range messageFiles {
		m[areaName(f.name)] = &area{data: f.data}
	}
	return m
}()

func areaName(file string) string {
	name := strings.TrimSuffix(file, ".json")
	if name == "common" {
		return ""
	}
	return name
}

// areaOf is the area a key belongs to: its first segment if that names an area, else common.
func areaOf(key string) string {
	if prefix, _, ok := strings.Cut(key, "."); ok && prefix != "" && areas[prefix] != nil {
		return prefix
	}
	return ""
}

func (a *area) read() (map[string]texts, error) {
	a.once.Do(func() {
		m := map[string]texts{}
		a.err = parseCatalog(a.data, func(k string, t texts) error {
			if _, dup := m[k]; dup {
				return fmt.Errorf("key %q defined twice", k)
			}
			for i, l := range Langs {
				if strings.TrimSpace(t[i]) == "" {
					return fmt.Errorf("key %q has no %s text", k, l)
				}
			}
			m[k] = t
			return nil
		})
		a.texts = m
	})
	return a.texts, a.err
}

func lookup(key string) (texts, bool) {
	m, err := areas[areaOf(key)].read()
	if err != nil {
		// The catalog is compiled in and TestCatalogComplete reads all of it.
		panic(fmt.Sprintf("i18n: %v", err))
	}
	t, ok := m[key]
	return t, ok
}

// load reads the whole catalog, and refuses a key that is not in its area's file.
func load() (map[string]texts, error) {
	out := map[string]texts{}
	for _, f := range messageFiles {
		name := areaName(f.name)
		m, err := areas[name].read()
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f.name, err)
		}
		for k, t := range m {
			if areaOf(k) != name {
				return nil, fmt.Errorf("i18n: %s: key %q belongs in %s", f.name, k, fileOf(areaOf(k)))
			}
			out[k] = t
		}
	}
	return out, nil
}

func fileOf(area string) string {
	if area == "" {
		return "common.json"
	}
	return area + ".json"
}

// Has reports whether key is in the catalog.
func Has(key string) bool {
	_, ok := lookup(key)
	return ok
}

// T translates key into lang, formatting args into it with fmt.Sprintf verbs. A missing key is
// shown as [key] so it is visible on the page and caught by the tests that render every page.
func T(lang Lang, key string, args ...any) string {
	t, ok := lookup(key)
	if !ok {
		return "[" + key + "]"
	}
	s := t.in(lang)
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

var months = map[Lang][12]string{
	DA: {"januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"},
	NB: {"januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember"},
	EN: {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

var weekdays = map[Lang][7]string{
	DA: {"søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"},
	NB: {"søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"},
	EN: {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
}

// Date formats the calendar date of t (already in the zone that matters) the way the language
// writes it: "7. april 2026", "7 April 2026".
func Date(lang Lang, t time.Time) string {
	m := months[lang][t.Month()-1]
	if lang == EN {
		return fmt.Sprintf("%d %s %d", t.Day(), m, t.Year())
	}
	return fmt.Sprintf("%d. %s %d", t.Day(), m, t.Year())
}

// LongDate is Date with the weekday: "tirsdag 7. april 2026", "Tuesday 7 April 2026".
func LongDate(lang Lang, t time.Time) string {
	return weekdays[lang][t.Weekday()] + " " + Date(lang, t)
}

// DateTime is Date with the time of day in t's zone, which it names, since the reader may be
// elsewhere: "7. april 2026 kl. 14:05 (CEST)", "7 April 2026, 14:05 CEST".
func DateTime(lang Lang, t time.Time) string {
	if lang == EN {
		return Date(lang, t) + ", " + t.Format("15:04 MST")
	}
	return Date(lang, t) + " kl. " + t.Format("15:04 (MST)")
}

// Size writes a file's size the way the language writes numbers, in bytes, kB, MB or GB
// (powers of 1,024, as file managers show them), with one decimal from kB on: "7,0 MB",
// "7.0 MB", "512 bytes".
func Size(lang Lang, n int64) string {
	if n < 1024 {
		return T(lang, "size.bytes", n)
	}
	v, unit := float64(n)/1024, "kB"
	for _, u := range []string{"MB", "GB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if lang != EN {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " " + unit
}

// Provision is a place in the GDPR as a citation needs it: an article, a paragraph (0 for
// none) and a point ("" for none). dsr.Provision is one.
type Provision interface {
	Cite() (article, paragraph int, point string)
}

// Article cites p the way each language writes the regulation's numbering: "art. 17, stk. 3,
// litra b" in Danish, "art. 17 nr. 3 bokstav b" in Norwegian, "Art. 17(3)(b)" in English.
func Article(lang Lang, p Provision) string {
	art, par, point := p.Cite()
	var b strings.Builder
	switch lang {
	case DA:
		fmt.Fprintf(&b, "art. %d", art)
		if par > 0 {
			fmt.Fprintf(&b, ", stk. %d", par)
		}
		if point != "" {
			fmt.Fprintf(&b, ", litra %s", point)
		}
	case NB:
		fmt.Fprintf(&b, "art. %d", art)
		if par > 0 {
			fmt.Fprintf(&b, " nr. %d", par)
		}
		if point != "" {
			fmt.Fprintf(&b, " bokstav %s", point)
		}
	default:
		fmt.Fprintf(&b, "Art. %d", art)
		if par > 0 {
			fmt.Fprintf(&b, "(%d)", par)
		}
		if point != "" {
			fmt.Fprintf(&b, "(%s)", point)
		}
	}
	return b.String()
}

// Funcs are the functions every page and mail template may use (html/template and
// text/template take the map as their FuncMap): t translates a key, date, longdate and datetime
// write a time as the language does, article cites a provision of the GDPR, and lines splits free text into lines for a template to
// join with <br>, so that a requester's line breaks survive without their text ever being
// marked as safe HTML.
func Funcs() map[string]any {
	return map[string]any{
		"t":        T,
		"date":     Date,
		"longdate": LongDate,
		"datetime": DateTime,
		"article":  Article,
		"size":     Size,
		"lines":    func(s string) []string { return strings.Split(s, "\n") },
	}
}
