package dsr

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Search finds a request by what a DPO remembers of it: part of a name, of an address, of a
// reference or customer number, typed any which way. Both sides are reduced to the same
// words (Fold, SearchWords): lower case, accents and the Nordic letters spelt in plain ASCII
// ("Søren" and "soren" are one word), split at anything that is not a letter or digit. A
// request matches a query when every word of the query begins one of the request's words.

const (
	// MinSearchWord is the shortest query word searched for: a single letter begins every
	// tenth word and finds nothing anyone is looking for.
	MinSearchWord = 2
	// maxSearchWord cuts long words: nobody types forty characters of a word to find it, and
	// index keys stay small.
	maxSearchWord = 40
	// maxSearchWords bounds the words one request is found by (its index entries).
	maxSearchWords = 24
)

// folds spell letters that have no plain-ASCII decomposition, and the accented Latin-1 and
// Latin Extended-A letters, without their marks. Built on the first search, not at every cold
// start.
var folds = sync.OnceValue(func() map[rune]string {
	m := map[rune]string{
		'æ': "ae", 'ø': "o", 'å': "a", 'ß': "ss", 'đ': "d", 'ð': "d", 'þ': "th", 'ł': "l",
		'œ': "oe", 'ı': "i", 'ŋ': "n", 'ħ': "h", 'ŧ': "t", 'ĸ': "k",
	}
	groups := map[string]string{
		"a": "àáâãäāăą", "c": "çćĉċč", "d": "ď", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥ",
		"i": "ìíîïĩīĭįİ", "j": "ĵ", "k": "ķ", "l": "ĺļľŀ", "n": "ñńņňŉ", "o": "òóôõöōŏő",
		"r": "ŕŗř", "s": "śŝşšſ", "t": "ţť", "u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	}
	for plain, letters := range groups {
		for _, r := range letters {
			m[r] = plain
		}
	}
	return m
})

// Fold lower-cases s and spells every letter it knows in plain ASCII: "Søren Ærø" → "soren aero".
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	fold := folds()
	for _, r := range s {
		r = unicode.ToLower(r)
		if f, ok := fold[r]; ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// SearchWords splits text into the words search compares, folded, each cut to a length that
// still finds it, in order and without repeats.
func SearchWords(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(Fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		w = cut(w, maxSearchWord)
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// cut shortens w to at most n bytes without splitting a character.
func cut(w string, n int) string {
	if len(w) <= n {
		return w
	}
	for n > 0 && !utf8.RuneStart(w[n]) {
		n--
	}
	return w[:n]
}

// SearchWords are the words r is found by: its reference, the requester's name, address
// (whole, and in its parts) and customer number. An expired request has lost all but its
// reference. At most maxSearchWords, the reference and the whole address first.
func (r *Request) SearchWords() []string {
	words := []string{Fold(r.Ref)}
	if r.Email != "" {
		words = append(words, AddressWord(r.Email))
	}
	for _, w := range SearchWords(r.Ref + " " + r.Name + " " + r.Email + " " + r.CustomerRef) {
		// No query asks for a shorter word (ParseQuery), so none is kept.
		if utf8.RuneCountInString(w) >= MinSearchWord && !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	if len(words) > maxSearchWords {
		words = words[:maxSearchWords]
	}
	return words
}

// AddressWord is the search word of a whole address, as a request holds it among its
// SearchWords: what finds the requests filed from an address.
func AddressWord(email string) string { return cut(Fold(strings.TrimSpace(email)), maxSearchWord) }

// Query is what a DPO typed into search, as search compares it.
type Query struct {
	// Words are the query's words, folded, longest first: the first is looked up in the index,
	// the others only checked against what it found.
	Words []string
	// Whole is the query folded but not split, when it is one token that may begin a whole
	// address ("ola.nordmann@ex"), which the split words would not find in one piece.
	Whole string
}

// ParseQuery reads a search as typed. ok is false when no word is long enough to search for.
func ParseQuery(typed string) (Query, bool) {
	var q Query
	for _, w := range SearchWords(typed) {
		if utf8.RuneCountInString(w) >= MinSearchWord {
			q.Words = append(q.Words, w)
		}
	}
	slices.SortStableFunc(q.Words, func(a, b string) int { return len(b) - len(a) })
	if t := strings.TrimSpace(typed); strings.Index(t, "@") > 0 && !strings.ContainsFunc(t, unicode.IsSpace) {
		q.Whole = cut(Fold(t), maxSearchWord)
	}
	return q, len(q.Words) > 0 || q.Whole != ""
}

// Key is the word the index is asked for: the whole address if one was typed, else the
// longest word.
func (q Query) Key() string {
	if q.Whole != "" {
		return q.Whole
	}
	return q.Words[0]
}

// Matches reports whether every word of q begins one of r's words, so that a stale or
// collided index entry never shows a request the DPO did not look for.
func (q Query) Matches(r *Request) bool {
	have := r.SearchWords()
	begins := func(w string) bool {
		return slices.ContainsFunc(have, func(h string) bool { return strings.HasPrefix(h, w) })
	}
	if q.Whole != "" && !begins(q.Whole) {
		return false
	}
	for _, w := range q.Words {
		if !begins(w) {
			return false
		}
	}
	return true
}

// SearchBucket is the index partition a word is kept in and looked up from: its first
// MinSearchWord characters, so that one Query reads the words that begin alike and nothing else.
func SearchBucket(word string) string {
	n := 0
	for i := range word {
		if n == MinSearchWord {
			return word[:i]
		}
		n++
	}
	return word
}
