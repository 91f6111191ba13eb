package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// Registering a request that reached the controller by another channel (a mail to a
// colleague, a letter, a call, a visit): the law counts it from its receipt (Art. 12(3)), so
// the DPO gives the time it was received and the deadline runs from then. The page works as
// a request's actions do: one form, then a preview of the exact mail the requester will get
// (the confirmation link, or the receipt when the DPO confirmed who they are by other means)
// with a warning when the address already has an open request, then a confirmation. Only the
// confirmation writes: one PutItem after the session's read, and the mail goes after the
// answer.

// registerPath is the page's route.
const registerPath = "/admin/register"

// receivedLayout is how a datetime-local control posts a local time.
const receivedLayout = "2006-01-02T15:04"

// registerView is the registration page: its form, or its preview.
type registerView struct {
	CSRF    string
	Version int
	// Form is the form's key (dsr.Registration.Form), which every post of it carries.
	Form   string
	Fields []fieldView
	// Previews are the mails the registration will send; Preview is set on the preview step,
	// with or without a mail.
	Preview  bool
	Previews []mailPreview
	// Due says the deadline the request will have, on the preview.
	Due string
	// Duplicates are the address's requests not yet closed, with links to them.
	Duplicates []duplicateView
	ErrorList  []fieldError
}

type duplicateView struct{ Ref, Href, Type, Status, Received string }

// registerPage serves GET and POST /admin/register.
func (h *handler) registerPage(c *call) web.Response {
	if c.Method != "POST" {
		now := h.now().In(h.cal.Location())
		defaults := url.Values{"received_at": {now.Format(receivedLayout)}, "requester_lang": {string(h.cfg.DefaultLang)},
			"form": {token.New()}}
		return h.renderRegister(c, http.StatusOK, &registerView{CSRF: c.sess.CSRF, Form: defaults.Get("form"),
			Fields: h.registerFields(c.Lang, defaults, nil)})
	}
	form, err := h.form(c)
	if err != nil {
		return h.fail(c, err)
	}
	now := h.now()
	g, fe := h.registration(form, now)
	form.Set("form", g.Form)
	if fe != nil || form.Get("step") == stepEdit {
		return h.registerInvalid(c, form, fe)
	}
	due := g.Type.Due(h.cal, g.ReceivedAt, h.cfg.PromptWorkingDays)
	if form.Get("step") == stepPreview {
		return h.registerPreview(c, form, g, due, now)
	}
	// Every post of one form names the request it stores by the form's key: a form posted
	// twice stores one request, and the second post is shown the first's.
	tok, hash := "", ""
	var r, stored *dsr.Request
	for attempt := range retryAttempts {
		ref := dsr.RegistrationReference(g.Form, attempt)
		if g.Identity == dsr.IdentityLink {
			tok, hash = token.ForRequest(ref)
		}
		r = dsr.Registered(ref, g, due, hash, c.sess.Email, now)
		stored, err = h.reqs.RegisterRequest(c.ctx, r)
		if !errors.Is(err, fault.Conflict) {
			break
		}
	}
	if err != nil {
		return h.fail(c, err)
	}
	if !stored.Entered().Equal(r.Entered()) {
		// An earlier post of this form stored it, and sent its mail (or left it to the sweep).
		h.log.Info("action", "ref", stored.Ref, "action", "register", "repeated", true, "dpo", h.actor(c))
		return web.Redirect(requestPath(stored.Ref) + "?done=register")
	}
	r = stored
	link := ""
	if tok != "" {
		link = notice.VerifyLink(h.cfg.BaseURL, tok)
	}
	// The request is stored with its mail queued: one that fails here is the sweep's. Its
	// search entries are written with it, so the next registration finds the address.
	kinds := r.QueuedMails()
	h.after.Later(c.ctx, func(ctx context.Context) {
		if err := h.outbox.DeliverNew(ctx, r, kinds, link); err != nil {
			h.log.Warn("requester mail", "ref", r.Ref, "action", "register", errlog.Attr(err))
		}
	})
	h.log.Info("action", "ref", r.Ref, "type", string(r.Type), "action", "register", "channel", string(r.Channel),
		"status", string(r.Status), "dpo", h.actor(c))
	return web.Redirect(requestPath(r.Ref) + "?done=register")
}

// registration reads the posted form into a normalized registration and validates it at now.
func (h *handler) registration(form url.Values, now time.Time) (dsr.Registration, dsr.FieldErrors) {
	g := dsr.Registration{
		Channel: dsr.Channel(form.Get("channel")), Type: dsr.Type(form.Get("type")),
		Name: form.Get("name"), Email: form.Get("email"), PostalAddress: form.Get("postal_address"),
		Lang: form.Get("requester_lang"), Details: form.Get("details"),
		Identity: form.Get("identity"), IdentityNote: form.Get("identity_note"), Form: form.Get("form"),
	}.Normalize()
	if g.Form == "" || len(g.Form) > 64 {
		// A post from a page older than the form key: it stores once per post, as it did.
		g.Form = token.New()
	}
	// The requester's language is requester_lang: lang is the page's (web.LangPolicy).
	var bad bool
	if v := strings.TrimSpace(form.Get("received_at")); v != "" {
		t, err := time.ParseInLocation(receivedLayout, v, h.cal.Location())
		if err != nil {
			bad = true
		}
		g.ReceivedAt = t
	}
	fe := g.Validate(now)
	if bad {
		if fe == nil {
			fe = dsr.FieldErrors{}
		}
		fe["received_at"] = codeInvalidTime
	}
	if fe != nil {
		return g, fe
	}
	return g, nil
}

