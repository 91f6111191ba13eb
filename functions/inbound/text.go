package main

import (
	"html"
	"strings"
	"unicode"
)

// htmlText is what an HTML-only mail says, as plain text: the text of its elements, a line
// break for each block and <br>, a "- " before each list item, links' text followed by where
// they go when that differs. Scripts, styles and the head say nothing; comments neither. It
// is a reader for what mail clients write, not a browser: tags it does not know are dropped
// and their text kept.
func htmlText(src string) string {
	var b strings.Builder
	space := false
	var href string
	emit := func(s string) {
		for _, r := range s {
			if unicode.IsSpace(r) {
				space = true
				continue
			}
			if space {
				if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
					b.WriteByte(' ')
				}
				space = false
			}
			b.WriteRune(r)
		}
	}
	newline := func(n int) {
		space = false
		s := b.String()
		have := len(s) - len(strings.TrimRight(s, "\n"))
		if b.Len() == 0 {
			return
		}
		for ; have < n; have++ {
			b.WriteByte('\n')
		}
	}
	for i := 0; i < len(src); {
		lt := strings.IndexByte(src[i:], '<')
		if lt < 0 {
			emit(html.UnescapeString(src[i:]))
			break
		}
		emit(html.UnescapeString(src[i : i+lt]))
		i += lt
		if strings.HasPrefix(src[i:], "<!--") {
			end := strings.Index(src[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		end := tagEnd(src, i)
		if end < 0 {
			break // a tag cut off at the end says nothing
		}
		tag := src[i+1 : end]
		i = end + 1
		name, closing := tagName(tag)
		switch name {
		case "script", "style", "head", "title":
			if !closing {
				if j := strings.Index(strings.ToLower(src[i:]), "</"+name); j >= 0 {
					i += j
				} else {
					i = len(src)
				}
			}
		case "br":
			newline(1)
		case "div", "tr", "section", "article", "header", "footer":
			newline(1)
		case "p", "table", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre":
			newline(2)
		case "li":
			if !closing {
				newline(1)
				b.WriteString("- ")
			}
		case "td", "th":
			if !closing {
				space = true
			}
		case "a":
			if !closing {
				href = attr(tag, "href")
			} else if href != "" && !strings.HasPrefix(href, "mailto:") && !strings.Contains(b.String()[max(0, b.Len()-len(href)-2):], href) {
				emit(" (" + href + ")")
				href = ""
			}
		}
	}
	return tidy(b.String())
}

// tagEnd is the index of the '>' that ends the tag starting at src[i], quotes respected, or
// -1 if none does.
func tagEnd(src string, i int) int {
	var quote byte
	for j := i + 1; j < len(src); j++ {
		switch c := src[j]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j
		}
	}
	return -1
}

// tagName reads "p class=x", "/p" or "br/" as ("p", false), ("p", true), ("br", false).
func tagName(tag string) (string, bool) {
	closing := strings.HasPrefix(tag, "/")
	tag = strings.TrimPrefix(tag, "/")
	end := strings.IndexFunc(tag, func(r rune) bool { return unicode.IsSpace(r) || r == '/' || r == '>' })
	if end < 0 {
		end = len(tag)
	}
	return strings.ToLower(tag[:end]), closing
}

// attr returns the value of attribute name in a tag's text, unescaped.
func attr(tag, name string) string {
	lower := strings.ToLower(tag)
	for i := 0; ; {
		j := strings.Index(lower[i:], name)
		if j < 0 {
			return ""
		}
		j += i
		k := j + len(name)
		for k < len(tag) && tag[k] == ' ' {
			k++
		}
		if (j == 0 || unicode.IsSpace(rune(tag[j-1]))) && k < len(tag) && tag[k] == '=' {
			v := strings.TrimLeft(tag[k+1:], " ")
			if v == "" {
				return ""
			}
			if q := v[0]; q == '"' || q == '\'' {
				if e := strings.IndexByte(v[1:], q); e >= 0 {
					return html.UnescapeString(v[1 : 1+e])
				}
				return html.UnescapeString(v[1:])
			}
			if e := strings.IndexFunc(v, unicode.IsSpace); e >= 0 {
				v = v[:e]
			}
			return html.UnescapeString(strings.TrimSuffix(v, "/"))
		}
		i = j + len(name)
	}
}

// tidy trims each line and keeps at most one blank line in a row.
func tidy(s string) string {
	var b strings.Builder
	blank := 0
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}

// A mail's language, guessed from its words: the desk answers in it. Danish and Norwegian
// share most words; these are the common ones they spell apart (mig/meg, af/av, hvad/hva,
// efter/etter, tak/takk, oplysninger/opplysninger, …), and English's own.
var langWords = map[string][]string{
	"da": {"af", "mig", "dig", "sig", "hvad", "efter", "nu", "tak", "hej", "venlig", "venligst", "hilsen", "noget", "meget",
		"jeres", "jer", "os", "oplysninger", "personoplysninger", "indsigt", "sletning", "slette", "ønsker", "gerne", "kan", "jeg", "ikke", "også", "være", "mine", "har", "om"},
	"nb": {"av", "meg", "deg", "seg", "hva", "etter", "nå", "takk", "hei", "vennlig", "vennligst", "hilsen", "noe", "mye",
		"deres", "dere", "oss", "opplysninger", "personopplysninger", "innsyn", "sletting", "slette", "ønsker", "gjerne", "kan", "jeg", "ikke", "også", "være", "mine", "har", "om"},
	"en": {"the", "and", "my", "me", "you", "your", "please", "data", "personal", "delete", "access", "request", "would", "like",
		"to", "of", "is", "that", "this", "thank", "thanks", "regards", "i", "have", "about", "what", "information"},
}

// guessLang returns da, nb or en when text's words say so clearly, else fallback. Words both
// Nordic languages spell alike count for both; the language whose own words are clearly
// ahead wins.
func guessLang(text, fallback string) string {
	score := map[string]int{}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) })
	if len(words) > 2000 {
		words = words[:2000]
	}
	seen := map[string]map[string]bool{"da": {}, "nb": {}, "en": {}}
	for lang, list := range langWords {
		for _, w := range list {
			seen[lang][w] = true
		}
	}
	for _, w := range words {
		for lang := range seen {
			if seen[lang][w] {
				score[lang]++
			}
		}
	}
	top := 0
	for _, n := range score {
		top = max(top, n)
	}
	if top < 2 {
		return fallback
	}
	if score[fallback] == top {
		return fallback
	}
	for _, lang := range []string{"da", "nb", "en"} {
		if score[lang] == top {
			return lang
		}
	}
	return fallback
}
