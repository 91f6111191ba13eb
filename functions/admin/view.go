package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// dueSoonWorkingDays is where a deadline turns from "on track" to "due soon" on the worklist;
// it matches the sweep's first escalation level by default.
const dueSoonWorkingDays = 5

// messageView is a page that only says something: an error, a refusal, an expired link.
type messageView struct {
	Heading      string
	Body         string
	Href, Action string
}

// render executes page name with the workspace's navigation and language switch.
func (h *handler) render(c *call, status int, name, titleKey string, main any) web.Response {
	t, err := h.pages.Page(name)
	if err != nil {
		h.log.Error("no such page", "page", name, errlog.Attr(err))
		t, _ = h.pages.Page("message")
		status, main = http.StatusInternalServerError, messageView{
			Heading: i18n.T(c.Lang, "admin.error.500.title"), Body: i18n.T(c.Lang, "admin.error.500.body"),
		}
	}
	p := web.Page{
		Lang:       c.Lang,
		Title:      i18n.T(c.Lang, titleKey),
		Controller: h.cfg.ControllerName,
		Owner:      web.Owner{Address: h.cfg.ControllerAddress, Contact: h.cfg.DPOContact(), Policy: h.cfg.PrivacyPolicyURL},
		Switch:     switchLinks(c),
		Tool:       true,
		Main:       main,
	}
	if c.sess != nil {
		p.Nav = h.nav(c)
		p.Account = &web.Account{Email: c.sess.Email, SignOut: "/admin/signout", CSRF: c.sess.CSRF}
	}
	resp := web.Render(t, status, p)
	if c.Method == "HEAD" {
		resp.Body = ""
	}
	return resp
}

// navLinks are the workspace's menu: each entry is a page that exists.
var navLinks = []struct{ href, key string }{
	{"/admin", "admin.nav.worklist"},
	{registerPath, "admin.nav.register"},
	{"/admin/report", "admin.nav.report"},
	{"/admin/digest", "admin.nav.digest"},
	{"/admin/settings", "admin.nav.settings"},
}

// nav is the menu, marking the section the page belongs to (a request belongs to the worklist).
func (h *handler) nav(c *call) []web.NavLink {
	out := make([]web.NavLink, 0, len(navLinks))
	for _, l := range navLinks {
		cur := c.Path == l.href || (l.href != "/admin" && strings.HasPrefix(c.Path, l.href+"/")) ||
			(l.href == "/admin" && (strings.HasPrefix(c.Path, "/admin/requests/") || c.Path == "/admin/search"))
		out = append(out, web.NavLink{Href: l.href, Label: i18n.T(c.Lang, l.key), Current: cur})
	}
	return out
}

// switchLinks links to this very page in each language, keeping its query (filters, the
// sign-in token) so switching loses nothing.
func switchLinks(c *call) []web.LangLink {
	out := make([]web.LangLink, 0, len(i18n.Langs))
	for _, l := range i18n.Langs {
		q := url.Values{}
		for k, v := range c.Query {
			q[k] = v
		}
		q.Set("lang", string(l))
		out = append(out, web.LangLink{Lang: l, Href: c.Path + "?" + q.Encode(), Current: l == c.Lang})
	}
	return out
}

// message renders a message page with an optional link onwards.
func (h *handler) message(c *call, status int, headingKey, bodyKey, href, actionKey string) web.Response {
	v := messageView{Heading: i18n.T(c.Lang, headingKey), Body: i18n.T(c.Lang, bodyKey), Href: href}
	if actionKey != "" {
		v.Action = i18n.T(c.Lang, actionKey)
	}
	return h.render(c, status, "message", headingKey, v)
}

func (h *handler) notFound(c *call) web.Response {
	return h.message(c, http.StatusNotFound, "admin.error.404.title", "admin.error.404.body", "/admin", "admin.back.worklist")
}

// fail answers with the page for err's status (web.Status decides), logging what the DPO
// does not see.
func (h *handler) fail(c *call, err error) web.Response {
	status := web.Status(err)
	if status >= 500 {
		h.log.Error("request failed", "method", c.Method, "path", logPath(c.Path), "status", status, errlog.Attr(err))
	} else {
		h.log.Warn("request refused", "method", c.Method, "path", logPath(c.Path), "status", status, errlog.Attr(err))
	}
	key := "admin.error.500"
	switch status {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict,
		http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusTooManyRequests,
		http.StatusServiceUnavailable:
		key = "admin.error." + strconv.Itoa(status)
	}
	if c.WantsData() {
		return web.ProblemJSON(status, i18n.T(c.Lang, key+".body"), nil)
	}
	href, action := "/admin", "admin.back.worklist"
	if c.sess == nil {
		href, action = "/admin/signin", "admin.link.again"
	}
	if errors.Is(err, fault.Forbidden) && strings.HasPrefix(c.Path, "/admin/requests/") {
		href, action = nextFor(c), "admin.back.request"
	}
	return h.message(c, status, key+".title", key+".body", href, action)
}

