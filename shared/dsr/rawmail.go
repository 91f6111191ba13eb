package dsr

import "time"

// The mail a request came in, opened by the DPO. The inbound function keeps what the mail
// said with the request and its attachments by name and size (InboundMail); the raw message,
// with the attachments inside it, stays in the inbound bucket until its lifecycle removes it.
// A DPO opens it through a short-lived link the workspace signs, and every opening is an
// audit event: the controller knows who read the requester's attachments, and when.

// ActionMailOpened: a DPO opened the mail the request came in; no note.
const ActionMailOpened Action = "mail_opened"

// CanOpenMail says whether a DPO may open the mail r came in: r came by mail, and its
// personal data is not gone (an expired request's, a dismissed mail's).
func (r *Request) CanOpenMail() error {
	if r.Inbound == nil || r.Inbound.Key == "" || r.Status == Expired {
		return &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	return nil
}

// OpenMail records that a DPO (actor) opened the mail r came in, at now: an audit event, and
// nothing else of the request changes.
func (r *Request) OpenMail(actor string, now time.Time) (Change, error) {
	if err := r.CanOpenMail(); err != nil {
		return Change{}, err
	}
	return r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: ActionMailOpened}, 0), nil
}
