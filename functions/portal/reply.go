package main

import (
	"context"
	"errors"
	"strings"

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
		ch, err := r.Reply(text, h.now(), h.cfg.Calendar)
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
		// The commit writes the message beside the request at the same time (store.Commit).
		err = h.store.Commit(ctx, r, ch)
		switch {
		case errors.Is(err, fault.Conflict):
			continue
		case err != nil:
			log.ErrorContext(ctx, "reply", "outcome", "unavailable", "ref", r.Ref, errlog.Attr(err))
			return h.problem(c, err, "portal.unavailable")
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
