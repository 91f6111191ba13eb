package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

// loginTTL is how long a sign-in link works: long enough to switch to the mailbox, short
// enough that a link found later in a forwarded or archived mail is useless.
const loginTTL = 15 * time.Minute

// Sign-in links per DPO address: at most signinMails in each signinMailWindow, so that nobody
// can flood a DPO's mailbox by asking for links in their name (12 an hour at the most). The
// window is shorter than a link's life, so every window that reached the limit sent a link
// that still works for five minutes after it ends: a request over the limit attaches the
// asking browser to that newest link instead (store.AttachBrowser), and the DPO uses the newest
// mail. So strangers asking for the DPO's address cannot keep the DPO out (the links they
// cause land in the DPO's mailbox, not theirs). Addresses not on the DPO list cost nothing and
// get nothing, so they need no limit.
const (
	signinMails      = 2
	signinMailWindow = 10 * time.Minute
)

type signinView struct {
	Email, Next string
	Error       string
	SignedOut   bool
}

type sentView struct{ Minutes int }

type confirmView struct{ Token string }

type bounceView struct{ Href string }

// signinMail is the data of the sign-in mail; the shared mail layout reads Lang and Controller.
type signinMail struct {
	Lang       i18n.Lang
	Controller string
	Link       string
	ValidUntil string
	Minutes    int
}

// signinForm asks for the DPO's address. Someone already signed in goes straight on.
func (h *handler) signinForm(c *call) web.Response {
	next := safeNext(c.Query.Get("next"))
	if c.Cookie(sessionCookieName) != "" && h.authenticate(c) == nil {
		return web.Redirect(next)
	}
	return h.render(c, http.StatusOK, "signin", "admin.signin.title", signinView{Next: next, SignedOut: c.Query.Get("out") == "1"})
}

// signinRequest mails a sign-in link if the address is on the DPO list, or lets the asking
// browser use the newest one if the address has had its links for now. Every address gets the
// same page and the same cookie, after the same minimum time: the answer never says who may
// sign in.
func (h *handler) signinRequest(c *call) web.Response {
	started := time.Now()
	v, err := h.form(c)
	if err != nil {
		return h.fail(c, err)
	}
	email, next := strings.TrimSpace(v.Get("email")), safeNext(v.Get("next"))
	if code := dsr.CheckEmail(email); code != "" {
		return h.render(c, web.StatusOf(fault.Invalid), "signin", "admin.signin.title",
			signinView{Email: email, Next: next, Error: i18n.T(c.Lang, "error."+code)})
	}
	defer h.pad(c, started)

	// The browser that asks gets a secret of its own (the same one if it asked before), and a
	// link signs in only a browser that sends it back.
	browser := c.Cookie(signinCookieName)
	if !wellFormed(browser) {
		browser = token.New()
	}
	c.SetCookie(signinCookie(browser))

	outcome := "not_allowed"
	if addr, allowed := h.dpo(email); allowed {
		outcome, err = h.linkFor(c, addr, next, token.Hash(browser))
		if err != nil {
			// The page stays the same: a different one would tell an outsider the address
			// is a DPO's. The DPO, getting no mail, asks again.
			h.log.Error("signin link", "dpo", h.dpoIndex(addr), errlog.Attr(err))
			outcome = "failed"
		}
	}
	h.log.Info("signin requested", "outcome", outcome)
	return h.render(c, http.StatusOK, "signin_sent", "admin.sent.title", sentView{Minutes: int(loginTTL.Minutes())})
}

// linkFor mails addr a new link for the asking browser, or, with the address over its mail
// limit, lets the browser use the newest link already mailed. It returns what it did.
func (h *handler) linkFor(c *call, addr, next, browser string) (string, error) {
	key, err := h.keys.Load(c.ctx)
	if err != nil {
		return "", err
	}
	forKey := key.Hash("signin", strings.ToLower(addr))
	_, err = h.auth.Allow(c.ctx, "signin-mail", forKey, signinMails, signinMailWindow)
	switch {
	case err == nil:
		return "sent", h.sendSigninLink(c, addr, next, browser, forKey)
	case !errors.Is(err, fault.Limited):
		return "", err
	}
	switch err := h.auth.AttachBrowser(c.ctx, forKey, browser); {
	case err == nil:
		return "attached", nil
	case errors.Is(err, fault.NotFound):
		// The window's links were never stored or mailed (a failure logged then); the
		// next window sends one.
		return "limited", nil
	default:
		return "", err
	}
}

