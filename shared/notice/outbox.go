package notice

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// Sender sends one message.
type Sender interface {
	Send(ctx context.Context, msg Message) error
}

// PageLinks stores a new link to a request's status page (store.Store does): key for the
// address whose hash is emailHash, on condition the request has a page for it.
type PageLinks interface {
	AddPageLink(ctx context.Context, ref, emailHash, key string) (*dsr.Request, error)
}

// Recorder stores what became of the mails about a request (store.Store does): their delivery
// states on the request, the exact text of those that reached the requester beside it, and
// the rest of the request's partition in step with it.
type Recorder interface {
	RecordMails(ctx context.Context, r *dsr.Request, states map[dsr.MailKind]dsr.MailState) error
	// StartSync starts reading r's partition; read waits for the read, write waits for it
	// and writes what brings the partition in step with r, with the texts of sent
	// (store.SyncSiblings in two halves, so that the read goes while the mails do).
	StartSync(ctx context.Context, r *dsr.Request) (read func(), write func(sent []dsr.SentMail) error)
	// SyncSiblings is StartSync's read and write in one call, for a caller with nothing to do
	// while the partition is read (Keep).
	SyncSiblings(ctx context.Context, r *dsr.Request, sent ...dsr.SentMail) error
	// KeepNew is SyncSiblings for a request whose partition holds nothing else yet: the
	// same items in one batch, without reading the partition first (DeliverNew).
	KeepNew(ctx context.Context, r *dsr.Request, sent []dsr.SentMail) error
}

// Outbox sends the mails a committed change queued and records how each went. A mail that
// could not be sent stays on the request as failed, and the sweep sends it later: the
// requester's request is never lost because a mail was.
//
// Every change that reaches the requester goes through here after its commit (the intake's,
// the workspace's, the sweep's), so this is also where the request's siblings follow it:
// the text of each mail that went out is kept, and the search entries and retention of the
// partition are brought in step (store.SyncSiblings). A mail kind added later gets both for
// free.
type Outbox struct {
	Notices  *Notices
	Sender   Sender
	Recorder Recorder
	// Links issues the status page link every mail to the requester carries; nil sends
	// those mails without one.
	Links PageLinks
	Now   func() time.Time
}

