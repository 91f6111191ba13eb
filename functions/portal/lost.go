package main

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// Rate-limit scopes of the lost-link form, part of the counter keys.
const (
	scopeEmail = "status_email"
	scopeIP    = "status_ip"
)

// linkWorkers bounds the links issued at once for one address.
const linkWorkers = 8

// lostView is the data of the lost-link form.
type lostView struct {
	Action, Email, Error string
	Lang                 i18n.Lang
	Contact              string
}

// lostForm asks for the address a requester used, to mail them a link to each of their
// requests.
func (h *Handler) lostForm(c *web.Call) web.Response {
	return h.lostPage(c, http.StatusOK, "", "")
}

func (h *Handler) lostPage(c *web.Call, status int, email, errText string) web.Response {
	return h.render(c, "lost", status, i18n.T(c.Lang, "portal.lost.title"), web.Switch(c.Lang, h.cfg.BasePath+"/status/lost"), lostView{
		Action: h.cfg.BasePath + "/status/lost", Email: email, Error: errText, Lang: c.Lang, Contact: h.cfg.DPOContact(),
	})
}

// lost takes an address. Whether it has requests or not, and whether it is over its limit or
// not, the answer is the same page, after the same time: nothing of that is known before the
// answer, because the look-up, the links and the mail are all work after it. Only an address
// that is not an address at all is answered otherwise, which says nothing about anyone.
func (h *Handler) lost(ctx context.Context, c *web.Call) web.Response {
	start := time.Now()
	form, err := c.Form(maxBody)
	if err != nil {
		return h.unreadable(ctx, c, "lost_link", err)
	}
	email := strings.TrimSpace(form.Get("email"))
	if code := dsr.CheckEmail(email); code != "" {
		h.log.InfoContext(ctx, "lost_link", "outcome", "invalid", "code", code)
		return h.lostPage(c, http.StatusBadRequest, email, i18n.T(c.Lang, "error."+code))
	}
	lang, ip := c.Lang, c.ClientIP()
	h.after.Later(ctx, func(ctx context.Context) { h.mailLinks(ctx, email, ip, lang) })
	h.pace.hold(ctx, start)
	return web.Redirect(h.cfg.BasePath + "/status/lost/sent?lang=" + string(lang))
}

// lostSent is the one page every well-formed address gets.
func (h *Handler) lostSent(c *web.Call) web.Response {
	title := i18n.T(c.Lang, "portal.lost.sent.title")
	return h.render(c, "message", http.StatusOK, title, web.Switch(c.Lang, h.cfg.BasePath+"/status/lost/sent"), messageView{
		Heading: title, Text: i18n.T(c.Lang, "portal.lost.sent.text"), Contact: h.cfg.DPOContact(),
	})
}

// lostItem is one request in the lost-link mail.
type lostItem struct {
	Ref, Type, Received, Status, Link string
	at                                time.Time
}

// lostMail is the data of the lost-link mail (templates/lost_link.tmpl).
type lostMail struct {
	Lang       i18n.Lang
	Controller string
	Items      []lostItem
	DPOContact string
}

// mailLinks does the work of the lost-link form after the answer: within the rate limits
// (per address, per source IP), it finds the requests filed from email, issues each that still
// has a page a new link (bound to that address, stored as a hash only), and sends one mail
// listing them, in the language of the form. An address without such requests gets no mail.
func (h *Handler) mailLinks(ctx context.Context, email, ip string, lang i18n.Lang) {
	if !h.allow(ctx, email, ip) {
		return
	}
	refs, err := h.store.RequestRefsByEmail(ctx, email)
	if err != nil {
		h.log.ErrorContext(ctx, "lost_link", "outcome", "unavailable", "step", "lookup", errlog.Attr(err))
		return
	}
	emailHash := dsr.HashEmail(email)
	items := h.issueLinks(ctx, refs, email, emailHash, lang)
	if len(items) == 0 {
		h.log.InfoContext(ctx, "lost_link", "outcome", "none", "found", len(refs))
		return
	}
	slices.SortFunc(items, func(a, b lostItem) int { return b.at.Compare(a.at) })
	subject, text, html, err := h.notices.Render("lost_link", lostMail{Lang: lang, Controller: h.cfg.ControllerName, Items: items, DPOContact: h.cfg.DPOContact()})
	if err == nil {
		err = h.sender.Send(ctx, notice.Message{To: []string{email}, ReplyTo: []string{h.cfg.DPOContact()}, Subject: subject, Text: text, HTML: html})
	}
	if err != nil {
		h.log.ErrorContext(ctx, "lost_link", "outcome", "failed", "links", len(items), errlog.Attr(err))
		return
	}
	h.log.InfoContext(ctx, "lost_link", "outcome", "sent", "links", len(items))
}

