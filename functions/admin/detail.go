package main

import (
	"errors"
	"net/http"
	"sort"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

type detailView struct {
	Account *account
	CSRF    string
	Version int

	Ref, Type, Article, Status, StatusCode  string
	Name, Email, CustomerRef, Lang, Details string

	Received, Verified, Due, Deadline, Closed string
	Urgency                                   *urgency
	Extension                                 *extensionView
	Outcome                                   *outcomeView

	Mails []mailView
	Audit []auditView

	// The actions open in the request's status.
	CanStart, CanClose bool
	// ExtendTo is the date an extension would move the deadline to; empty when the request
	// cannot be extended, and ExtendBlocked then says why (for an active request).
	ExtendTo, ExtendBlocked string
	Categories              []option

	// Form holds what the DPO typed, kept when the page comes back with an error.
	Form      map[string]string
	Errors    map[string]string
	ErrorList []fieldError
	// Banner is the outcome of the last action, or why it was refused.
	Banner *banner
}

// fieldError is one entry of the error summary, linking to its field.
type fieldError struct{ ID, Label, Message string }

type extensionView struct{ At, By, Reason, Deadline string }

type outcomeView struct{ Category, Message string }

type mailView struct {
	Kind, State, StateCode, At string
	Attempts                   int
}

type auditView struct{ At, Actor, Action, Note string }

// banner is a notice at the top of the page; Class is ok, warn or err.
type banner struct {
	Class, Heading, Text string
}

// detail shows one request. ?done=<action> after a successful action says what happened.
func (h *handler) detail(c *call, ref string) web.Response {
	r, err := h.load(c, ref)
	if err != nil {
		return h.fail(c, err)
	}
	v := h.detailView(c, r)
	if done := c.Query.Get("done"); actions[done] {
		v.Banner = h.doneBanner(c.Lang, r, done)
	}
	return h.render(c, http.StatusOK, "detail", "admin.detail.title", v)
}

// load reads a request by a reference as typed or linked.
func (h *handler) load(c *call, ref string) (*dsr.Request, error) {
	canon, ok := dsr.NormalizeReference(ref)
	if !ok {
		return nil, errUnknownRef
	}
	if e, ok := c.takeEarly(canon); ok {
		return e.r, e.err
	}
	return h.reqs.GetRequest(c.ctx, canon)
}

func (h *handler) detailView(c *call, r *dsr.Request) *detailView {
	l, now := c.Lang, h.now()
	v := &detailView{
		Account: c.account(), CSRF: c.sess.CSRF, Version: r.Version,
		Ref: r.Ref, Type: typeLabel(l, r.Type), Article: r.Type.Article(),
		Status: statusLabel(l, r.Status), StatusCode: string(r.Status),
		Name: r.Name, Email: r.Email, CustomerRef: r.CustomerRef, Details: r.Details,
		Received: h.dateTime(l, r.ReceivedAt), Verified: h.dateTime(l, r.VerifiedAt),
		Due: h.longDate(l, r.Due), Deadline: h.longDate(l, r.Deadline()), Closed: h.dateTime(l, r.ClosedAt),
		Form: map[string]string{}, Errors: map[string]string{},
	}
	if lang, ok := i18n.Parse(r.Lang); ok {
		v.Lang = i18n.T(l, "lang."+string(lang))
	}
	if r.Status.Active() {
		u := h.urgency(l, r.Deadline(), now)
		v.Urgency = &u
	}
	if x := r.Extension; x != nil {
		v.Extension = &extensionView{At: h.dateTime(l, x.At), By: actorLabel(l, x.By), Reason: x.Reason, Deadline: h.longDate(l, x.Deadline)}
	}
	if o := r.Outcome; o != nil {
		v.Outcome = &outcomeView{Message: o.Message}
		if o.Category != "" {
			v.Outcome.Category = i18n.T(l, "reject."+o.Category)
		}
	}
	kinds := make([]dsr.MailKind, 0, len(r.Mails))
	for kind := range r.Mails {
		kinds = append(kinds, kind)
	}
	sort.Slice(kinds, func(i, j int) bool {
		a, b := r.Mails[kinds[i]].At, r.Mails[kinds[j]].At
		if !a.Equal(b) {
			return a.Before(b)
		}
		return kinds[i] < kinds[j]
	})
	for _, kind := range kinds {
		m := r.Mails[kind]
		v.Mails = append(v.Mails, mailView{
			Kind: i18n.T(l, "mail.kind."+string(kind)), State: i18n.T(l, "mail.state."+string(m.State)),
			StateCode: string(m.State), At: h.dateTime(l, m.At), Attempts: m.Attempts,
		})
	}
	for _, e := range r.Audit {
		v.Audit = append(v.Audit, auditView{At: h.dateTime(l, e.At), Actor: actorLabel(l, e.Actor), Action: i18n.T(l, "action."+string(e.Action)), Note: e.Note})
	}

	// The page offers what the operations behind its forms allow, asking the same rules.
	v.CanStart = r.Can(dsr.InProgress)
	v.CanClose = r.Can(dsr.Completed)
	var te *dsr.TransitionError
	switch err := r.CanExtend(now); {
	case err == nil:
		v.ExtendTo = h.longDate(l, h.cal.Extended(r.ReceivedAt))
	case errors.As(err, &te) && te.Reason != "not_allowed":
		v.ExtendBlocked = i18n.T(l, "admin.refused."+te.Reason)
	}
	for _, cat := range dsr.RejectionCategories {
		v.Categories = append(v.Categories, option{Value: cat, Label: i18n.T(l, "reject."+cat)})
	}
	return v
}

// doneBanner says what the last action did, and whether the requester's mail went out.
func (h *handler) doneBanner(l i18n.Lang, r *dsr.Request, action string) *banner {
	b := &banner{Class: "ok", Heading: i18n.T(l, "admin.done."+action)}
	if kind, ok := actionMail[action]; ok {
		switch r.Mails[kind].State {
		case dsr.MailSent:
			b.Text = i18n.T(l, "admin.done.mail_sent")
		default:
			b.Class, b.Text = "warn", i18n.T(l, "admin.done.mail_pending")
		}
	}
	return b
}
