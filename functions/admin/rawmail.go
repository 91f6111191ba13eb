package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/bucket"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The mail a request came in, as SES stored it in the inbound bucket (functions/inbound). The
// inbound function keeps what it said and lists its attachments by name and size; the
// attachments themselves are only inside the raw message, which the DPO downloads whole
// (<ref>.eml, opened by any mail program, attachments and all) from a presigned GET the
// workspace signs with its own role, valid a few minutes, as an attachment. Extracting each
// attachment instead would mean either the inbound function writing one more object per
// attachment (more calls per mail, a write permission on the bucket, objects named by the
// sender) or the workspace parsing MIME and charsets into a Lambda response of at most 6 MB
// for a mail of up to 40 MB; the mail whole says exactly what came, nothing less.
//
// Opening is a POST (CSRF-checked, like every change): its audit event is written first, then
// the browser is sent to the link. Without an inbound bucket there is nothing to open.

// rawMailPage is the path segment that opens a request's mail.
const rawMailPage = "raw_mail"

// rawMailValid is how long the link to a raw mail works: long enough for the download to
// start, short enough that a link copied from the browser's history is dead.
const rawMailValid = 5 * time.Minute

// rawMails signs links to the inbound bucket's mails (bucket.Bucket does).
type rawMails interface {
	PresignGet(ctx context.Context, key string, d bucket.Download) (string, error)
	Origin() string
}

// withRawMails gives the workspace the inbound bucket.
func withRawMails(m rawMails) handlerOption { return func(h *handler) { h.rawMails = m } }

// openMail serves POST /admin/requests/<ref>/raw_mail: the audit event, then the link.
func (h *handler) openMail(c *call, ref string) web.Response {
	if _, err := h.form(c); err != nil {
		return h.fail(c, err)
	}
	r, _, err := h.load(c, ref)
	if err != nil {
		return h.fail(c, err)
	}
	for attempt := 1; ; attempt++ {
		ch, err := r.OpenMail(c.sess.Email, h.now())
		if err != nil {
			return h.fail(c, fmt.Errorf("admin: open the mail of %s: %w", r.Ref, fault.Conflict))
		}
		err = h.reqs.Commit(c.ctx, r, ch)
		if err == nil {
			break
		}
		if !errors.Is(err, fault.Conflict) || attempt == retryAttempts {
			return h.fail(c, err)
		}
		// The event does not depend on the request's state: on the fresh one, again.
		if r, err = h.reqs.GetRequest(c.ctx, r.Ref); err != nil {
			return h.fail(c, err)
		}
	}
	link, err := h.rawMails.PresignGet(c.ctx, r.Inbound.Key, bucket.Download{Filename: r.Ref + ".eml", Expires: rawMailValid})
	if err != nil {
		return h.fail(c, err)
	}
	h.log.Info("mail opened", "ref", r.Ref, "dpo", h.actor(c))
	return web.Redirect(link)
}
