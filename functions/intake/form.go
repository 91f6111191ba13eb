package main

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// fields lists the form's fields in the order they appear, which is the order of the error
// summary, with the element each summary link points to.
var fields = []struct{ Name, ID string }{
	{"type", "type-" + string(dsr.Types[0])},
	{"name", "name"},
	{"email", "email"},
	{"details", "details"},
	{"customer_ref", "customer_ref"},
}

// maxLen is each text field's cap, for the maxlength attributes and the too-long messages.
var maxLen = map[string]int{
	"name":         dsr.MaxName,
	"email":        dsr.MaxEmail,
	"details":      dsr.MaxDetails,
	"customer_ref": dsr.MaxCustomerRef,
}

// typeOption is one radio button of the request type fieldset.
type typeOption struct {
	Code    string
	ID      string
	Name    string
	Desc    string
	Article string
	Checked bool
}

// fieldError is one entry of the error summary.
type fieldError struct {
	ID      string
	Message string
}

// formView is the data of the form page.
type formView struct {
	Action    string
	Lang      i18n.Lang
	TS        string
	Types     []typeOption
	Values    dsr.Submission
	Errors    map[string]string
	Summary   []fieldError
	Max       map[string]int
	Authority authority
	// Contact is where a person writes who would rather not use the form, or whose
	// confirmation mail does not come (a limit held it back, a filter ate it).
	Contact string
}

// authority is the supervisory authority a requester may complain to.
type authority struct{ Name, URL, Address string }

func (h *Handler) authority(lang i18n.Lang) authority {
	k := "authority." + h.cfg.Calendar.Country()
	return authority{Name: i18n.T(lang, k+".name"), URL: i18n.T(lang, k+".url"), Address: i18n.T(lang, k+".address")}
}

// fieldMessage words a field error for the person who made it: a field's own phrasing where
// one reads better ("Enter your name"), else the shared one.
func fieldMessage(lang i18n.Lang, field, code string) string {
	if k := "intake.error." + field + "." + code; i18n.Has(k) {
		return i18n.T(lang, k)
	}
	if code == dsr.CodeTooLong && maxLen[field] > 0 {
		return i18n.T(lang, "intake.error.too_long", maxLen[field])
	}
	if k := "intake.error." + code; i18n.Has(k) {
		return i18n.T(lang, k)
	}
	return i18n.T(lang, "error."+code)
}

// fieldMessages translates every field error, for the JSON API.
func fieldMessages(lang i18n.Lang, errs dsr.FieldErrors) map[string]string {
	out := make(map[string]string, len(errs))
	for f, code := range errs {
		out[f] = fieldMessage(lang, f, code)
	}
	return out
}

// form shows the empty form.
func (h *Handler) form(c *web.Call) web.Response {
	return h.formPage(c.Lang, dsr.Submission{}, nil, "")
}

// formPage renders the form with values and errors (HTTP 400 when there are errors). ts is
// the render time the person's first view carried, kept so that correcting a mistake does not
// restart the minimum fill time; empty means now.
func (h *Handler) formPage(lang i18n.Lang, values dsr.Submission, errs dsr.FieldErrors, ts string) web.Response {
	if ts == "" {
		ts = strconv.FormatInt(h.now().Unix(), 10)
	}
	v := formView{
		Action:    h.cfg.BasePath + "/requests",
		Lang:      lang,
		TS:        ts,
		Values:    printable(values),
		Errors:    map[string]string{},
		Max:       maxLen,
		Authority: h.authority(lang),
		Contact:   h.cfg.DPOContact(),
	}
	for _, t := range dsr.Types {
		v.Types = append(v.Types, typeOption{
			Code:    string(t),
			ID:      "type-" + string(t),
			Name:    i18n.T(lang, "type."+string(t)+".name"),
			Desc:    i18n.T(lang, "type."+string(t)+".desc"),
			Article: i18n.T(lang, "type.article", t.Article()),
			Checked: values.Type == string(t),
		})
	}
	for _, f := range fields {
		if code, ok := errs[f.Name]; ok {
			msg := fieldMessage(lang, f.Name, code)
			v.Errors[f.Name] = msg
			v.Summary = append(v.Summary, fieldError{ID: f.ID, Message: msg})
		}
	}
	title := i18n.T(lang, "intake.form.title")
	status := http.StatusOK
	if len(v.Summary) > 0 {
		title = i18n.T(lang, "intake.title.error", title)
		status = web.Status(errs)
	}
	return h.render("form", status, lang, title, web.Switch(lang, h.cfg.BasePath+"/"), v)
}

// printable makes values safe to show again: html/template escapes markup but passes invalid
// UTF-8 through, and a page is no place for broken bytes.
func printable(s dsr.Submission) dsr.Submission {
	fix := func(v string) string { return strings.ToValidUTF8(v, "\uFFFD") }
	s.Type, s.Name, s.Email = fix(s.Type), fix(s.Name), fix(s.Email)
	s.Details, s.CustomerRef, s.Lang = fix(s.Details), fix(s.CustomerRef), fix(s.Lang)
	return s
}

// keptTS is the posted render time if it is a plausible one, for re-rendering the form.
func keptTS(ts string, now time.Time) string {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec > now.Unix() || sec <= 0 {
		return ""
	}
	return strconv.FormatInt(sec, 10)
}
