package main

import (
	"errors"
	"net/url"
	"strconv"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The Art. 15 answer a DPO keeps once (settings, "answer"): for each part of the answer
// (dsr.AnswerParts) a text in each language, which the answer's form of an access request
// opens with in the requester's language, for the DPO to adjust to the person. The purposes,
// categories, recipients and retention of a small company's processing rarely differ from one
// requester to the next.

const answerSection = "answer"

func answerKey(part string, lang i18n.Lang) string { return part + "." + string(lang) }

func init() {
	registerSettings(&settingsPart{Name: answerSection, Page: "settings_answer", View: viewAnswer, Save: saveAnswer})
}

type answerSettingsView struct {
	CSRF string
	// Lang is the language being edited; Langs link to the others.
	Lang   string
	Langs  []web.LangLink
	Parts  []answerPartEdit
	Banner *banner
}

type answerPartEdit struct {
	ID, Name, Label, Hint, Value, Error string
	Version                             int
}

// answerLang is the language whose texts the page edits: ?in= or the posted one, else the
// DPO's own.
func answerLang(c *call, v string) i18n.Lang {
	if l, ok := i18n.Parse(v); ok {
		return l
	}
	return c.Lang
}

func (h *handler) answerSettings(c *call, lang i18n.Lang, saved map[string]store.Setting, form url.Values, errs map[string]string) *answerSettingsView {
	l := c.Lang
	v := &answerSettingsView{CSRF: c.sess.CSRF, Lang: string(lang)}
	for _, x := range i18n.Langs {
		v.Langs = append(v.Langs, web.LangLink{Lang: x, Href: "/admin/settings/answer?in=" + string(x), Current: x == lang})
	}
	for _, p := range dsr.AnswerParts {
		s := saved[answerKey(p, lang)]
		e := answerPartEdit{ID: "answer." + p, Name: p, Label: i18n.T(l, "answer."+p), Hint: i18n.T(l, "admin.deliver.hint."+p),
			Value: s.Value, Version: s.Version, Error: errs[p]}
		if form != nil {
			e.Value = formText(form, p)
			e.Version, _ = strconv.Atoi(form.Get("version." + p))
		}
		v.Parts = append(v.Parts, e)
	}
	return v
}

func viewAnswer(h *handler, c *call) (any, error) {
	saved, err := h.reqs.Settings(c.ctx, answerSection)
	if err != nil {
		return nil, err
	}
	v := h.answerSettings(c, answerLang(c, c.Query.Get("in")), saved, nil, nil)
	if c.Query.Get("saved") != "" {
		v.Banner = &banner{Class: "ok", Heading: i18n.T(c.Lang, "admin.replies.saved")}
	}
	return v, nil
}

func saveAnswer(h *handler, c *call, form url.Values) web.Response {
	lang := answerLang(c, form.Get("in"))
	saved, err := h.reqs.Settings(c.ctx, answerSection)
	if err != nil {
		return h.fail(c, err)
	}
	errs := map[string]string{}
	for _, p := range dsr.AnswerParts {
		if code := dsr.CheckText(formText(form, p), dsr.MaxAnswerText, true, false); code != "" {
			errs[p] = i18n.T(c.Lang, "error."+code)
		}
	}
	if len(errs) > 0 {
		v := h.answerSettings(c, lang, saved, form, errs)
		v.Banner = &banner{Class: "err", Heading: i18n.T(c.Lang, "admin.invalid.heading")}
		return h.render(c, web.StatusOf(fault.Invalid), "settings_answer", "admin.settings.answer.title", v)
	}
	for _, p := range dsr.AnswerParts {
		text := formText(form, p)
		version, _ := strconv.Atoi(form.Get("version." + p))
		if old := saved[answerKey(p, lang)]; old.Value == text && old.Version == version {
			continue
		}
		st := store.Setting{Key: answerKey(p, lang), Value: text, By: c.sess.Email, At: h.now(), Version: version}
		err := h.reqs.PutSetting(c.ctx, answerSection, &st)
		if errors.Is(err, fault.Conflict) {
			if saved, err = h.reqs.Settings(c.ctx, answerSection); err != nil {
				return h.fail(c, err)
			}
			// Keep what this DPO typed, against the versions now stored.
			v := h.answerSettings(c, lang, saved, form, nil)
			for i := range v.Parts {
				v.Parts[i].Version = saved[answerKey(v.Parts[i].Name, lang)].Version
			}
			v.Banner = &banner{Class: "warn", Heading: i18n.T(c.Lang, "admin.conflict.heading"), Text: i18n.T(c.Lang, "admin.replies.conflict")}
			return h.render(c, web.StatusOf(fault.Conflict), "settings_answer", "admin.settings.answer.title", v)
		}
		if err != nil {
			return h.fail(c, err)
		}
	}
	h.log.Info("answer defaults saved", "lang", string(lang), "dpo", h.actor(c))
	return web.Redirect("/admin/settings/answer?saved=1&in=" + string(lang))
}

// answerDefault is part p of the answer the DPO keeps, in r's language, for the answer's
// form to open with; "" if there is none or it cannot be read (the form is still of use).
// The section is read once per call.
func answerDefault(h *handler, c *call, r *dsr.Request, p string) string {
	if c.answers == nil {
		saved, err := h.reqs.Settings(c.ctx, answerSection)
		if err != nil {
			h.log.Warn("answer defaults not read", errlog.Attr(err))
			saved = map[string]store.Setting{}
		}
		c.answers = saved
	}
	lang := i18n.ParseOr(r.Lang, h.cfg.DefaultLang)
	return c.answers[answerKey(p, lang)].Value
}
