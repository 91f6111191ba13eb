package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/keyed"
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
	Info    info
}

// info is what the form tells about how the request itself is handled (Art. 13): who the
// controller is and how to reach them, how long the request is kept, and where it is hosted.
type info struct {
	Address, Contact, Policy string
	Retention                string
	Region                   string
}

// info words what the form tells about the handling of the request in lang.
func (h *Handler) info(lang i18n.Lang) info {
	days := int(h.cfg.Retention / (24 * time.Hour))
	retention := i18n.T(lang, "intake.info.retention.days", days)
	if days%365 == 0 {
		retention = i18n.T(lang, "intake.info.retention.years", days/365)
	}
	region := h.cfg.Region
	if city, ok := regionCities[region]; ok {
		region += " (" + city + ")"
	}
	return info{Address: h.cfg.ControllerAddress, Contact: h.cfg.DPOContact(), Policy: h.cfg.PrivacyPolicyURL,
		Retention: retention, Region: region}
}

// regionCities names where the European AWS regions are, for a requester who does not know
// the codes.
var regionCities = map[string]string{
	"eu-north-1": "Stockholm", "eu-central-1": "Frankfurt", "eu-central-2": "Zürich", "eu-west-1": "Dublin",
	"eu-west-2": "London", "eu-west-3": "Paris", "eu-south-1": "Milano", "eu-south-2": "Aragón",
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

// The fill-time trap. The form carries the time it was rendered, signed with the deployment's
// key, so a bot can neither post too soon after fetching it nor write a time of its own
// (ts=1 passed every check before it was signed). A signed time older than maxFormAge is no
// bot's but a person's who left the tab open: their form comes back, filled in, to send again.
//
// The trap is a speed bump for simple bots, no more: a bot that fetches the form and waits
// three seconds passes it, and the JSON API, which a company's own site posts to from a form
// of its own, has none. What bounds abuse is the rate limits, the ceiling on unconfirmed
// requests, and confirmation from the mailbox.
const (
	renderPurpose = "form-render"
	maxFormAge    = 24 * time.Hour
)

// renderTime is the form's signed render time at.
func renderTime(key keyed.Key, at time.Time) string {
	return key.Sign(renderPurpose, strconv.FormatInt(at.Unix(), 10))
}

// fill is what a posted render time says about who filled in the form.
type fill int

const (
	byPerson  fill = iota
	byBot          // forged, from the future, or posted too soon
	stale          // signed, but older than maxFormAge
	unstamped      // none: the form was shown while the key could not be read
)

// filled reads a posted render time.
func (h *Handler) filled(key keyed.Key, ts string, now time.Time) fill {
	if ts == "" {
		return unstamped
	}
	msg, ok := key.Open(renderPurpose, ts)
	if !ok {
		return byBot
	}
	sec, err := strconv.ParseInt(msg, 10, 64)
	rendered := time.Unix(sec, 0)
	switch {
	case err != nil || rendered.After(now) || now.Sub(rendered) < h.cfg.MinFill:
		return byBot
	case now.Sub(rendered) > maxFormAge:
		return stale
	}
	return byPerson
}

// keptTS is the posted render time if it is still good, so that correcting a mistake does not
// restart the minimum fill time; else a new one.
func (h *Handler) keptTS(key keyed.Key, ts string, now time.Time) string {
	if msg, ok := key.Open(renderPurpose, ts); ok {
		if sec, err := strconv.ParseInt(msg, 10, 64); err == nil && !time.Unix(sec, 0).After(now) && now.Sub(time.Unix(sec, 0)) <= maxFormAge {
			return ts
		}
	}
	return renderTime(key, now)
}

// form shows the empty form. It is shown even when the key cannot be read (the table is
// unreachable): it tells people their rights and where else to write. It then carries no
// render time, and a post of it comes back to be sent again rather than being taken for a bot's.
func (h *Handler) form(ctx context.Context, c *web.Call) web.Response {
	ts := ""
	if key, err := h.keys.Load(ctx); err == nil {
		ts = renderTime(key, h.now())
	} else {
		h.log.WarnContext(ctx, "form", "outcome", "unstamped", errlog.Attr(err))
	}
	return h.formPage(c.Lang, dsr.Submission{}, nil, ts, "")
}

// formPage renders the form with values and errors (HTTP 400 when there are errors, or a
// notice: the key of a message above them). ts is the signed render time the form carries.
func (h *Handler) formPage(lang i18n.Lang, values dsr.Submission, errs dsr.FieldErrors, ts, notice string) web.Response {
	v := formView{
		Action:    h.cfg.BasePath + "/requests",
		Lang:      lang,
		TS:        ts,
		Values:    printable(values),
		Errors:    map[string]string{},
		Max:       maxLen,
		Authority: h.authority(lang),
		Contact:   h.cfg.DPOContact(),
		Info:      h.info(lang),
	}
	for _, t := range dsr.Types {
		v.Types = append(v.Types, typeOption{
			Code:    string(t),
			ID:      "type-" + string(t),
			Name:    i18n.T(lang, "type."+string(t)+".name"),
			Desc:    i18n.T(lang, "type."+string(t)+".desc"),
			Article: i18n.T(lang, "type.article", i18n.Article(lang, t.Article())),
			Checked: values.Type == string(t),
		})
	}
	if notice != "" {
		v.Summary = append(v.Summary, fieldError{ID: "submit", Message: i18n.T(lang, notice)})
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
