package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The settings page (/admin/settings) holds what a DPO maintains once for the whole desk. Each
// part is a section, added with one registerSettings: a page of its own under
// /admin/settings/<name>, listed on the settings page with its title and what it is for, and
// its values kept in the table with store.Settings / store.Setting / store.PutSetting under
// the section's name.
type settingsPart struct {
	// Name is the section's path segment and the store's section name. Stable.
	Name string
	// Page is the page file (pages/<Page>.html) that draws View's value as its Main.
	Page string
	// View builds the section's page for a GET.
	View func(h *handler, c *call) (any, error)
	// Save handles a POST of the section's form (its CSRF token already checked), answering
	// with the page again or a redirect.
	Save func(h *handler, c *call, form url.Values) web.Response
}

// Texts of a section: admin.settings.<name>.title and admin.settings.<name>.about.

// settingsParts are the settings' sections, in the order the settings page lists them.
var settingsParts []*settingsPart

// registerSettings adds a part to the settings; a second one with the same name is a
// programming error.
func registerSettings(s *settingsPart) {
	if settingsPartNamed(s.Name) != nil {
		panic("admin: settings section " + s.Name + " registered twice")
	}
	settingsParts = append(settingsParts, s)
}

func settingsPartNamed(name string) *settingsPart {
	for _, s := range settingsParts {
		if s.Name == name {
			return s
		}
	}
	return nil
}

type settingsView struct {
	Sections []sectionLink
}

type sectionLink struct{ Href, Title, About string }

// settings lists the sections (settingsParts).
func (h *handler) settings(c *call) web.Response {
	v := settingsView{}
	for _, s := range settingsParts {
		v.Sections = append(v.Sections, sectionLink{
			Href:  "/admin/settings/" + s.Name,
			Title: i18n.T(c.Lang, "admin.settings."+s.Name+".title"), About: i18n.T(c.Lang, "admin.settings."+s.Name+".about"),
		})
	}
	return h.render(c, http.StatusOK, "settings", "admin.settings.title", v)
}

// settingsSection serves one section's page and form.
func (h *handler) settingsSection(c *call, s *settingsPart) web.Response {
	if c.Method == "POST" {
		form, err := h.form(c)
		if err != nil {
			return h.fail(c, err)
		}
		return s.Save(h, c, form)
	}
	v, err := s.View(h, c)
	if err != nil {
		return h.fail(c, err)
	}
	return h.render(c, http.StatusOK, s.Page, "admin.settings."+s.Name+".title", v)
}

// Reply templates: for each action whose form has a reply to the requester (action.Fields'
// Reply), per request type and language, the text the form starts from. The mail around it
// (greeting, reference, dates, the requester's rights, the deadline) is the mail template's,
// which the desk fills in: a template cannot edit it away.
const repliesSection = "replies"

func replyKey(action string, t dsr.Type, lang i18n.Lang) string {
	return action + "." + string(t) + "." + string(lang)
}

func init() {
	registerSettings(&settingsPart{Name: repliesSection, Page: "settings_replies", View: viewReplies, Save: saveReplies})
}

type repliesView struct {
	CSRF    string
	Actions []string
	Rows    []replyRow
	Edit    *replyEdit
	Banner  *banner
}

type replyRow struct {
	Type  string
	Cells []replyCell
}

type replyCell struct {
	Action, Href string
	Langs        []string
	Current      bool
}

type replyEdit struct {
	Action, Type         string
	ActionLabel, TypeLbl string
	Fixed                string
	Texts                []replyText
	Preview              *mailPreview
}

type replyText struct {
	ID, Lang, Label, Value, Error string
	Version                       int
}

// replyActions are the registered actions that write to the requester.
func replyActions() []*action {
	var out []*action
	for _, a := range registry {
		if a.replyField() != nil && a.Mail != "" {
			out = append(out, a)
		}
	}
	return out
}

