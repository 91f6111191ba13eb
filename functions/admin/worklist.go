package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// row is one request in a list.
type row struct {
	Ref, Href    string
	Type, Status string
	Name, Email  string
	Received     string
	Deadline     string
	Extended     bool
	Closed       string
	Urgency      *urgency
	LinkExpires  string
	// Conversation is where the conversation with the requester stands ("waiting for the
	// requester since …", "replied …"), if anywhere.
	Conversation string
}

type worklistView struct {
	Rows          []row
	Unverified    []row
	StatusOptions []option
	TypeOptions   []option
	Filtered      bool
	Total         int
	Overdue       int
}

// worklist shows the open requests by deadline, the unconfirmed ones apart, and the search.
func (h *handler) worklist(c *call) web.Response {
	status, typ := c.Query.Get("status"), c.Query.Get("type")
	if s := dsr.Status(status); !s.Active() {
		status = ""
	}
	if !dsr.Type(typ).Valid() {
		typ = ""
	}
	active, err := h.reqs.ActiveRequests(c.ctx)
	if err != nil {
		return h.fail(c, err)
	}
	pending, err := h.reqs.UnverifiedRequests(c.ctx)
	if err != nil {
		return h.fail(c, err)
	}
	now := h.now()
	v := worklistView{
		Filtered:    status != "" || typ != "",
		TypeOptions: typeOptions(c.Lang, typ),
		StatusOptions: []option{
			{Value: "", Label: i18n.T(c.Lang, "admin.filter.all_open"), Selected: status == ""},
			{Value: string(dsr.Open), Label: statusLabel(c.Lang, dsr.Open), Selected: status == string(dsr.Open)},
			{Value: string(dsr.InProgress), Label: statusLabel(c.Lang, dsr.InProgress), Selected: status == string(dsr.InProgress)},
		},
	}
	for _, r := range active {
		if now.After(r.Deadline()) {
			v.Overdue++
		}
		if (status != "" && string(r.Status) != status) || (typ != "" && string(r.Type) != typ) {
			continue
		}
		v.Rows = append(v.Rows, h.row(c.Lang, r))
	}
	v.Total = len(active)
	for _, r := range pending {
		rw := h.row(c.Lang, r)
		if r.Held() {
			// Stored during a flood without its link: the sweep sends it on a day with room.
			rw.LinkExpires = i18n.T(c.Lang, "admin.worklist.held")
		} else {
			rw.LinkExpires = h.dateTime(c.Lang, r.TokenExpires)
		}
		v.Unverified = append(v.Unverified, rw)
	}
	return h.render(c, http.StatusOK, "worklist", "admin.worklist.title", v)
}

// row builds the list entry of r; the deadline's urgency only where an answer is still owed.
func (h *handler) row(l i18n.Lang, r *dsr.Request) row {
	rw := row{
		Ref: r.Ref, Href: requestPath(r.Ref),
		Type: typeLabel(l, r.Type), Status: statusLabel(l, r.Status),
		Name: r.Name, Email: r.Email,
		Received: h.date(l, r.ReceivedAt),
		Deadline: h.longDate(l, r.Deadline()),
		Extended: r.Extension != nil,
		Closed:   h.date(l, r.ClosedAt),
	}
	if r.Status.Active() {
		u := h.urgency(l, r.Deadline(), h.now())
		rw.Urgency = &u
		rw.Conversation = h.conversation(l, r)
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
	Kind  string
}

// search finds requests in any status, closed ones too, by reference or by the requester's
// email address. A reference that exists opens the request directly.
func (h *handler) search(c *call) web.Response {
	q := strings.TrimSpace(c.Query.Get("q"))
	if q == "" {
		return web.Redirect("/admin")
	}
	v := searchView{Query: q}
	if ref, ok := dsr.NormalizeReference(q); ok {
		v.Kind = "reference"
		r, err := h.reqs.GetRequest(c.ctx, ref)
		switch {
		case err == nil:
			return web.Redirect(requestPath(r.Ref))
		case !errors.Is(err, fault.NotFound):
			return h.fail(c, err)
		}
		h.log.Info("search", "kind", v.Kind, "results", 0)
		return h.render(c, http.StatusOK, "search", "admin.search.title", v)
	}
	if code := dsr.CheckEmail(q); code != "" {
		v.Error = i18n.T(c.Lang, "admin.search.invalid")
		return h.render(c, web.StatusOf(fault.Invalid), "search", "admin.search.title", v)
	}
	v.Kind = "email"
	rs, err := h.reqs.RequestsByEmail(c.ctx, q)
	if err != nil {
		return h.fail(c, err)
	}
	for _, r := range rs {
		v.Rows = append(v.Rows, h.row(c.Lang, r))
	}
	h.log.Info("search", "kind", v.Kind, "results", len(rs))
	return h.render(c, http.StatusOK, "search", "admin.search.title", v)
}