// logPath is the route a path matched, for the logs: a mistyped path could hold anything,
// even an address pasted into the URL, so only known shapes and valid references are kept.
func logPath(p string) string {
	rest, ok := strings.CutPrefix(p, "/admin/requests/")
	if !ok {
		switch p {
		case "/admin", "/admin/signin", "/admin/signin/confirm", "/admin/signout", "/admin/search", "/admin/report", "/admin/export.csv", "/admin/audit.csv", "/admin/digest", "/admin/settings":
			return p
		}
		if s, ok := strings.CutPrefix(p, "/admin/settings/"); ok && settingsPartNamed(s) != nil {
			return p
		}
		return "(other)"
	}
	ref, action, _ := strings.Cut(rest, "/")
	if canon, ok := dsr.NormalizeReference(ref); ok {
		ref = canon
	} else {
		ref = "{ref}"
	}
	if action != "" && actionNamed(action) == nil {
		action = "{action}"
	}
	if action == "" {
		return "/admin/requests/" + ref
	}
	return "/admin/requests/" + ref + "/" + action
}

// Formatting in the controller's time zone.

func (h *handler) date(l i18n.Lang, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return i18n.Date(l, t.In(h.cal.Location()))
}

func (h *handler) longDate(l i18n.Lang, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return i18n.LongDate(l, t.In(h.cal.Location()))
}

func (h *handler) dateTime(l i18n.Lang, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return i18n.DateTime(l, t.In(h.cal.Location()))
}

// urgency is how close a deadline is, as a class for the colour and a text label that says
// the same in words (the colour is never the only signal).
type urgency struct {
	Class string
	Label string
}

func (h *handler) urgency(l i18n.Lang, deadline, now time.Time) urgency {
	n := h.cal.WorkingDaysUntil(now, deadline)
	switch {
	case n < 0:
		return urgency{"overdue", plural(l, "admin.due.overdue", -n)}
	case n == 0:
		return urgency{"due-soon", i18n.T(l, "admin.due.today")}
	case n <= dueSoonWorkingDays:
		return urgency{"due-soon", plural(l, "admin.due.left", n)}
	}
	return urgency{"on-track", plural(l, "admin.due.left", n)}
}

// plural picks key.one or key.other; Danish, Norwegian and English all use the singular for
// exactly one.
func plural(l i18n.Lang, key string, n int) string {
	if n == 1 {
		return i18n.T(l, key+".one", n)
	}
	return i18n.T(l, key+".other", n)
}

func typeLabel(l i18n.Lang, t dsr.Type) string { return i18n.T(l, "type."+string(t)+".name") }

func statusLabel(l i18n.Lang, s dsr.Status) string { return i18n.T(l, "status."+string(s)) }

// actorLabel names who did something: a DPO by address, the requester and the system in words.
func actorLabel(l i18n.Lang, actor string) string {
	switch actor {
	case dsr.ActorRequester, dsr.ActorSystem:
		return i18n.T(l, "admin.actor."+actor)
	}
	return actor
}

// option is one entry of a select.
type option struct {
	Value, Label string
	Selected     bool
}

func typeOptions(l i18n.Lang, selected string) []option {
	out := []option{{Value: "", Label: i18n.T(l, "admin.filter.all_types"), Selected: selected == ""}}
	for _, t := range dsr.Types {
		out = append(out, option{Value: string(t), Label: typeLabel(l, t), Selected: string(t) == selected})
	}
	return out
}

// onTime reports whether a closed request was answered by the deadline that applied to its
// answer: the deadline in force, or for a refusal one month from receipt (dsr.Request.Lateness).
func onTime(r *dsr.Request) bool { return r.Lateness() == dsr.OnTime }

// answered reports whether the request was closed with an answer (not left to expire).
func answered(r *dsr.Request) bool { return r.Status == dsr.Completed || r.Status == dsr.Rejected }

// dpoIndex is a DPO as the logs name them: their place (from 1) in DPO_ADDRESSES, 0 for an
// address not on it. Whoever runs the deployment can tell who that is; a log reader without
// its configuration learns nothing, and no hash of an address is there to reverse.
func (h *handler) dpoIndex(email string) int {
	for i, a := range h.cfg.DPOAddresses {
		if strings.EqualFold(a, strings.TrimSpace(email)) {
			return i + 1
		}
	}
	return 0
}

// actor is the signed-in DPO as the logs name them (dpoIndex).
func (h *handler) actor(c *call) int {
	if c.sess == nil {
		return 0
	}
	return h.dpoIndex(c.sess.Email)
}
