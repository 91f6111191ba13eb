package dsr

import (
	"time"

	"github.com/dsrdesk/dsrdesk/shared/token"
)

// Before a delivered file is handed out, the requester proves once more that they hold the
// mailbox the request was filed from: the status page link may be old, forwarded or left
// open on a shared computer, but a link mailed now, used within minutes, is as fresh a proof
// as the desk can have. The link opens a short session for the files; each download is then
// a URL valid for minutes.

const (
	// ProofLinkValid is how long a mailed files link may be used, once.
	ProofLinkValid = 15 * time.Minute
	// FilesSession is how long the files may be downloaded after the link was used.
	FilesSession = 30 * time.Minute
	// MaxProofs bounds the files links one request may have mailed per ProofWindow: each is
	// a mail to the requester's address, and the page that asks for one is open to anyone
	// holding the status page link.
	MaxProofs   = 5
	ProofWindow = time.Hour
)

// Proof is one mailed files link and, once used, the session it opened. Only hashes are
// stored: the link's secret and the session's are in the mail and the browser's cookie.
type Proof struct {
	// Key is the SHA-256 of the link's secret (token.ParseRequest), which names it.
	Key string
	// EmailHash is the hash of the address it was mailed to (HashEmail): a link is good only
	// while the request still has that address.
	EmailHash string
	Created   time.Time
	// ValidUntil is when the link stops working, then, once used, when its session ends.
	ValidUntil time.Time
	Used       time.Time
	// SessionHash is the SHA-256 of the session's secret, once the link was used.
	SessionHash string
}

// NewProof is a files link whose secret hashes to key, mailed to r's address at now.
func (r *Request) NewProof(key string, now time.Time) Proof {
	now = now.UTC()
	return Proof{Key: key, EmailHash: HashEmail(r.Email), Created: now, ValidUntil: now.Add(ProofLinkValid)}
}

// CanProve says whether r's requester may ask for a files link at now: r was answered with
// files that can still be downloaded.
func (r *Request) CanProve(now time.Time) bool { return r.Status == Completed && r.FilesOpen(now) }

// LinkUsable reports whether p, read with r, may be used at now: it was mailed to r's present
// address, has not been used and has not expired. Unknown, used, expired and foreign links
// are all simply not valid. (Whether the files are still there is the page's to say.)
func (p Proof) LinkUsable(r *Request, now time.Time) bool {
	return p.Key != "" && p.Used.IsZero() && now.Before(p.ValidUntil) && p.mailedTo(r)
}

// mailedTo reports whether p went to r's present address, r being answered.
func (p Proof) mailedTo(r *Request) bool {
	return r.Status == Completed && r.Email != "" && token.Equal(p.EmailHash, HashEmail(r.Email))
}

// Use opens p's session for the holder of the secret that hashes to sessionHash, at now.
func (p *Proof) Use(sessionHash string, now time.Time) {
	now = now.UTC()
	p.Used, p.SessionHash, p.ValidUntil = now, sessionHash, now.Add(FilesSession)
}

// SessionOpen reports whether the session of p, read with r, is open at now for the holder
// of the secret that hashes to sessionHash.
func (p Proof) SessionOpen(r *Request, sessionHash string, now time.Time) bool {
	return !p.Used.IsZero() && sessionHash != "" && token.Equal(p.SessionHash, sessionHash) && now.Before(p.ValidUntil) && p.mailedTo(r)
}