// allow counts the request against the per-address and per-source-IP limits, both at once,
// as the intake counts submissions: under keyed hashes (the deployment's key), the address as
// the mailbox it reaches (dsr.Mailbox). A request one limit refuses takes back what it
// counted against the other, so that a source over its own limit cannot spend an address's.
func (h *Handler) allow(ctx context.Context, email, ip string) bool {
	key, err := h.keys.Load(ctx)
	if err != nil {
		h.log.ErrorContext(ctx, "lost_link", "outcome", "unavailable", "step", "key", errlog.Attr(err))
		return false
	}
	var counted [2]store.Counted
	var byEmail, byIP error
	var wg sync.WaitGroup
	wg.Go(func() {
		counted[0], byEmail = h.store.Allow(ctx, scopeEmail, key.Hash(scopeEmail, dsr.Mailbox(email)), h.cfg.RatePerEmail, h.cfg.RateWindow)
	})
	wg.Go(func() {
		counted[1], byIP = h.store.Allow(ctx, scopeIP, key.Hash(scopeIP, ip), h.cfg.RatePerIP, h.cfg.RateWindow)
	})
	wg.Wait()
	if err = errors.Join(byEmail, byIP); err == nil {
		return true
	}
	if errors.Is(err, fault.Limited) {
		h.log.WarnContext(ctx, "lost_link", "outcome", "limited", "email", byEmail != nil, "ip", byIP != nil)
	} else {
		h.log.ErrorContext(ctx, "lost_link", "outcome", "unavailable", "step", "rate_limit", errlog.Attr(err))
	}
	for _, c := range counted {
		if err := h.store.Uncount(ctx, c); err != nil {
			h.log.WarnContext(ctx, "lost_link", "step", "uncount", errlog.Attr(err))
		}
	}
	return false
}

// issueLinks gives each request of refs that has a page for email a new link, a few at once,
// and returns them for the mail.
func (h *Handler) issueLinks(ctx context.Context, refs []string, email, emailHash string, lang i18n.Lang) []lostItem {
	loc := h.cfg.Calendar.Location()
	var mu sync.Mutex
	var items []lostItem
	var wg sync.WaitGroup
	sem := make(chan struct{}, linkWorkers)
	for _, ref := range refs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			tok, hash := token.ForRequest(ref)
			r, err := h.store.AddPageLink(ctx, ref, emailHash, dsr.PageLinkKey(hash, email))
			switch {
			case errors.Is(err, fault.Conflict):
				return // no page for this address: unconfirmed, or answered long ago
			case err != nil:
				h.log.WarnContext(ctx, "lost_link", "outcome", "link_failed", "ref", ref, errlog.Attr(err))
				return
			}
			it := lostItem{
				Ref: r.Ref, Type: i18n.T(lang, "type."+string(r.Type)+".name"),
				Received: i18n.Date(lang, r.ReceivedAt.In(loc)), Status: i18n.T(lang, "portal.status."+string(r.Status)),
				Link: notice.StatusLink(h.cfg.BaseURL, tok), at: r.ReceivedAt,
			}
			mu.Lock()
			items = append(items, it)
			mu.Unlock()
		})
	}
	wg.Wait()
	return items
}
