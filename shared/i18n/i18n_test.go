package i18n

import (
	"strings"
	"testing"
	"time"
)

func TestCatalogComplete(t *testing.T) {
	c, err := load()
	if err != nil {
		t.Fatal(err)
	}
	for key, texts := range c {
		for _, l := range Langs {
			if strings.Contains(texts.in(l), "[") && strings.Contains(texts.in(l), "]") && strings.Contains(texts.in(l), "["+key) {
				t.Errorf("%s/%s refers to itself", key, l)
			}
			// A translation must take the same arguments as the others, in the same order.
			if verbs(texts.in(l)) != verbs(texts.in(EN)) {
				t.Errorf("%s: %s has verbs %q, en has %q", key, l, verbs(texts.in(l)), verbs(texts.in(EN)))
			}
		}
	}
}

func verbs(s string) string {
	var out []string
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '%' {
			out = append(out, s[i:i+2])
			i++
		}
	}
	return strings.Join(out, "")
}

func TestAccepted(t *testing.T) {
	tests := []struct {
		accept string
		want   Lang
	}{
		{"da-DK,da;q=0.9", DA},
		{"nb-NO,nb;q=0.9,no;q=0.8,en;q=0.5", NB},
		{"en-US,en;q=0.9,da;q=0.8", EN},
		{"de-DE,de;q=0.9,en;q=0.4,da;q=0.7", DA},
		{"de, fr", ""},
		{"", ""},
		{"nn", NB},
		{"sv;q=1, en;q=0", ""},
	}
	for _, tt := range tests {
		if got, ok := Accepted(tt.accept); got != tt.want || ok != (tt.want != "") {
			t.Errorf("Accepted(%q) = %s, %v; want %s", tt.accept, got, ok, tt.want)
		}
	}
}

func TestParseOr(t *testing.T) {
	for _, tt := range []struct {
		tag      string
		fallback Lang
		want     Lang
	}{
		{"da", EN, DA},
		{" NO ", DA, NB},
		{"en-GB", NB, EN},
		{"", NB, NB},
		{"sv", DA, DA},
	} {
		if got := ParseOr(tt.tag, tt.fallback); got != tt.want {
			t.Errorf("ParseOr(%q, %s) = %s; want %s", tt.tag, tt.fallback, got, tt.want)
		}
	}
}

func TestT(t *testing.T) {
	if got := T(DA, "type.article", "art. 15"); got != "GDPR art. 15" {
		t.Errorf("T = %q", got)
	}
	if got := T(EN, "no.such.key"); got != "[no.such.key]" {
		t.Errorf("missing key = %q", got)
	}
}

func TestDates(t *testing.T) {
	d := time.Date(2026, 4, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		lang       Lang
		date, long string
	}{
		{DA, "7. april 2026", "tirsdag 7. april 2026"},
		{NB, "7. april 2026", "tirsdag 7. april 2026"},
		{EN, "7 April 2026", "Tuesday 7 April 2026"},
	}
	for _, tt := range tests {
		if got := Date(tt.lang, d); got != tt.date {
			t.Errorf("Date(%s) = %q", tt.lang, got)
		}
		if got := LongDate(tt.lang, d); got != tt.long {
			t.Errorf("LongDate(%s) = %q", tt.lang, got)
		}
	}
	if got := Date(NB, time.Date(2026, 5, 17, 0, 0, 0, 0, time.UTC)); got != "17. mai 2026" {
		t.Errorf("Norwegian May = %q", got)
	}
}

// provision is a citation's parts, as dsr.Provision gives them.
type provision struct {
	art, par int
	point    string
}

func (p provision) Cite() (int, int, string) { return p.art, p.par, p.point }

// Each language cites the regulation its own way: Danish "stk." and "litra", Norwegian "nr."
// and "bokstav", English brackets.
func TestArticle(t *testing.T) {
	tests := []struct {
		p          provision
		da, nb, en string
	}{
		{provision{15, 0, ""}, "art. 15", "art. 15", "Art. 15"},
		{provision{7, 3, ""}, "art. 7, stk. 3", "art. 7 nr. 3", "Art. 7(3)"},
		{provision{17, 3, "b"}, "art. 17, stk. 3, litra b", "art. 17 nr. 3 bokstav b", "Art. 17(3)(b)"},
	}
	for _, tt := range tests {
		for lang, want := range map[Lang]string{DA: tt.da, NB: tt.nb, EN: tt.en} {
			if got := Article(lang, tt.p); got != want {
				t.Errorf("Article(%s, %v) = %q, want %q", lang, tt.p, got, want)
			}
		}
	}
}

// A time of day shown to a person names its zone, summer time and winter time alike.
func TestDateTimeNamesTheZone(t *testing.T) {
	cph, err := time.LoadLocation("Europe/Copenhagen")
	if err != nil {
		t.Fatal(err)
	}
	summer := time.Date(2026, 4, 7, 12, 5, 0, 0, time.UTC).In(cph)
	winter := time.Date(2026, 1, 7, 12, 5, 0, 0, time.UTC).In(cph)
	tests := []struct {
		lang Lang
		t    time.Time
		want string
	}{
		{DA, summer, "7. april 2026 kl. 14:05 (CEST)"},
		{NB, winter, "7. januar 2026 kl. 13:05 (CET)"},
		{EN, summer, "7 April 2026, 14:05 CEST"},
		{EN, time.Date(2026, 4, 7, 12, 5, 0, 0, time.UTC), "7 April 2026, 12:05 UTC"},
	}
	for _, tt := range tests {
		if got := DateTime(tt.lang, tt.t); got != tt.want {
			t.Errorf("DateTime(%s) = %q, want %q", tt.lang, got, tt.want)
		}
	}
}
