package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The worklist reads one page of one list at a time, and counts what it does not show only
// up to a bound, so a flood of requests (a bot at the public form) costs a page like any
// other, and shows as a count and a warning.
const (
	// listPage is how many requests a page of a list shows.
	listPage = 25
	// countUpTo bounds a count: more shows as "at least".
	countUpTo = 1000
	// floodAt is how many unconfirmed requests at once are out of the ordinary for a small
	// company, and worth a word about a bot.
	floodAt = 100
)

// views are the worklist's lists, in the order of its tabs. "open" is the default.
var views = []string{"open", "waiting", "closed", "all"}

// viewGroups are the groups a view lists ("open" reads the sweep index by deadline instead).
var viewGroups = map[string][]dsr.Group{
	"waiting": {dsr.GroupWaiting},
	"closed":  {dsr.GroupClosed},
	"all":     dsr.Groups,
}

// row is one request in a list.
type row struct {
	Ref, Href    string
	Type, Status string
	Name, Email  string
	Received     string
	// When says where the request stands in time: its deadline (with Urgency) while an answer
	// is owed, when its link expires while unconfirmed, when it was closed.
	When     string
	Extended bool
	Urgency  *urgency
	// Conversation is where the conversation with the requester stands ("waiting for the
	// requester since …", "replied …"), if anywhere.
	Conversation string
}

type tab struct {
	Label, Href string
	Count       string
	Current     bool
}

type worklistView struct {
	View        string
	Tabs        []tab
	TypeOptions []option
	Type        string
	Rows        []row
	Next        string
	// Overdue and Open summarise the open requests; Flood is set when unusually many
	// requests wait for confirmation, with their count.
	Open, Overdue string
	Flood         string
	First         bool
}

// worklist shows one list (?view=open|waiting|closed|all, of one ?type= or all), a page at a
// time (?after=), with every list's count in its tab.
func (h *handler) worklist(c *call) web.Response {
	view, typ, after := c.Query.Get("view"), c.Query.Get("type"), c.Query.Get("after")
	if !contains(views, view) {
		view = "open"
	}
	if !dsr.Type(typ).Valid() {
		typ = ""
	}
	var (
		page                    store.Page
		open, waiting, overdue  int
		openMore, waitMore, odM bool
		errs                    [4]error
		wg                      sync.WaitGroup
	)
	wg.Go(func() {
		if view == "open" {
			page, errs[0] = h.reqs.OpenPage(c.ctx, dsr.Type(typ), after, listPage)
		} else {
			page, errs[0] = h.reqs.GroupPage(c.ctx, viewGroups[view], dsr.Type(typ), after, listPage)
		}
	})
	wg.Go(func() { open, openMore, errs[1] = h.reqs.CountQueue(c.ctx, dsr.QueueOpen, countUpTo) })
	wg.Go(func() { waiting, waitMore, errs[2] = h.reqs.CountQueue(c.ctx, dsr.QueueUnverified, countUpTo) })
	wg.Go(func() { overdue, odM, errs[3] = h.reqs.Overdue(c.ctx, h.now(), countUpTo) })
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		if errors.Is(err, fault.BadRequest) {
			return web.Redirect(h.listPath(view, typ, ""))
		}
		return h.fail(c, err)
	}
	l := c.Lang
	v := worklistView{
		View: view, Type: typ, TypeOptions: typeOptions(l, typ), First: after == "",
		Open: count(l, open, openMore), Overdue: count(l, overdue, odM),
	}
	counts := map[string]string{"open": v.Open, "waiting": count(l, waiting, waitMore)}
	for _, name := range views {
		v.Tabs = append(v.Tabs, tab{Label: i18n.T(l, "admin.view."+name), Href: h.listPath(name, typ, ""), Count: counts[name], Current: name == view})
	}
	if waiting >= floodAt {
		v.Flood = counts["waiting"]
	}
	for _, r := range page.Requests {
		v.Rows = append(v.Rows, h.row(l, r))
	}
	if page.Next != "" {
		v.Next = h.listPath(view, typ, page.Next)
	}
	return h.render(c, http.StatusOK, "worklist", "admin.worklist.title", v)
}