func (h *handler) sendSigninLink(c *call, addr, next, browser, forKey string) error {
	tok := token.New()
	expires := h.now().Add(loginTTL)
	if err := h.auth.CreateLogin(c.ctx, tok, store.Login{Email: addr, Next: next, Expires: expires, Browser: browser, For: forKey}); err != nil {
		return err
	}
	subject, text, html, err := h.notices.Render("signin", signinMail{
		Lang:       c.Lang,
		Controller: h.cfg.ControllerName,
		Link:       h.cfg.BaseURL + "/admin/signin/confirm?token=" + url.QueryEscape(tok),
		ValidUntil: i18n.DateTime(c.Lang, expires.In(h.cal.Location())),
		Minutes:    int(loginTTL.Minutes()),
	})
	if err != nil {
		return err
	}
	return h.sender.Send(c.ctx, notice.Message{To: []string{addr}, Subject: subject, Text: text, HTML: html})
}

// pad waits until the sign-in answer has taken at least signinFloor.
func (h *handler) pad(c *call, started time.Time) {
	wait := h.signinFloor - time.Since(started)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.ctx.Done():
	}
}

// confirmPage shows the button that signs in. It changes nothing: mail scanners fetch links.
func (h *handler) confirmPage(c *call) web.Response {
	tok := c.Query.Get("token")
	if !wellFormed(tok) {
		return h.message(c, http.StatusBadRequest, "admin.link.invalid.title", "admin.link.invalid.body", "/admin/signin", "admin.link.again")
	}
	return h.render(c, http.StatusOK, "confirm", "admin.confirm.title", confirmView{Token: tok})
}

// confirm spends the link, starts a session and goes where the DPO was going. Only the
// browser that asked for the link (its sign-in cookie) may spend it; any other is told to open
// the link there, and the link stays good.
func (h *handler) confirm(c *call) web.Response {
	v, err := h.form(c)
	if err != nil {
		return h.fail(c, err)
	}
	tok, browser := v.Get("token"), c.Cookie(signinCookieName)
	var login store.Login
	switch {
	case !wellFormed(tok):
		err = fmt.Errorf("admin: malformed sign-in token: %w", fault.NotFound)
	case !wellFormed(browser):
		err = fmt.Errorf("admin: no sign-in cookie: %w", fault.Forbidden)
	default:
		login, err = h.auth.ConsumeLogin(c.ctx, tok, token.Hash(browser))
	}
	if err == nil {
		if _, ok := h.dpo(login.Email); !ok {
			err = fmt.Errorf("admin: sign-in for an address no longer allowed: %w", fault.NotFound)
		}
	}
	if errors.Is(err, fault.NotFound) || errors.Is(err, fault.Forbidden) {
		// A second click on a link that already signed this browser in is no failure.
		if c.Cookie(sessionCookieName) != "" && h.authenticate(c) == nil {
			return web.Redirect("/admin")
		}
		if errors.Is(err, fault.Forbidden) {
			h.log.Info("signin link", "outcome", "other_browser")
			return h.message(c, web.StatusOf(fault.Forbidden), "admin.link.browser.title", "admin.link.browser.body", "/admin/signin", "admin.link.again")
		}
		return h.message(c, web.StatusOf(fault.NotFound), "admin.link.used.title", "admin.link.used.body", "/admin/signin", "admin.link.again")
	}
	if err != nil {
		return h.fail(c, err)
	}

	now := h.now()
	id := token.New()
	sess := store.Session{Email: login.Email, CSRF: token.New(), Created: now, Expires: now.Add(h.cfg.SessionTTL)}
	if err := h.auth.CreateSession(c.ctx, id, sess); err != nil {
		return h.fail(c, err)
	}
	if old := c.Cookie(sessionCookieName); wellFormed(old) {
		// One browser, one session: the one it replaces should not outlive it unseen.
		if err := h.auth.DeleteSession(c.ctx, old); err != nil {
			h.log.Warn("replace session", errlog.Attr(err))
		}
	}
	h.log.Info("signed in", "dpo", h.dpoIndex(login.Email))
	c.SetCookie(sessionCookie(id, h.cfg.SessionTTL))
	c.SetCookie(clearSigninCookie())
	return web.Redirect(safeNext(login.Next))
}

// signout ends the session on the server, not only in the browser.
func (h *handler) signout(c *call) web.Response {
	if _, err := h.form(c); err != nil {
		return h.fail(c, err)
	}
	if err := h.auth.DeleteSession(c.ctx, c.sid); err != nil {
		return h.fail(c, err)
	}
	h.log.Info("signed out", "dpo", h.dpoIndex(c.sess.Email))
	c.SetCookie(clearSessionCookie())
	return web.Redirect("/admin/signin?out=1")
}