// codeInvalidTime: a received-at the datetime control would not have sent.
const codeInvalidTime = "invalid_time"

// registerInvalid shows the form again, with each error next to its field.
func (h *handler) registerInvalid(c *call, form url.Values, fe dsr.FieldErrors) web.Response {
	errs := map[string]string{}
	for f, code := range fe {
		errs[f] = i18n.T(c.Lang, "error."+code)
	}
	v := &registerView{CSRF: c.sess.CSRF, Form: form.Get("form"), Fields: h.registerFields(c.Lang, form, errs)}
	for _, f := range v.Fields {
		if f.Error != "" {
			v.ErrorList = append(v.ErrorList, fieldError{ID: f.ID, Label: f.Label, Message: f.Error})
		}
	}
	status := http.StatusOK
	if fe != nil {
		status = web.Status(fe)
	}
	return h.renderRegister(c, status, v)
}

// registerPreview shows what the registration will do: the deadline, the exact mail, and
// the address's requests not yet closed. Nothing is written.
func (h *handler) registerPreview(c *call, form url.Values, g dsr.Registration, due, now time.Time) web.Response {
	trial := dsr.Registered("XXXX-XXXX", g, due, "", c.sess.Email, now)
	v := &registerView{CSRF: c.sess.CSRF, Form: g.Form, Fields: h.registerFields(c.Lang, form, nil), Preview: true, Due: h.longDate(c.Lang, due)}
	for _, kind := range trial.QueuedMails() {
		link := notice.RedactLink(notice.VerifyLink(h.cfg.BaseURL, trial.Ref+"."))
		if kind.CarriesPageLink() {
			link = notice.PreviewStatusLink(h.cfg.BaseURL, trial.Ref)
		}
		msg, err := h.notices.Request(kind, trial, link)
		if err != nil {
			return h.fail(c, err)
		}
		v.Previews = append(v.Previews, previewOf(c.Lang, "admin.preview.lead", msg))
	}
	if g.Email != "" {
		others, err := h.reqs.RequestsFrom(c.ctx, g.Email)
		if err != nil {
			return h.fail(c, err)
		}
		for _, o := range others {
			if o.Status.Closed() || o.Status == dsr.Expired {
				continue
			}
			v.Duplicates = append(v.Duplicates, duplicateView{Ref: o.Ref, Href: requestPath(o.Ref), Type: typeLabel(c.Lang, o.Type),
				Status: statusLabel(c.Lang, o.Status), Received: h.date(c.Lang, o.ReceivedAt)})
		}
	}
	return h.renderRegister(c, http.StatusOK, v)
}

func (h *handler) renderRegister(c *call, status int, v *registerView) web.Response {
	return h.render(c, status, "register", "admin.register.title", v)
}

// registerFields are the form's fields in order, with form's values and errs.
func (h *handler) registerFields(l i18n.Lang, form url.Values, errs map[string]string) []fieldView {
	choices := func(values []string, label func(string) string) []option {
		out := make([]option, 0, len(values))
		for _, v := range values {
			out = append(out, option{Value: v, Label: label(v)})
		}
		return out
	}
	var channels, types []string
	for _, ch := range dsr.Channels {
		channels = append(channels, string(ch))
	}
	for _, t := range append(slices.Clone(dsr.Types), dsr.Unclassified) {
		types = append(types, string(t))
	}
	langs := make([]string, 0, len(i18n.Langs))
	for _, x := range i18n.Langs {
		langs = append(langs, string(x))
	}
	fields := []struct {
		name, input string
		optional    bool
		options     []option
		prompt      bool
		radio       bool
	}{
		{name: "channel", prompt: true, options: choices(channels, func(v string) string { return i18n.T(l, "channel."+v) })},
		{name: "received_at", input: "datetime-local"},
		{name: "type", prompt: true, options: choices(types, func(v string) string {
			if dsr.Type(v) == dsr.Unclassified {
				return i18n.T(l, "type.unclassified.short")
			}
			return typeLabel(l, dsr.Type(v))
		})},
		{name: "name", input: "text", optional: true},
		{name: "email", input: "email", optional: true},
		{name: "postal_address", optional: true},
		{name: "requester_lang", options: choices(langs, func(v string) string { return i18n.T(l, "admin.langname."+v) })},
		{name: "details", optional: true},
		{name: "identity", radio: true, options: choices([]string{dsr.IdentityOtherMeans, dsr.IdentityLink},
			func(v string) string { return i18n.T(l, "admin.register.identity."+v) })},
		{name: "identity_note", optional: true},
	}
	out := make([]fieldView, 0, len(fields))
	for _, f := range fields {
		fv := fieldView{ID: "register." + f.name, Name: f.name, Label: i18n.T(l, "admin.register."+f.name),
			Value: form.Get(f.name), Error: errs[f.name], Input: f.input, Optional: f.optional, Radio: f.radio}
		if hint := "admin.register." + f.name + "_hint"; i18n.Has(hint) {
			fv.Hint = i18n.T(l, hint)
		}
		for _, o := range f.options {
			o.Selected = o.Value == fv.Value
			fv.Options = append(fv.Options, o)
		}
		if f.prompt {
			fv.Options = append([]option{{Value: "", Label: i18n.T(l, "admin.register.choose")}}, fv.Options...)
		}
		out = append(out, fv)
	}
	return out
}

// registeredMail is the mail a registration sent the requester: the confirmation link, the
// receipt, or none.
func registeredMail(r *dsr.Request) dsr.MailKind {
	for _, k := range []dsr.MailKind{dsr.MailVerification, dsr.MailReceipt} {
		if _, ok := r.Mails[k]; ok {
			return k
		}
	}
	return ""
}
