package main

import (
	"strings"
	"unicode/utf8"
)

const maskDots = "•••"

// maskEmail shows enough of an address for its owner to recognise it and little to anyone
// looking over their shoulder or at a forwarded link: "jane@example.dk" → "j•••@e•••.dk".
// The top-level domain stays because it is shared by millions and helps spot a typo.
func maskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return maskDots
	}
	local, domain := addr[:at], addr[at+1:]
	host, tld := domain, ""
	if i := strings.LastIndexByte(domain, '.'); i >= 0 {
		host, tld = domain[:i], domain[i:]
	}
	return firstRune(local) + maskDots + "@" + firstRune(host) + maskDots + tld
}

func firstRune(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || r == utf8.RuneError {
		return ""
	}
	return string(r)
}
