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

func TestT(t *testing.T) {
	if got := T(DA, "type.article", "15"); got != "GDPR art. 15" {
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
