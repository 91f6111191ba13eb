package main

import (
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// An action is one thing a DPO can do to a request from its page. Adding one is one
// registration (register, below): the page offers it as a choice, shows its form alone when
// chosen (?action=<name>), previews the mail it sends from the very change it would commit,
// asks for confirmation, then commits that change and sends the mail. Nothing else in the
// workspace names an action.
//
// Its texts are message keys: admin.<name>.heading, admin.<name>.about (given HintArgs),
// admin.<name>.submit, admin.<name>.choice (the choice's label) and admin.done.<name> (the
// banner after it), plus each field's own label and hint.
type action struct {
	// Name is the action's path segment (/admin/requests/{ref}/{name}) and ?action= value,
	// and its log name. Stable.
	Name string
	// Fields are what its form asks, in order.
	Fields []field
	// Mail is the mail to the requester its change queues, "" for none. An action with a mail
	// is previewed and confirmed before it is committed; one without is committed at once.
	Mail dsr.MailKind
	// ToRecipients marks an action whose change mails recipients of the data (Art. 19), one
	// mail each: those too are previewed, every one, and confirmed.
	ToRecipients bool
	// Danger marks a choice that refuses the requester (shown in red).
	Danger bool
	// Offered says whether r's page offers the action at now. When it does not but the DPO
	// should know why (the one extension is used up), blocked is the reason's message key.
	// c carries the request's context, for what the offer depends on (the recipients
	// register).
	Offered func(h *handler, c *call, r *dsr.Request, now time.Time) (ok bool, blocked string)
	// HintArgs are the arguments of the form's hint (the date an extension would give), if any.
	HintArgs func(h *handler, l i18n.Lang, r *dsr.Request, now time.Time) []any
	// Warn, if set, is what the form and the preview warn of before the DPO acts (an answer
	// that would be late), "" for nothing.
	Warn func(h *handler, l i18n.Lang, r *dsr.Request, now time.Time) string
	// Apply calls the dsr method that decides the change, with the signed-in DPO as actor
	// (c.sess.Email) and the posted form. Its dsr.FieldErrors name the fields (by Field.Name)
	// that failed. c also carries the request's context, for what the change needs to read
	// (the recipients register).
	Apply func(h *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error)
	// Files marks an action that delivers files: its form lists what the deliveries bucket
	// holds for the request, each with a button to remove it, and offers an upload straight
	// to the bucket (delivery.go).
	Files bool
	// Retry lets a change that lost a race be made again on the fresh request without asking
	// the DPO (a note does not depend on the request's state); otherwise the DPO sees what
	// changed.
	Retry bool
}

// field is one input of an action's form.
type field struct {
	// Name is the posted field's name, and the name dsr.FieldErrors give it.
	Name string
	// Label and Hint are message keys.
	Label, Hint string
	// Choices, if set, makes the field a select of these values for the request, each
	// labelled by the message key ChoiceKey+value (or by ChoiceLabel), after a first empty
	// option labelled Prompt.
	Choices     func(h *handler, c *call, r *dsr.Request) []string
	ChoiceKey   string
	ChoiceLabel func(h *handler, c *call, v string) string
	Prompt      string
	// Multiple makes Choices a set of checkboxes, any number of which may be ticked.
	Multiple bool
	// Input is the control of a field without Choices: "" a text area, "text" one line,
	// "date" a date.
	Input string
	// Reply marks the text the requester reads: it is filled in from the reply template for
	// the request's type and language (settings), which the DPO then edits.
	Reply bool
	// Default, if set, is the text the form opens with, for the DPO to edit (a question's
	// template in the requester's language, the part of the Art. 15 answer the settings
	// keep). c carries the request's context, for what it reads.
	Default func(h *handler, c *call, r *dsr.Request) string
	// Optional marks a field that may be left empty.
	Optional bool
}

// registry holds every action, in the order the page offers them.
var registry []*action

// register adds an action; a second action with the same name is a programming error.
func register(a *action) {
	if actionNamed(a.Name) != nil {
		panic("admin: action " + a.Name + " registered twice")
	}
	registry = append(registry, a)
}

// actionNamed returns the registered action called name, or nil.
func actionNamed(name string) *action {
	for _, a := range registry {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// The actions every deployment has.
func init() {
	register(&action{
		Name: "start",
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.Can(dsr.InProgress), ""
		},
		Apply: func(_ *handler, c *call, r *dsr.Request, _ url.Values, now time.Time) (dsr.Change, error) {
			return r.Start(c.sess.Email, now)
		},
	})
	register(&action{
		Name:   "extend",
		Mail:   dsr.MailExtension,
		Fields: []field{{Name: "reason", Label: "admin.extend.reason", Hint: "admin.extend.reason_hint", Reply: true}},
		Offered: func(_ *handler, _ *call, r *dsr.Request, now time.Time) (bool, string) {
			var te *dsr.TransitionError
			switch err := r.CanExtend(now); {
			case err == nil:
				return true, ""
			case r.Type == dsr.Unclassified && r.Status.Active():
				return false, "admin.refused.unclassified"
			case errors.As(err, &te) && te.Reason != "not_allowed":
				return false, "admin.refused." + te.Reason
			}
			return false, ""
		},
		HintArgs: func(h *handler, l i18n.Lang, r *dsr.Request, _ time.Time) []any {
			return []any{h.longDate(l, h.cal.Extended(r.ReceivedAt))}
		},
		Apply: func(h *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.Extend(c.sess.Email, formText(form, "reason"), h.cal.Extended(r.ReceivedAt), now)
		},
	})
	register(&action{
		Name: "complete",
		Mail: dsr.MailCompletion,
		Fields: []field{
			{Name: "message", Label: "admin.complete.message", Hint: "admin.complete.hint", Reply: true},
			// An access or portability request answered without the desk's delivery: the DPO
			// confirms the requester got their data another way ("no data held" is its own
			// action).
			{Name: "confirm", Label: "admin.complete.confirm", Multiple: true, Choices: confirmNoDelivery, ChoiceKey: "admin.complete.confirm.", Optional: true},
		},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.CanComplete(dsr.ResultDone) == nil, ""
		},
		Warn: lateWarning(false),
		Apply: func(_ *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			confirmed := !r.Type.Rules().Delivers || slices.Contains(form["confirm"], "no_delivery")
			return r.Answer(c.sess.Email, dsr.Answer{Result: dsr.ResultDone, Message: formText(form, "message"), NoDelivery: confirmed}, now)
		},
	})
	register(&action{
		Name:   "reject",
		Mail:   dsr.MailRejection,
		Danger: true,
		Fields: []field{
			{Name: "category", Label: "admin.reject.category", Choices: grounds, ChoiceKey: "reject.", Prompt: "admin.reject.choose"},
			{Name: "reason", Label: "admin.reject.reason", Hint: "admin.reject.reason_hint", Reply: true},
			{Name: "justification", Label: "admin.reject.justification", Hint: "admin.reject.justification_hint"},
		},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) { return r.CanRefuse() == nil, "" },
		Warn:    lateWarning(true),
		Apply: func(_ *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.Refuse(c.sess.Email, dsr.Refusal{Ground: dsr.Ground(form.Get("category")), Reason: formText(form, "reason"),
				Justification: formText(form, "justification")}, now)
		},
	})
	register(&action{
		Name:    "note",
		Fields:  []field{{Name: "note", Label: "admin.note.label"}},
		Offered: func(*handler, *call, *dsr.Request, time.Time) (bool, string) { return true, "" },
		Apply: func(_ *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.AddNote(c.sess.Email, formText(form, "note"), now)
		},
		Retry: true,
	})
}