// listPath is the worklist's address for a view, type and page.
func (h *handler) listPath(view, typ, after string) string {
	q := url.Values{}
	if view != "open" {
		q.Set("view", view)
	}
	if typ != "" {
		q.Set("type", typ)
	}
	if after != "" {
		q.Set("after", after)
	}
	if len(q) == 0 {
		return "/admin"
	}
	return "/admin?" + q.Encode()
}

// count writes a bounded count: "1000+" once the bound is reached.
func count(l i18n.Lang, n int, more bool) string {
	if more {
		return i18n.T(l, "admin.count.more", n)
	}
	return strconv.Itoa(n)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// row builds the list entry of r.
func (h *handler) row(l i18n.Lang, r *dsr.Request) row {
	rw := row{
		Ref: r.Ref, Href: requestPath(r.Ref),
		Type: typeLabel(l, r.Type), Status: statusLabel(l, r.Status),
		Name: r.Name, Email: r.Email,
		Received: h.date(l, r.ReceivedAt),
		Extended: r.Extension != nil,
	}
	switch r.Group() {
	case dsr.GroupOpen:
		u := h.urgency(l, r.Deadline(), h.now())
		rw.Urgency, rw.When = &u, h.longDate(l, r.Deadline())
		rw.Conversation = h.conversation(l, r)
	case dsr.GroupWaiting:
		if r.Held() {
			// Stored during a flood without its link: the sweep sends it on a day with room.
			rw.When = i18n.T(l, "admin.worklist.held")
		} else {
			rw.When = i18n.T(l, "admin.row.link_expires", h.dateTime(l, r.TokenExpires))
		}
	default:
		rw.When = i18n.T(l, "admin.closed_on", h.date(l, r.ClosedAt))
	}
	return rw
}

// conversation says where the conversation with the requester of an open request stands, for
// its row: waiting for them (and whether the clock stands still), or their reply not yet
// acted on.
func (h *handler) conversation(l i18n.Lang, r *dsr.Request) string {
	switch st, since := r.Conversation(); st {
	case dsr.ConversationWaiting:
		w := i18n.T(l, "admin.conversation.waiting", h.date(l, since))
		if p := r.Paused(); p != nil {
			w += " · " + i18n.T(l, "admin.conversation.paused", h.date(l, p.From))
		}
		return w
	case dsr.ConversationReplied:
		return i18n.T(l, "admin.conversation.replied", h.dateTime(l, since))
	}
	return ""
}

type searchView struct {
	Query string
	Error string
	Rows  []row
	Next  string
	First bool
}

// search finds requests in any status, closed ones too, by reference, name, email address or
// customer number, any part of a word, however typed (dsr.ParseQuery), from the search
// entries on the workspace index. A whole reference that exists opens the request.
func (h *handler) search(c *call) web.Response {
	typed := strings.TrimSpace(c.Query.Get("q"))
	if typed == "" {
		return web.Redirect("/admin")
	}
	after := c.Query.Get("after")
	v := searchView{Query: typed, First: after == ""}
	if ref, ok := dsr.NormalizeReference(typed); ok && after == "" {
		r, err := h.reqs.GetRequest(c.ctx, ref)
		switch {
		case err == nil:
			return web.Redirect(requestPath(r.Ref))
		case !errors.Is(err, fault.NotFound):
			return h.fail(c, err)
		}
	}
	q, ok := dsr.ParseQuery(typed)
	if !ok || len(typed) > 200 {
		v.Error = i18n.T(c.Lang, "admin.search.invalid", dsr.MinSearchWord)
		return h.render(c, web.StatusOf(fault.Invalid), "search", "admin.search.title", v)
	}
	page, err := h.reqs.SearchPage(c.ctx, q, after, listPage)
	if errors.Is(err, fault.BadRequest) {
		return web.Redirect("/admin/search?q=" + url.QueryEscape(typed))
	}
	if err != nil {
		return h.fail(c, err)
	}
	for _, r := range page.Requests {
		v.Rows = append(v.Rows, h.row(c.Lang, r))
	}
	if page.Next != "" {
		v.Next = "/admin/search?" + url.Values{"q": {typed}, "after": {page.Next}}.Encode()
	}
	h.log.Info("search", "results", len(page.Requests), "more", page.Next != "")
	return h.render(c, http.StatusOK, "search", "admin.search.title", v)
}
