package main

import (
	"strconv"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// cookieName is the status page's session cookie. It holds the link's token itself: the page
// needs nothing stored for a session, and the token already is the secret that opens the
// page, checked on every request against the request's live links (dsr.Request.CanOpenPage),
// so revoking the links ends every session too.
const cookieName = "dsr_status"

// cookie carries the token of the page last opened from a mail. Like the workspace's: Strict
// keeps it off every cross-site request (a form posted from another site arrives without
// it), Path keeps it away from every other route, HttpOnly from any script.
func (h *Handler) cookie(tok string) string {
	return cookieName + "=" + tok + "; Path=" + h.cfg.BasePath + "/status; Max-Age=" + strconv.Itoa(int(h.cfg.SessionTTL.Seconds())) +
		"; HttpOnly; Secure; SameSite=Strict"
}

func (h *Handler) clearCookie() string {
	return cookieName + "=; Path=" + h.cfg.BasePath + "/status; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
}

// parseLink splits a status page token into the reference it names and its secret's hash. A
// token that is not well formed, or names a reference in another spelling, names nothing.
func parseLink(tok string) (ref, hash string, ok bool) {
	ref, hash, ok = token.ParseRequest(tok)
	if !ok {
		return "", "", false
	}
	if canon, ok := dsr.NormalizeReference(ref); !ok || canon != ref {
		return "", "", false
	}
	return ref, hash, true
}

// formToken is what the reply form carries against cross-site posts, derived from the page's
// token: only a page drawn for that very token has it, and a form left open in a tab after
// another request's link replaced the cookie no longer matches, so a reply never lands on the
// wrong request. It is a hash of the secret, which it does not reveal.
func formToken(tok string) string { return token.Hash("status-form\n" + tok) }

// formTokenOK compares a posted form token with the one tok makes, in constant time.
func formTokenOK(posted, tok string) bool {
	// Hashing first makes both sides the same length, so the time taken says nothing either.
	return tok != "" && token.Equal(token.Hash(posted), token.Hash(formToken(tok)))
}