// confirmNoDelivery is the confirmation a completion without a delivery needs, for a type
// whose answer delivers data; none for the rest.
func confirmNoDelivery(_ *handler, _ *call, r *dsr.Request) []string {
	if r.Type.Rules().Delivers {
		return []string{"no_delivery"}
	}
	return nil
}

// grounds are the refusal grounds r's type allows (dsr.Rules.Grounds).
func grounds(_ *handler, _ *call, r *dsr.Request) []string {
	var out []string
	for _, g := range r.Type.Rules().Grounds {
		out = append(out, string(g))
	}
	return out
}

// The conversation with the requester (docs/design.md): a question for each purpose, each
// opening with that purpose's template in the requester's language, and the revocation of
// the links to the requester's status page.
func init() {
	for _, purpose := range dsr.Purposes {
		fields := []field{{Name: "text", Label: "admin.ask.text", Hint: "admin.ask.text_hint",
			Default: func(h *handler, _ *call, r *dsr.Request) string { return askTemplate(h, r, purpose) }}}
		if purpose == dsr.PurposeIdentity {
			fields = append(fields, field{Name: "pause_reason", Label: "admin.ask.pause_reason", Hint: "admin.ask.pause_hint", Optional: true})
		}
		register(&action{
			Name:   "ask_" + purpose,
			Mail:   dsr.MailQuestion,
			Fields: fields,
			Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
				return r.CanAsk() == nil, ""
			},
			HintArgs: func(h *handler, l i18n.Lang, r *dsr.Request, _ time.Time) []any {
				return []any{h.longDate(l, r.Deadline())}
			},
			Apply: func(_ *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
				return r.Ask(c.sess.Email, purpose, formText(form, "text"), formText(form, "pause_reason"), now)
			},
		})
	}
	register(&action{
		Name:    "revoke_links",
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) { return len(r.PageLinks) > 0, "" },
		Apply: func(_ *handler, c *call, r *dsr.Request, _ url.Values, now time.Time) (dsr.Change, error) {
			return r.RevokePageLinks(c.sess.Email, now)
		},
	})
}

// askTemplate is the question a form of purpose opens with, in the requester's language, for
// the DPO to edit; a question of no set purpose opens empty.
func askTemplate(h *handler, r *dsr.Request, purpose string) string {
	if purpose == dsr.PurposeOther {
		return ""
	}
	lang := i18n.ParseOr(r.Lang, h.cfg.DefaultLang)
	return i18n.T(lang, "admin.ask.template."+purpose)
}

// previewed reports whether a sends mail, and so is previewed and confirmed before it commits.
func (a *action) previewed() bool { return a.Mail != "" || a.ToRecipients }

// replyField is the field of a that the reply template fills in, or nil.
func (a *action) replyField() *field {
	i := slices.IndexFunc(a.Fields, func(f field) bool { return f.Reply })
	if i < 0 {
		return nil
	}
	return &a.Fields[i]
}
