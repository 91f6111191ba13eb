package main

import (
	"errors"
	"net/url"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// Requests from every channel (docs/design.md, channels): a requester who cannot or did not
// follow the confirmation link is confirmed by other means, with the DPO saying how; a
// request whose right is not known yet (a mail to the privacy address, a letter registered as
// unclassified) is given its type, and with it its deadline from the receipt.
func init() {
	register(&action{
		Name: "confirm_other",
		// The requester's receipt, when there is an address to send it to.
		Mail:   dsr.MailReceipt,
		Fields: []field{{Name: "note", Label: "admin.confirm_other.note", Hint: "admin.confirm_other.note_hint"}},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.CanConfirmOther() == nil, ""
		},
		Apply: func(_ *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.ConfirmOther(c.sess.Email, formText(form, "note"), now)
		},
	})
	// A mail the desk held back (spam, a virus, unreadable, an address it cannot write to):
	// the DPO admits it as a person's request, whose sender then gets the confirmation link,
	// or dismisses it, which removes what it held about the sender.
	register(&action{
		Name:   "admit",
		Mail:   dsr.MailVerification,
		Fields: []field{},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			var te *dsr.TransitionError
			switch err := r.CanAdmit(); {
			case err == nil:
				return true, ""
			case errors.As(err, &te) && te.Reason == "no_address":
				return false, "admin.refused.no_address"
			}
			return false, ""
		},
		Apply: func(h *handler, c *call, r *dsr.Request, _ url.Values, now time.Time) (dsr.Change, error) {
			tok, hash := token.ForRequest(r.Ref)
			c.link = notice.VerifyLink(h.cfg.BaseURL, tok)
			return r.Admit(c.sess.Email, hash, now)
		},
	})
	register(&action{
		Name:   "dismiss",
		Danger: true,
		Fields: []field{{Name: "note", Label: "admin.dismiss.note", Optional: true}},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.Status == dsr.Quarantined, ""
		},
		Apply: func(_ *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.Dismiss(c.sess.Email, formText(form, "note"), now)
		},
	})
	register(&action{
		Name: "classify",
		Fields: []field{{Name: "type", Label: "admin.classify.type", Prompt: "admin.classify.choose",
			Choices: func(*handler, *call, *dsr.Request) []string {
				out := make([]string, 0, len(dsr.Types))
				for _, t := range dsr.Types {
					out = append(out, string(t))
				}
				return out
			},
			ChoiceLabel: func(_ *handler, c *call, v string) string { return typeLabel(c.Lang, dsr.Type(v)) },
		}},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.CanClassify() == nil, ""
		},
		HintArgs: func(h *handler, l i18n.Lang, r *dsr.Request, _ time.Time) []any {
			return []any{h.dateTime(l, r.ReceivedAt)}
		},
		Apply: func(h *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.Classify(c.sess.Email, dsr.Type(form.Get("type")), h.cal, h.cfg.PromptWorkingDays, now)
		},
	})
}
