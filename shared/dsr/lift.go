package dsr

import "time"

// LiftNotice is the notice Art. 18(3) requires before a restriction is lifted: when the
// controller will lift it, and why.
type LiftNotice struct {
	At     time.Time
	By     string
	From   time.Time
	Reason string
}

// CanNoticeLift says whether the requester may be told now that the restriction will be lifted
// (a *TransitionError whose Reason is "not_allowed" or "lift_noticed"): only a restriction
// that was put in place, once.
func (r *Request) CanNoticeLift() error {
	switch {
	case !r.Type.Rules().Lift || r.Status != Completed || r.Outcome == nil || r.Outcome.Result == ResultNoData:
		return &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	case r.Lift != nil:
		return &TransitionError{From: r.Status, To: r.Status, Reason: "lift_noticed"}
	}
	return nil
}

// NoticeLift records the notice that the restriction will be lifted from `from` for reason,
// and queues its mail. The requester must hear it first, so `from` must be after now: the day
// the notice goes out is never the day the restriction ends.
func (r *Request) NoticeLift(actor, reason string, from, now time.Time) (Change, error) {
	if err := r.CanNoticeLift(); err != nil {
		return Change{}, err
	}
	errs := FieldErrors{}
	switch {
	case from.IsZero():
		errs["from"] = CodeRequired
	case !from.After(now):
		errs["from"] = CodeNotAfterNow
	}
	if code := CheckText(reason, MaxMessage, true, true); code != "" {
		errs["reason"] = code
	}
	if len(errs) > 0 {
		return Change{}, errs
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: ActionLiftNoticed, Note: from.Format(time.RFC3339) + ": " + reason}, FieldLift, MailLift)
	r.Lift = &LiftNotice{At: now.UTC(), By: actor, From: from.UTC(), Reason: reason}
	return c, nil
}
