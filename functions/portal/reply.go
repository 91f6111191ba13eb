package main

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// replyAttempts bounds the tries of a reply that lost a race with another change of the
// request (the DPO acting at the same moment): a reply does not depend on what changed, so it
// is made again on the request as it now is.
const replyAttempts = 3

// reply takes the requester's message from their status page: the session cookie says which
// request (no live link in it, and the answer is the invalid link's page), the form's token
// that the page was drawn for that link. One read of the request (with its
// messages, which an invalid reply's page shows again), then the message and the change that
// records it are written together: the message under its own key beside the request, the
// change as one conditional write. The DPO's notice follows the answer.
func (h *Handler) reply(ctx context.Context, c *web.Call) web.Response {
	log := h.log.With("step", "reply")
	form, err := c.Form(maxBody)
	if err != nil {
		return h.unreadable(ctx, c, "reply", err)
	}
	tok := c.Cookie(cookieName)
	text := strings.TrimSpace(strings.ReplaceAll(form.Get("text"), "\r\n", "\n"))
	for range replyAttempts {
		r, msgs, err := h.open(ctx, tok)
		switch {
		case errors.Is(err, fault.NotFound):
			log.InfoContext(ctx, "reply", "outcome", "invalid")
			return h.invalid(c)
		case err != nil:
			log.ErrorContext(ctx, "reply", "outcome", "unavailable", errlog.Attr(err))
			return h.problem(c, err, "portal.unavailable")
		}
		c.Suggest(r.Lang)
		if !formTokenOK(form.Get("form"), tok) {
			// A page drawn for another link (the cookie has moved on to another request since),
			// or a post that never came from our page.
			log.InfoContext(ctx, "reply", "outcome", "stale", "ref", r.Ref)
			return h.problem(c, fault.Forbidden, "portal.stale")
		}
		ch, m, err := r.Reply(text, h.now(), h.cfg.Calendar)
		var fe dsr.FieldErrors
		switch {
		case errors.As(err, &fe):
			log.InfoContext(ctx, "reply", "outcome", "invalid_text", "ref", r.Ref, "code", fe["text"])
			v := h.view(c, tok, r, msgs)
			v.Text, v.Error = text, i18n.T(c.Lang, "error."+fe["text"])
			return h.render(c, "status", web.Status(fe), i18n.T(c.Lang, "portal.status.title", r.Ref), h.switchLinks(c, tok, false), v)
		case err != nil:
			// Answered meanwhile: the page shows the answer, and says where to write now.
			log.InfoContext(ctx, "reply", "outcome", "closed", "ref", r.Ref)
			v := h.view(c, tok, r, msgs)
			return h.render(c, "status", web.Status(err), i18n.T(c.Lang, "portal.status.title", r.Ref), h.switchLinks(c, tok, false), v)
		}
		putErr, commitErr := h.write(ctx, r, ch, m)
		switch {
		case errors.Is(commitErr, fault.Conflict):
			continue
		case commitErr != nil:
			log.ErrorContext(ctx, "reply", "outcome", "unavailable", "ref", r.Ref, errlog.Attr(commitErr))
			return h.problem(c, commitErr, "portal.unavailable")
		case putErr != nil:
			// Recorded, but its text is not stored: the requester is told to send it again,
			// and it is logged for the DPO to look into.
			log.ErrorContext(ctx, "reply", "outcome", "text_not_stored", "ref", r.Ref, errlog.Attr(putErr))
			return h.problem(c, putErr, "portal.unavailable")
		}
		h.after.Later(ctx, func(ctx context.Context) {
			if err := h.outbox.Deliver(ctx, r, ch.Mails, ""); err != nil {
				log.ErrorContext(ctx, "mail", "ref", r.Ref, "kinds", ch.Mails, "outcome", "failed", errlog.Attr(err))
			}
		})
		log.InfoContext(ctx, "reply", "outcome", "stored", "ref", r.Ref, "resumed", len(ch.Also) > 0)
		return web.Redirect(h.cfg.BasePath + "/status?done=reply")
	}
	log.ErrorContext(ctx, "reply", "outcome", "conflict")
	return h.problem(c, fault.Conflict, "portal.unavailable")
}

// write stores message m beside r and commits the change that records it, at the same time:
// the requester waits for one round trip, not two. The message's key is its own ID, so a
// message whose change lost a race stays out of sight (an audit event names every message
// shown) and writing it again is harmless. A message whose write failed once is written
// again before the answer: the change names it.
func (h *Handler) write(ctx context.Context, r *dsr.Request, ch dsr.Change, m dsr.Message) (putErr, commitErr error) {
	var wg sync.WaitGroup
	wg.Go(func() { putErr = h.store.PutMessage(ctx, r, m) })
	wg.Go(func() { commitErr = h.store.Commit(ctx, r, ch) })
	wg.Wait()
	if commitErr == nil && putErr != nil {
		putErr = h.store.PutMessage(ctx, r, m)
	}
	return putErr, commitErr
}
