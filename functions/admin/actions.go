package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// actions are the POST routes under /admin/requests/{ref}/.
var actions = map[string]bool{"start": true, "extend": true, "complete": true, "reject": true, "note": true}

// actionMail is the mail to the requester each action sends.
var actionMail = map[string]dsr.MailKind{
	"extend":   dsr.MailExtension,
	"complete": dsr.MailCompletion,
	"reject":   dsr.MailRejection,
}

// actionFields are the text fields each action's form posts.
var actionFields = map[string][]string{
	"extend":   {"reason"},
	"complete": {"message"},
	"reject":   {"category", "reason"},
	"note":     {"note"},
}

// fieldLabels are the message keys of the forms' field labels, by field id.
var fieldLabels = map[string]string{
	"extend.reason":    "admin.extend.reason",
	"complete.message": "admin.complete.message",
	"reject.category":  "admin.reject.category",
	"reject.reason":    "admin.reject.reason",
	"note.note":        "admin.note.label",
}

var errUnknownRef = fmt.Errorf("admin: not a reference: %w", fault.NotFound)

// noteAttempts bounds the retries of a note that lost a race: a note does not depend on the
// request's state, so it is simply added to the fresh one.
const noteAttempts = 3

// act runs one action on a request: the dsr method decides, store.Commit writes the change
// and its audit entry in one conditional write, then the requester's mail goes out.
func (h *handler) act(c *call, ref, action string) web.Response {
	form, err := h.form(c)
	if err != nil {
		return h.fail(c, err)
	}
	r, err := h.load(c, ref)
	if err != nil {
		return h.fail(c, err)
	}
	// The DPO decided on the page they saw. If the request has moved since (another DPO acted,
	// a mail came back), they should see what changed before their decision is applied.
	// Notes are exempt: they do not depend on the state.
	if action != "note" && form.Get("version") != "" && form.Get("version") != strconv.Itoa(r.Version) {
		return h.conflict(c, r, action, form)
	}
	var ch dsr.Change
	for attempt := 1; ; attempt++ {
		ch, err = h.apply(c, r, action, form)
		var fe dsr.FieldErrors
		var te *dsr.TransitionError
		switch {
		case errors.As(err, &fe):
			return h.invalid(c, r, action, form, fe)
		case errors.As(err, &te):
			return h.refused(c, r, action, form, te)
		case err != nil:
			return h.fail(c, err)
		}
		err = h.reqs.Commit(c.ctx, r, ch)
		if err == nil {
			break
		}
		if !errors.Is(err, fault.Conflict) {
			return h.fail(c, err)
		}
		fresh, lerr := h.load(c, ref)
		if lerr != nil {
			return h.fail(c, lerr)
		}
		if action != "note" || attempt == noteAttempts {
			h.log.Info("action conflict", "ref", r.Ref, "action", action, "dpo", c.actorHash())
			return h.conflict(c, fresh, action, form)
		}
		r = fresh
	}
	if len(ch.Mails) > 0 {
		// The commit queued the mail; it goes out once the DPO has the answer. A mail that
		// fails, or a run cut short, stays on the request for the sweep to send, and the page
		// shows it. The action itself has happened either way.
		h.after.Later(c.ctx, func(ctx context.Context) {
			if err := h.outbox.Deliver(ctx, r, ch.Mails, ""); err != nil {
				h.log.Warn("requester mail", "ref", r.Ref, "action", action, errlog.Attr(err))
			}
		})
	}
	h.log.Info("action", "ref", r.Ref, "type", string(r.Type), "action", action, "status", string(r.Status), "dpo", c.actorHash())
	return web.Redirect(requestPath(r.Ref) + "?done=" + action)
}

// apply calls the dsr method for action on r.
func (h *handler) apply(c *call, r *dsr.Request, action string, form url.Values) (dsr.Change, error) {
	actor, now := c.sess.Email, h.now()
	switch action {
	case "start":
		return r.Start(actor, now)
	case "extend":
		return r.Extend(actor, formText(form, "reason"), h.cal.Extended(r.ReceivedAt), now)
	case "complete":
		return r.Complete(actor, formText(form, "message"), now)
	case "reject":
		return r.Reject(actor, form.Get("category"), formText(form, "reason"), now)
	case "note":
		return r.AddNote(actor, formText(form, "note"), now)
	}
	return dsr.Change{}, fmt.Errorf("admin: action %q: %w", action, fault.NotFound)
}

// keep copies what the DPO typed into the page, so an error or a conflict loses none of it.
func keep(v *detailView, action string, form url.Values) {
	for _, f := range actionFields[action] {
		v.Form[action+"."+f] = form.Get(f)
	}
}

// invalid shows the request again with each error next to its field.
func (h *handler) invalid(c *call, r *dsr.Request, action string, form url.Values, fe dsr.FieldErrors) web.Response {
	v := h.detailView(c, r)
	keep(v, action, form)
	// The summary lists the errors in the order of the form's fields, each naming its field.
	for _, field := range actionFields[action] {
		code, ok := fe[field]
		if !ok {
			continue
		}
		id, msg := action+"."+field, i18n.T(c.Lang, "error."+code)
		v.Errors[id] = msg
		v.ErrorList = append(v.ErrorList, fieldError{ID: id, Label: i18n.T(c.Lang, fieldLabels[id]), Message: msg})
	}
	return h.render(c, web.Status(fe), "detail", "admin.detail.title", v)
}

// refused explains why the request's state does not allow the action.
func (h *handler) refused(c *call, r *dsr.Request, action string, form url.Values, te *dsr.TransitionError) web.Response {
	v := h.detailView(c, r)
	keep(v, action, form)
	reason, explain := te.Reason, ""
	switch reason {
	case "already_extended", "deadline_passed":
		explain = i18n.T(c.Lang, "admin.refused."+reason)
	default:
		reason = "not_allowed"
		explain = i18n.T(c.Lang, "admin.refused.not_allowed", statusLabel(c.Lang, r.Status))
	}
	v.Banner = &banner{Class: "err", Heading: i18n.T(c.Lang, "admin.refused.heading"), Text: explain}
	h.log.Info("action refused", "ref", r.Ref, "action", action, "reason", reason)
	return h.render(c, web.Status(te), "detail", "admin.detail.title", v)
}

// conflict shows the current state of a request someone else changed while this DPO acted.
func (h *handler) conflict(c *call, fresh *dsr.Request, action string, form url.Values) web.Response {
	v := h.detailView(c, fresh)
	keep(v, action, form)
	v.Banner = &banner{Class: "warn", Heading: i18n.T(c.Lang, "admin.conflict.heading"), Text: i18n.T(c.Lang, "admin.conflict.body")}
	return h.render(c, web.Status(fault.Conflict), "detail", "admin.detail.title", v)
}