func viewReplies(h *handler, c *call) (any, error) {
	saved, err := h.reqs.Settings(c.ctx, repliesSection)
	if err != nil {
		return nil, err
	}
	v := h.repliesView(c, saved)
	if c.Query.Get("saved") != "" {
		v.Banner = &banner{Class: "ok", Heading: i18n.T(c.Lang, "admin.replies.saved")}
	}
	if a, t, ok := parseReplyEdit(c.Query.Get("edit")); ok {
		v.Edit = h.replyEdit(c, a, t, saved, nil, nil)
		v.mark(a.Name, t)
	}
	return v, nil
}

// parseReplyEdit reads "<action>.<type>" of an action that writes to the requester.
func parseReplyEdit(s string) (*action, dsr.Type, bool) {
	name, typ, ok := strings.Cut(s, ".")
	a := actionNamed(name)
	if !ok || a == nil || a.replyField() == nil || a.Mail == "" || !dsr.Type(typ).Valid() {
		return nil, "", false
	}
	return a, dsr.Type(typ), true
}

func (h *handler) repliesView(c *call, saved map[string]store.Setting) *repliesView {
	l := c.Lang
	v := &repliesView{CSRF: c.sess.CSRF}
	acts := replyActions()
	for _, a := range acts {
		v.Actions = append(v.Actions, i18n.T(l, "admin."+a.Name+".choice"))
	}
	for _, t := range dsr.Types {
		row := replyRow{Type: typeLabel(l, t)}
		for _, a := range acts {
			cell := replyCell{Action: i18n.T(l, "admin."+a.Name+".choice"), Href: "/admin/settings/replies?edit=" + url.QueryEscape(a.Name+"."+string(t)) + "#edit"}
			for _, lang := range i18n.Langs {
				if s, ok := saved[replyKey(a.Name, t, lang)]; ok && s.Value != "" {
					cell.Langs = append(cell.Langs, string(lang))
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

func (v *repliesView) mark(action string, t dsr.Type) {
	want := "/admin/settings/replies?edit=" + url.QueryEscape(action+"."+string(t)) + "#edit"
	for i := range v.Rows {
		for j := range v.Rows[i].Cells {
			v.Rows[i].Cells[j].Current = v.Rows[i].Cells[j].Href == want
		}
	}
}

// replyEdit is the form for a's texts for type t: as saved, or as posted (form) with errors.
func (h *handler) replyEdit(c *call, a *action, t dsr.Type, saved map[string]store.Setting, form url.Values, errs map[i18n.Lang]string) *replyEdit {
	l := c.Lang
	e := &replyEdit{
		Action: a.Name, Type: string(t), ActionLabel: i18n.T(l, "admin."+a.Name+".choice"), TypeLbl: typeLabel(l, t),
		Fixed: i18n.T(l, "admin.replies.fixed."+a.Name),
	}
	for _, lang := range i18n.Langs {
		s := saved[replyKey(a.Name, t, lang)]
		rt := replyText{ID: "text." + string(lang), Lang: string(lang), Label: i18n.T(l, "admin.replies.in", i18n.T(l, "admin.langname."+string(lang))),
			Value: s.Value, Version: s.Version, Error: errs[lang]}
		if form != nil {
			rt.Value = formText(form, "text."+string(lang))
			rt.Version, _ = strconv.Atoi(form.Get("version." + string(lang)))
		}
		e.Texts = append(e.Texts, rt)
	}
	// How the DPO's own language's text reads in its mail, for a request filed today.
	if text := e.Texts[langIndex(l)].Value; text != "" {
		e.Preview = h.samplePreview(c, a, t, l, text)
	}
	return e
}

func langIndex(l i18n.Lang) int {
	for i, x := range i18n.Langs {
		if x == l {
			return i
		}
	}
	return 0
}

// samplePreview renders the mail a sends with text as its reply, for a sample request of type
// t filed today in lang: the fixed parts are the mail template's, filled in by the desk.
func (h *handler) samplePreview(c *call, a *action, t dsr.Type, lang i18n.Lang, text string) *mailPreview {
	now := h.now()
	sample := dsr.New("ABCD-EFGH", dsr.Submission{Type: string(t), Name: i18n.T(lang, "admin.replies.sample_name"), Email: "requester@example.com", Lang: string(lang)},
		now, h.cal.Due(now), "")
	sample.Status = dsr.Open
	form := url.Values{a.replyField().Name: {text}}
	for _, f := range a.Fields {
		if f.Choices == nil {
			continue
		}
		if ch := f.Choices(h, c, sample); len(ch) > 0 {
			form.Set(f.Name, ch[len(ch)-1])
		}
	}
	if _, err := a.Apply(h, c, sample, form, now); err != nil {
		return nil
	}
	msg, err := h.notices.Request(a.Mail, sample, "")
	if err != nil {
		return nil
	}
	// The sample's address is made up: the heading says which language the sample is in.
	return &mailPreview{Lead: i18n.T(c.Lang, "admin.replies.preview", i18n.T(c.Lang, "admin.langname."+string(lang))),
		Subject: msg.Subject, Text: msg.Text}
}

func saveReplies(h *handler, c *call, form url.Values) web.Response {
	a, t, ok := parseReplyEdit(form.Get("action") + "." + form.Get("type"))
	if !ok {
		return h.fail(c, fault.BadRequest)
	}
	saved, err := h.reqs.Settings(c.ctx, repliesSection)
	if err != nil {
		return h.fail(c, err)
	}
	errs := map[i18n.Lang]string{}
	for _, lang := range i18n.Langs {
		if code := dsr.CheckText(formText(form, "text."+string(lang)), dsr.MaxMessage, true, false); code != "" {
			errs[lang] = i18n.T(c.Lang, "error."+code)
		}
	}
	status := http.StatusOK
	var b *banner
	if len(errs) > 0 {
		status = web.StatusOf(fault.Invalid)
		b = &banner{Class: "err", Heading: i18n.T(c.Lang, "admin.invalid.heading")}
	} else {
		for _, lang := range i18n.Langs {
			text := formText(form, "text."+string(lang))
			version, _ := strconv.Atoi(form.Get("version." + string(lang)))
			if old := saved[replyKey(a.Name, t, lang)]; old.Value == text && old.Version == version {
				continue
			}
			st := store.Setting{Key: replyKey(a.Name, t, lang), Value: text, By: c.sess.Email, At: h.now(), Version: version}
			err := h.reqs.PutSetting(c.ctx, repliesSection, &st)
			if errors.Is(err, fault.Conflict) {
				status = web.StatusOf(fault.Conflict)
				b = &banner{Class: "warn", Heading: i18n.T(c.Lang, "admin.conflict.heading"), Text: i18n.T(c.Lang, "admin.replies.conflict")}
				break
			}
			if err != nil {
				return h.fail(c, err)
			}
		}
		if b == nil {
			h.log.Info("reply template saved", "action", a.Name, "type", string(t), "dpo", h.actor(c))
			return web.Redirect("/admin/settings/replies?saved=1&edit=" + url.QueryEscape(a.Name+"."+string(t)) + "#edit")
		}
		if saved, err = h.reqs.Settings(c.ctx, repliesSection); err != nil {
			return h.fail(c, err)
		}
	}
	v := h.repliesView(c, saved)
	v.Banner = b
	v.Edit = h.replyEdit(c, a, t, saved, form, errs)
	if status == web.StatusOf(fault.Conflict) {
		// Keep what this DPO typed, against the versions now stored.
		for i := range v.Edit.Texts {
			v.Edit.Texts[i].Version = saved[replyKey(a.Name, t, i18n.Langs[i])].Version
		}
	}
	v.mark(a.Name, t)
	return h.render(c, status, "settings_replies", "admin.settings.replies.title", v)
}
