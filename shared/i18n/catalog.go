package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// texts are one message in every language, in the order of Langs.
type texts [3]string

// in returns the text in l, English for a language we do not offer.
func (t texts) in(l Lang) string {
	i, ok := index(l)
	if !ok {
		i, _ = index(EN)
	}
	return t[i]
}

// index is l's place in Langs and texts; false for a language we do not offer.
func index(l Lang) (int, bool) {
	switch l {
	case DA:
		return 0, true
	case NB:
		return 1, true
	case EN:
		return 2, true
	}
	return 0, false
}

// parseCatalog reads one messages file: a JSON object of keys, each an object of language
// tags to texts. It is a reader for exactly that shape rather than encoding/json, because every
// function reads the whole catalog on every cold start: texts without escapes are slices of
// data, and nothing is reflected on. catalog_test.go holds it to encoding/json's reading of
// every file, and to JSON's rules on what it refuses.
func parseCatalog(data string, add func(key string, t texts) error) error {
	p := &catalogParser{s: data}
	if err := p.expect('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.i++
		return p.end()
	}
	for {
		key, err := p.str()
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		t, err := p.texts()
		if err != nil {
			return fmt.Errorf("key %q: %w", key, err)
		}
		if err := add(key, t); err != nil {
			return err
		}
		switch p.next() {
		case ',':
			continue
		case '}':
			return p.end()
		}
		return p.fail("expected , or }")
	}
}

type catalogParser struct {
	s string
	i int
}

func (p *catalogParser) fail(msg string) error {
	return fmt.Errorf("offset %d: %s", p.i, msg)
}

func (p *catalogParser) peek() byte {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return c
		}
	}
	return 0
}

func (p *catalogParser) next() byte {
	c := p.peek()
	if p.i < len(p.s) {
		p.i++
	}
	return c
}

func (p *catalogParser) expect(c byte) error {
	if p.next() != c {
		return p.fail("expected " + string(c))
	}
	return nil
}

func (p *catalogParser) end() error {
	if p.peek() != 0 {
		return p.fail("data after the object")
	}
	return nil
}

// texts reads {"da": "…", "nb": "…", "en": "…"}. A language we do not offer is an error:
// it is a typo for one we do.
func (p *catalogParser) texts() (texts, error) {
	var t texts
	var seen [len(t)]bool
	if err := p.expect('{'); err != nil {
		return t, err
	}
	if p.peek() == '}' {
		p.i++
		return t, nil
	}
	for {
		tag, err := p.str()
		if err != nil {
			return t, err
		}
		i, ok := index(Lang(tag))
		if !ok {
			return t, p.fail(fmt.Sprintf("unknown language %q", tag))
		}
		if seen[i] {
			return t, p.fail(fmt.Sprintf("language %q given twice", tag))
		}
		if err := p.expect(':'); err != nil {
			return t, err
		}
		if t[i], err = p.str(); err != nil {
			return t, err
		}
		seen[i] = true
		switch p.next() {
		case ',':
			continue
		case '}':
			return t, nil
		}
		return t, p.fail("expected , or }")
	}
}

// str reads a JSON string.
func (p *catalogParser) str() (string, error) {
	if p.next() != '"' {
		return "", p.fail("expected a string")
	}
	start := p.i
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			return p.valid(p.s[start : p.i-1])
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", p.fail("control character in a string")
		}
		p.i++
	}
	return "", p.fail("unterminated string")
}

func (p *catalogParser) valid(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", p.fail("invalid UTF-8")
	}
	return s, nil
}

// escaped reads the rest of a string that has escapes, from its start.
func (p *catalogParser) escaped(start int) (string, error) {
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return p.valid(b.String())
		case c < 0x20:
			return "", p.fail("control character in a string")
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			break
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if strings.HasPrefix(p.s[p.i:], `\u`) {
					p.i += 2
					if r2, err = p.hex4(); err != nil {
						return "", err
					}
				}
				r = utf16.DecodeRune(r, r2)
			}
			b.WriteRune(r)
		default:
			return "", p.fail("invalid escape")
		}
	}
	return "", p.fail("unterminated string")
}

func (p *catalogParser) hex4() (rune, error) {
	if p.i+4 > len(p.s) {
		return 0, p.fail("short \\u escape")
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, p.fail("invalid \\u escape")
	}
	p.i += 4
	return rune(n), nil
}
