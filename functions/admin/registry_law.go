package main

import (
	"net/url"
	"slices"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// The actions the law adds for some types of request (dsr.Type.Rules): answering that we hold
// no data, a partly carried out erasure, the fee of Art. 12(5)(a) and its acceptance, the
// notices to the recipients of the data (Art. 19) and the checklist of who was told, and the
// notice before a restriction is lifted (Art. 18(3)). Each page offers only what the request's
// rules allow; the dsr method refuses the rest.
func init() {
	register(&action{
		Name:   "no_data",
		Mail:   dsr.MailCompletion,
		Fields: []field{{Name: "message", Label: "admin.no_data.message", Hint: "admin.no_data.hint"}},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.CanComplete(dsr.ResultNoData) == nil, ""
		},
		Warn: lateWarning(false),
		Apply: func(_ *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.Answer(c.sess.Email, dsr.Answer{Result: dsr.ResultNoData, Message: formText(form, "message")}, now)
		},
	})
	register(&action{
		Name: "partial",
		Mail: dsr.MailCompletion,
		Fields: []field{
			{Name: "message", Label: "admin.partial.message", Hint: "admin.partial.message_hint"},
			{Name: "kept", Label: "admin.partial.kept", Hint: "admin.partial.kept_hint"},
			{Name: "basis", Label: "admin.partial.basis", Choices: bases, ChoiceKey: "basis.", Prompt: "admin.partial.choose"},
			{Name: "reason", Label: "admin.partial.reason", Hint: "admin.partial.reason_hint"},
		},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.CanComplete(dsr.ResultPartial) == nil, ""
		},
		Warn: lateWarning(true),
		Apply: func(_ *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.Answer(c.sess.Email, dsr.Answer{Result: dsr.ResultPartial, Message: formText(form, "message"),
				Kept: formText(form, "kept"), Basis: dsr.Basis(form.Get("basis")), Reason: formText(form, "reason")}, now)
		},
	})
	register(&action{
		Name: "fee",
		Mail: dsr.MailFee,
		Fields: []field{
			{Name: "ground", Label: "admin.fee.ground", Choices: feeGrounds, ChoiceKey: "reject.", Prompt: "admin.reject.choose"},
			{Name: "amount", Label: "admin.fee.amount", Hint: "admin.fee.amount_hint", Input: "text"},
			{Name: "reason", Label: "admin.fee.reason", Hint: "admin.reject.reason_hint"},
			{Name: "justification", Label: "admin.reject.justification", Hint: "admin.fee.justification_hint"},
		},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.CanAnnounceFee() == nil, ""
		},
		Apply: func(_ *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.AnnounceFee(c.sess.Email, dsr.FeeTerms{Ground: dsr.Ground(form.Get("ground")), Amount: form.Get("amount"),
				Reason: formText(form, "reason"), Justification: formText(form, "justification")}, now)
		},
	})
	register(&action{
		Name:   "fee_accepted",
		Fields: []field{{Name: "note", Label: "admin.fee_accepted.note", Hint: "admin.fee_accepted.note_hint"}},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.CanAcceptFee() == nil, ""
		},
		Apply: func(_ *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.AcceptFee(c.sess.Email, formText(form, "note"), now)
		},
	})
	register(&action{
		Name:         "recipients",
		ToRecipients: true,
		Fields: []field{
			{Name: "recipients", Label: "admin.recipients.who", Hint: "admin.recipients.who_hint", Multiple: true,
				Choices: openRecipients, ChoiceLabel: recipientLabel},
			{Name: "instruction", Label: "admin.recipients.instruction", Hint: "admin.recipients.instruction_hint"},
		},
		Offered: recipientsOffered,
		Apply: func(h *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			rs, err := h.recipientsNamed(c, form["recipients"])
			if err != nil {
				return dsr.Change{}, err
			}
			return r.TellRecipients(c.sess.Email, rs, formText(form, "instruction"), now)
		},
	})
	register(&action{
		Name: "recipient_recorded",
		Fields: []field{
			{Name: "recipient", Label: "admin.recipient_recorded.who", Choices: openRecipients, ChoiceLabel: recipientLabel,
				Prompt: "admin.recipient_recorded.choose"},
			{Name: "means", Label: "admin.recipient_recorded.means", Choices: func(*handler, *call, *dsr.Request) []string {
				return []string{string(dsr.ToldOtherwise), string(dsr.NotDisclosed)}
			}, ChoiceKey: "means.", Prompt: "admin.recipient_recorded.choose"},
			{Name: "note", Label: "admin.recipient_recorded.note", Hint: "admin.recipient_recorded.note_hint"},
		},
		Offered: recipientsOffered,
		Apply: func(h *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			rs, err := h.recipientsNamed(c, []string{form.Get("recipient")})
			if err != nil {
				return dsr.Change{}, err
			}
			x := dsr.Recipient{}
			if len(rs) == 1 {
				x = rs[0]
			}
			return r.RecordRecipient(c.sess.Email, x, dsr.Means(form.Get("means")), formText(form, "note"), now)
		},
	})
	register(&action{
		Name: "lift",
		Mail: dsr.MailLift,
		Fields: []field{
			{Name: "from", Label: "admin.lift.from", Hint: "admin.lift.from_hint", Input: "date"},
			{Name: "reason", Label: "admin.lift.reason", Hint: "admin.reject.reason_hint"},
		},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.CanNoticeLift() == nil, ""
		},
		Apply: func(h *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.NoticeLift(c.sess.Email, formText(form, "reason"), h.localDay(form.Get("from")), now)
		},
	})
	// A note is for anything else, whatever the request: it stays the last choice.
	if i := slices.IndexFunc(registry, func(a *action) bool { return a.Name == "note" }); i >= 0 {
		note := registry[i]
		registry = append(slices.Delete(registry, i, i+1), note)
	}
}

