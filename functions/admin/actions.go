package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

var errUnknownRef = fmt.Errorf("admin: not a reference: %w", fault.NotFound)

// retryAttempts bounds the retries of a change that lost a race and may simply be made again
// on the fresh request (action.Retry).
const retryAttempts = 3

// Steps of an action's form. Posting without a step commits (a script's post, or an action
// without a mail, which has no other step).
const (
	// stepPreview shows the exact mail the action would send, with the confirmation.
	stepPreview = "preview"
	// stepEdit goes back from the preview to the form, with what was typed.
	stepEdit = "edit"
	// stepConfirm commits.
	stepConfirm = "confirm"
)

// act runs one step of action a on a request. To commit, the action's dsr method decides,
// store.Commit writes the change and its audit entry in one conditional write, and the
// requester's mail goes out after the answer.
func (h *handler) act(c *call, ref string, a *action) web.Response {
	form, err := h.form(c)
	if err != nil {
		return h.fail(c, err)
	}
	r, mails, err := h.load(c, ref)
	if err != nil {
		return h.fail(c, err)
	}
	// The DPO decided on the page they saw. If the request has moved since (another DPO acted,
	// a mail came back), they should see what changed before their decision is applied.
	if !a.Retry && form.Get("version") != "" && form.Get("version") != strconv.Itoa(r.Version) {
		return h.conflict(c, r, mails, a, form)
	}
	switch form.Get("step") {
	case stepEdit:
		return h.showForm(c, r, mails, a, form)
	case stepPreview:
		if a.previewed() {
			if resp, shown := h.preview(c, r, mails, a, form); shown {
				return resp
			}
		}
	}
	var ch dsr.Change
	for attempt := 1; ; attempt++ {
		ch, err = a.Apply(h, c, r, form, h.now())
		if resp, done := h.refusal(c, r, mails, a, form, err); done {
			return resp
		}
		err = h.reqs.Commit(c.ctx, r, ch)
		if err == nil {
			break
		}
		if !errors.Is(err, fault.Conflict) {
			return h.fail(c, err)
		}
		fresh, freshMails, freshMsgs, lerr := h.reqs.OpenConversation(c.ctx, r.Ref)
		c.msgs = freshMsgs
		if lerr != nil {
			return h.fail(c, lerr)
		}
		if !a.Retry || attempt == retryAttempts {
			h.log.Info("action conflict", "ref", r.Ref, "action", a.Name, "dpo", h.actor(c))
			return h.conflict(c, fresh, freshMails, a, form)
		}
		r = fresh
	}
	if len(ch.Mails) > 0 {
		// The commit queued the mail; it goes out once the DPO has the answer. A mail that
		// fails, or a run cut short, stays on the request for the sweep to send, and the page
		// says so. The action itself has happened either way.
		link := c.link
		h.after.Later(c.ctx, func(ctx context.Context) {
			if err := h.outbox.Deliver(ctx, r, ch.Mails, link); err != nil {
				h.log.Warn("requester mail", "ref", r.Ref, "action", a.Name, errlog.Attr(err))
			}
		})
	}
	if len(ch.Letters) > 0 {
		// A requester the desk cannot mail gets a letter: its text is kept with the request
		// for the DPO to print and post. Nothing is sent. If it cannot be kept, the letter's
		// page shows it as it reads then.
		h.after.Later(c.ctx, func(ctx context.Context) {
			if err := h.outbox.Keep(ctx, r, ch.Letters); err != nil {
				h.log.Warn("letter", "ref", r.Ref, "action", a.Name, errlog.Attr(err))
			}
		})
	}
	h.log.Info("action", "ref", r.Ref, "type", string(r.Type), "action", a.Name, "status", string(r.Status), "dpo", h.actor(c))
	return web.Redirect(requestPath(r.Ref) + "?done=" + url.QueryEscape(a.Name))
}

// refusal turns what an action's dsr method refused into the page that says so; done is
// false when it did not refuse.
func (h *handler) refusal(c *call, r *dsr.Request, mails []dsr.SentMail, a *action, form url.Values, err error) (web.Response, bool) {
	var fe dsr.FieldErrors
	var te *dsr.TransitionError
	switch {
	case err == nil:
		return web.Response{}, false
	case errors.As(err, &fe):
		return h.invalid(c, r, mails, a, form, fe), true
	case errors.As(err, &te):
		return h.refused(c, r, mails, a, form, te), true
	}
	return h.fail(c, err), true
}