// Deliver sends the given mails about r in parallel, keeps the text of those sent to the
// requester and brings r's partition in step (one Query, made while the mails go, and one
// batch write), then records the mails' states in one write. It returns the joined errors of
// whatever failed (for logging); the caller's answer to the user does not depend on it.
//
// The texts are written before the states: a page that sees a mail "sent" finds its text.
// When no text is kept (the mails went to the DPO, or none went), the two writes go together.
// So the mails cost two round trips after their change (three when one carries a status page
// link, which is stored first, or when texts are kept), whatever the partition holds.
//
// link is the confirmation link of a verification or reminder mail. The other mails to the
// requester carry a link to their status page, issued here, before they are sent, and stored
// as a hash only (dsr.PageLinkKey): the secret exists in the mail alone, and is cut out of the
// text the request keeps. If the table cannot store the link, those mails count as failed
// and a retry issues another; if the request has no page for its address any more, they go
// without one.
func (o *Outbox) Deliver(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error {
	if len(kinds) == 0 {
		return nil
	}
	pageLink, linkErr := o.pageLink(ctx, r, kinds)
	msgs := o.compose(r, kinds, link, pageLink, linkErr)
	// The partition is read while the mails go (once the link they carry is stored, and once
	// they are written, so that the read and the sends leave together however long the
	// templates take); the sync keeps a copy of r, whose mail states RecordMails updates as it
	// records them.
	read, write := o.Recorder.StartSync(ctx, r.Clone())
	states, sent, errs := o.send(ctx, r, msgs)
	var synced chan error
	if len(sent) > 0 {
		if err := write(sent); err != nil {
			errs = append(errs, fmt.Errorf("keep mail texts: %w", err))
		}
	} else {
		// No text for a state to point at: the states are written beside the partition's
		// writes, once it is read (so that the mails cost the same round trips each time).
		read()
		synced = make(chan error, 1)
		go func() { synced <- write(nil) }()
	}
	if err := o.Recorder.RecordMails(ctx, r, states); err != nil {
		errs = append(errs, fmt.Errorf("record mail states: %w", err))
	}
	if synced != nil {
		if err := <-synced; err != nil {
			errs = append(errs, fmt.Errorf("bring the partition in step: %w", err))
		}
	}
	return errors.Join(errs...)
}

// DeliverNew is Deliver for a request just stored, whose partition holds nothing but the
// request yet (the inbound function's, a registration's): the texts of its mails and its
// search entries are written in one batch, without reading the partition first, beside the
// one write that records the mails' states. (Deliver writes the texts first, so that a page
// that sees a mail sent finds its text; no page about a request that did not exist a moment
// ago is open.) With no mail to send, it writes the search entries alone.
func (o *Outbox) DeliverNew(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error {
	if len(kinds) == 0 {
		return o.Recorder.KeepNew(ctx, r, nil)
	}
	pageLink, linkErr := o.pageLink(ctx, r, kinds)
	states, sent, errs := o.send(ctx, r, o.compose(r, kinds, link, pageLink, linkErr))
	written := make(chan error, 1)
	go func() { written <- o.Recorder.KeepNew(ctx, r.Clone(), sent) }()
	if err := o.Recorder.RecordMails(ctx, r, states); err != nil {
		errs = append(errs, fmt.Errorf("record mail states: %w", err))
	}
	if err := <-written; err != nil {
		errs = append(errs, fmt.Errorf("keep mail texts and search entries: %w", err))
	}
	return errors.Join(errs...)
}

// composed is one mail about a request, written and ready to go, or what kept it from being
// written.
type composed struct {
	kind dsr.MailKind
	msg  Message
	link string
	err  error
}

// compose writes the mails kinds about r. The mails that carry a status page link carry
// pageLink (o.pageLink), or fail with linkErr.
func (o *Outbox) compose(r *dsr.Request, kinds []dsr.MailKind, link, pageLink string, linkErr error) []composed {
	out := make([]composed, len(kinds))
	for i, kind := range kinds {
		c := composed{kind: kind, link: link}
		if kind.CarriesPageLink() {
			c.link = pageLink
		}
		if kind.CarriesPageLink() && linkErr != nil {
			c.err = fmt.Errorf("status page link: %w", linkErr)
		} else {
			c.msg, c.err = o.Notices.Request(kind, r, c.link)
		}
		out[i] = c
	}
	return out
}

// send sends the composed mails about r in parallel and returns their states, the texts of
// those that went to the requester, and what failed.
func (o *Outbox) send(ctx context.Context, r *dsr.Request, msgs []composed) (map[dsr.MailKind]dsr.MailState, []dsr.SentMail, []error) {
	states := make(map[dsr.MailKind]dsr.MailState, len(msgs))
	var sent []dsr.SentMail
	errs := make([]error, len(msgs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, c := range msgs {
		wg.Go(func() {
			err := c.err
			if err == nil {
				err = o.Sender.Send(ctx, c.msg)
			}
			st := dsr.MailState{State: dsr.MailSent, At: o.Now().UTC(), Attempts: r.Mails[c.kind].Attempts + 1}
			if err != nil {
				st.State = dsr.MailFailed
				errs[i] = fmt.Errorf("%s: %w", c.kind, err)
			}
			mu.Lock()
			defer mu.Unlock()
			states[c.kind] = st
			if err == nil && c.kind.ToRequester() {
				sent = append(sent, kept(c.kind, st.At, c.msg, c.link))
			}
		})
	}
	wg.Wait()
	return states, sent, errs
}

// pageLink issues one status page link for the mails among kinds that carry one. A request
// without a page for its address (answered more than a month ago) gets "" and no error.
func (o *Outbox) pageLink(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind) (string, error) {
	if o.Links == nil || !slices.ContainsFunc(kinds, dsr.MailKind.CarriesPageLink) {
		return "", nil
	}
	tok, hash := token.ForRequest(r.Ref)
	_, err := o.Links.AddPageLink(ctx, r.Ref, dsr.HashEmail(r.Email), dsr.PageLinkKey(hash, r.Email))
	switch {
	case errors.Is(err, fault.Conflict):
		return "", nil
	case err != nil:
		return "", err
	}
	return StatusLink(o.Notices.s.BaseURL, tok), nil
}

// kept is msg as the request keeps it: its plain-text part, the part the HTML one mirrors,
// with the secret of its link (a confirmation or status page link) cut out. The secret is
// never stored (only its hash), and a copy in the mail's text would let whoever reads the
// table confirm the request or open its page.
func kept(kind dsr.MailKind, at time.Time, msg Message, link string) dsr.SentMail {
	text := msg.Text
	if link != "" {
		text = strings.ReplaceAll(text, link, RedactLink(link))
	}
	return dsr.SentMail{Kind: kind, At: at, To: strings.Join(msg.To, ", "), Lang: string(msg.Lang), Subject: msg.Subject, Text: text}
}

// RedactLink is a link with its secret replaced: "…/verify?token=REF.…", "…/status?token=REF.…".
func RedactLink(link string) string {
	i := strings.Index(link, "token=")
	if i < 0 {
		return link
	}
	tok := link[i+len("token="):]
	ref, _, _ := strings.Cut(tok, ".")
	return link[:i] + "token=" + ref + ".…"
}

// Keep keeps the text of each letter among kinds, those of r's mails that are letters not yet
// posted (dsr.MailLetter: a requester the desk cannot mail), as the letter it is
// (Notices.Letter), beside the request as a mail's text is kept (Recorder.StartSync): the
// DPO prints it from there and posts it. Nothing is sent and no state changes: a letter stays
// one until the DPO records it posted. Each text is kept under the time the change decided
// it, so keeping it again writes the same item.
func (o *Outbox) Keep(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind) error {
	var letters []dsr.SentMail
	for _, kind := range kinds {
		m := r.Mails[kind]
		if m.State != dsr.MailLetter {
			continue
		}
		msg, err := o.Notices.Letter(kind, r)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		letters = append(letters, kept(kind, m.At, msg, ""))
	}
	if len(letters) == 0 {
		return nil
	}
	if err := o.Recorder.SyncSiblings(ctx, r.Clone(), letters...); err != nil {
		return fmt.Errorf("keep letters: %w", err)
	}
	return nil
}