// lateWarning warns, on the form and the preview of an answer, that it would come after the
// deadline that applies to it (dsr.Request.LatenessAt): allowed, recorded as late, and
// counted late by the report. refuses is whether the answer refuses, in whole or in part.
func lateWarning(refuses bool) func(h *handler, l i18n.Lang, r *dsr.Request, now time.Time) string {
	return func(h *handler, l i18n.Lang, r *dsr.Request, now time.Time) string {
		switch r.LatenessAt(refuses, now) {
		case dsr.LatePastDue:
			return i18n.T(l, "admin.late.past_due", h.longDate(l, r.Due))
		case dsr.LatePastExtended:
			return i18n.T(l, "admin.late.past_extended", h.longDate(l, r.Deadline()))
		case dsr.LateRefusalPastMonth:
			return i18n.T(l, "admin.late.refusal_past_month", h.longDate(l, r.Due))
		}
		return ""
	}
}

// bases are the points of Art. 17(3) a partial erasure may keep data on.
func bases(*handler, *call, *dsr.Request) []string {
	out := make([]string, 0, len(dsr.Bases))
	for _, b := range dsr.Bases {
		out = append(out, string(b))
	}
	return out
}

// feeGrounds are the grounds on which Art. 12(5)(a) allows a fee.
func feeGrounds(*handler, *call, *dsr.Request) []string {
	return []string{string(dsr.GroundManifestlyUnfounded), string(dsr.GroundExcessive)}
}

// recipientsOffered offers the Art. 19 actions to a request whose type has recipients to tell,
// while there is one in the register not yet on its checklist. A register that cannot be
// read offers them anyway: the action's own read then says what failed.
func recipientsOffered(h *handler, c *call, r *dsr.Request, _ time.Time) (bool, string) {
	if r.CanTellRecipients() != nil {
		return false, ""
	}
	g, err := h.register(c)
	if err != nil {
		return true, ""
	}
	if len(g.Recipients) == 0 {
		return false, "admin.recipients.none"
	}
	if len(r.Open(g)) == 0 {
		return false, "admin.recipients.all_done"
	}
	return true, ""
}

// openRecipients are the register's recipients not yet on r's checklist, by ID.
func openRecipients(h *handler, c *call, r *dsr.Request) []string {
	g, err := h.register(c)
	if err != nil {
		return nil
	}
	var out []string
	for _, x := range r.Open(g) {
		out = append(out, x.ID)
	}
	return out
}

// recipientLabel names a recipient of the register by who they are and what they receive.
func recipientLabel(h *handler, c *call, id string) string {
	g, err := h.register(c)
	if err != nil {
		return id
	}
	x, ok := g.Find(id)
	if !ok {
		return id
	}
	return i18n.T(c.Lang, "admin.recipients.label", x.Name, x.Email, x.Receives)
}

// recipientsNamed looks ids up in the register; an id that is not there is left out, which
// the dsr method then refuses as no (or the wrong) choice.
func (h *handler) recipientsNamed(c *call, ids []string) ([]dsr.Recipient, error) {
	g, err := h.register(c)
	if err != nil {
		return nil, err
	}
	var out []dsr.Recipient
	for _, id := range ids {
		if x, ok := g.Find(id); ok {
			out = append(out, x)
		}
	}
	if len(out) != len(ids) {
		return nil, dsr.FieldErrors{"recipients": dsr.CodeInvalidChoice, "recipient": dsr.CodeInvalidChoice}
	}
	return out, nil
}

// register is the recipients register, read once per call.
func (h *handler) register(c *call) (dsr.Register, error) {
	if c.recipients == nil {
		g, err := h.reqs.Recipients(c.ctx)
		if err != nil {
			return dsr.Register{}, err
		}
		c.recipients = &g
	}
	return *c.recipients, nil
}

// localDay is the start of the local day a date field names (yyyy-mm-dd), zero if it names
// none: the day a restriction ends begins at midnight where the controller is.
func (h *handler) localDay(v string) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, v, h.cal.Location())
	if err != nil {
		return time.Time{}
	}
	return d
}