// preview shows the mails a would send, exactly: the action's change is made on a copy of the
// request and each mail it queues rendered from that copy, as the outbox will render it from
// the committed request. Nothing is written. The status page link a mail to the requester
// will carry is issued only when it goes, so it shows with its secret cut out, as the request
// keeps the mail. An action whose change sends nothing this time (a requester confirmed by
// other means who gave no address) has nothing to preview: shown is false, and it commits.
func (h *handler) preview(c *call, r *dsr.Request, mails []dsr.SentMail, a *action, form url.Values) (_ web.Response, shown bool) {
	trial := r.Clone()
	ch, err := a.Apply(h, c, trial, form, h.now())
	if resp, done := h.refusal(c, r, mails, a, form, err); done {
		return resp, true
	}
	if len(ch.Mails)+len(ch.Letters) == 0 {
		return web.Response{}, false
	}
	v := h.detailView(c, r, mails)
	v.Open = h.openAction(c, r, a, form, nil)
	v.markChoice(a)
	for _, kind := range ch.Letters {
		// A letter, for a requester the desk cannot mail: as it will be printed.
		msg, err := h.notices.Letter(kind, trial)
		if err != nil {
			return h.fail(c, err), true
		}
		v.Open.Previews = append(v.Open.Previews, previewOf(c.Lang, "admin.letter.lead", msg))
	}
	for _, kind := range ch.Mails {
		link := ""
		switch {
		case kind.CarriesPageLink():
			link = notice.PreviewStatusLink(h.cfg.BaseURL, r.Ref)
		case kind == dsr.MailVerification:
			link = notice.RedactLink(notice.VerifyLink(h.cfg.BaseURL, r.Ref+"."))
		}
		msg, err := h.notices.Request(kind, trial, link)
		if err != nil {
			return h.fail(c, err), true
		}
		lead := "admin.preview.lead"
		if _, toRecipient := kind.RecipientID(); toRecipient {
			lead = "admin.preview.lead_recipient"
		}
		v.Open.Previews = append(v.Open.Previews, previewOf(c.Lang, lead, msg))
	}
	return h.renderDetail(c, http.StatusOK, v), true
}

// showForm shows a's form again with what the DPO typed.
func (h *handler) showForm(c *call, r *dsr.Request, mails []dsr.SentMail, a *action, form url.Values) web.Response {
	v := h.detailView(c, r, mails)
	v.Open = h.openAction(c, r, a, form, nil)
	v.markChoice(a)
	return h.renderDetail(c, http.StatusOK, v)
}

// invalid shows the form again with each error next to its field.
func (h *handler) invalid(c *call, r *dsr.Request, mails []dsr.SentMail, a *action, form url.Values, fe dsr.FieldErrors) web.Response {
	errs := map[string]string{}
	for f, code := range fe {
		errs[f] = i18n.T(c.Lang, "error."+code)
	}
	v := h.detailView(c, r, mails)
	v.Open = h.openAction(c, r, a, form, errs)
	v.markChoice(a)
	// The summary lists the errors in the order of the form's fields, each naming its field.
	if p := v.Open.Files; p != nil && errs["files"] != "" {
		v.ErrorList = append(v.ErrorList, fieldError{ID: "files", Label: i18n.T(c.Lang, "admin.files.heading"), Message: errs["files"]})
	}
	for _, f := range v.Open.Fields {
		if f.Error != "" {
			v.ErrorList = append(v.ErrorList, fieldError{ID: f.ID, Label: f.Label, Message: f.Error})
		}
	}
	return h.renderDetail(c, web.Status(fe), v)
}

// refused explains why the request's state does not allow the action.
func (h *handler) refused(c *call, r *dsr.Request, mails []dsr.SentMail, a *action, form url.Values, te *dsr.TransitionError) web.Response {
	v := h.detailView(c, r, mails)
	reason, explain := te.Reason, ""
	switch reason {
	case "already_extended", "deadline_passed":
		explain = i18n.T(c.Lang, "admin.refused."+reason)
	default:
		reason = "not_allowed"
		explain = i18n.T(c.Lang, "admin.refused.not_allowed", statusLabel(c.Lang, r.Status))
	}
	v.Banner = &banner{Class: "err", Heading: i18n.T(c.Lang, "admin.refused.heading"), Text: explain}
	v.Open = h.keptText(c, r, a, form)
	h.log.Info("action refused", "ref", r.Ref, "action", a.Name, "reason", reason)
	return h.renderDetail(c, web.Status(te), v)
}

// conflict shows the current state of a request someone else changed while this DPO acted.
func (h *handler) conflict(c *call, fresh *dsr.Request, mails []dsr.SentMail, a *action, form url.Values) web.Response {
	v := h.detailView(c, fresh, mails)
	v.Banner = &banner{Class: "warn", Heading: i18n.T(c.Lang, "admin.conflict.heading"), Text: i18n.T(c.Lang, "admin.conflict.body")}
	if ok, _ := a.Offered(h, c, fresh, h.now()); ok {
		v.Open = h.openAction(c, fresh, a, form, nil)
		v.markChoice(a)
	} else {
		v.Open = h.keptText(c, fresh, a, form)
	}
	return h.renderDetail(c, web.Status(fault.Conflict), v)
}

// keptText is a's form for a request that no longer allows it, kept only so that what the DPO
// typed is not lost: it shows the text without offering to send it.
func (h *handler) keptText(c *call, r *dsr.Request, a *action, form url.Values) *openAction {
	o := h.openAction(c, r, a, form, nil)
	o.Submit, o.Previewed = "", false
	return o
}
