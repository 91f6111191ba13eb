package dsr

import "time"

// Lateness says whether an answer came after the deadline that applied to it, and which one.
// The values are stored (Outcome.Late) and translated ("late.<code>"): never rename one.
type Lateness string

const (
	// OnTime: answered by the deadline that applied.
	OnTime Lateness = ""
	// LatePastDue: after the deadline, which was never extended.
	LatePastDue Lateness = "past_due"
	// LatePastExtended: after the extended deadline too.
	LatePastExtended Lateness = "past_extended"
	// LateRefusalPastMonth: a refusal, or the refused part of a partial answer, after the
	// one-month deadline though within the extended one. Art. 12(4) asks for the reasons for
	// not acting within one month of receipt; an extension gives more time to act, not to
	// refuse.
	LateRefusalPastMonth Lateness = "refusal_past_month"
)

// Refuses reports whether an answer of this kind tells the requester, in whole or in part,
// that we will not act: a refusal, or a partial answer. Those are Art. 12(4) answers.
func (o *Outcome) Refuses() bool {
	return o != nil && (o.Category != "" || o.Result == ResultPartial)
}

// LatenessAt is how late an answer that refuses (in whole or in part) or not, given at, is:
// a refusal is due by the one-month deadline (Art. 12(4), Month), whatever the extension; an
// answer that acts is due by the deadline in force (Art. 12(3), Deadline). Both move on by the
// days the clock stood still, and no time runs while it does.
func (r *Request) LatenessAt(refuses bool, at time.Time) Lateness {
	at = r.clockAt(at)
	inForce := r.Deadline()
	switch {
	case !at.After(r.Month()):
		return OnTime
	case r.Extension == nil:
		if at.After(inForce) {
			return LatePastDue
		}
		return OnTime
	case at.After(inForce):
		return LatePastExtended
	case refuses:
		return LateRefusalPastMonth
	}
	return OnTime
}

// Lateness is how late r's answer was, computed from when it was closed and what it said, so
// that a request answered before lateness was recorded is counted the same way. A request
// that is not answered is OnTime here; whether it is overdue is Deadline's question.
func (r *Request) Lateness() Lateness {
	if r.Outcome == nil || !r.Status.Closed() || r.Status == Expired {
		return OnTime
	}
	return r.LatenessAt(r.Outcome.Refuses(), r.ClosedAt)
}

// Answer is the DPO's account of a request carried out: in full (ResultDone), with nothing to
// carry out because we hold no data (ResultNoData), or in part (ResultPartial), when what was
// kept, its basis and the reasons are the Art. 12(4) part.
type Answer struct {
	Result  Result
	Message string
	Kept    string
	Basis   Basis
	Reason  string
	// NoDelivery confirms that an access or portability request is carried out without
	// anything delivered through the desk (Deliver): no structured answer, no file. Without
	// it such a completion is refused, so that the DPO is asked first ("we hold no data" is
	// ResultNoData, not this).
	NoDelivery bool
}

// CanComplete says whether r may be completed with result res now, and if not, why (a
// *TransitionError whose Reason is "not_allowed" or "result_not_allowed").
func (r *Request) CanComplete(res Result) error {
	if !r.Can(Completed) {
		return &TransitionError{From: r.Status, To: Completed, Reason: "not_allowed"}
	}
	if r.Type == Unclassified {
		return &TransitionError{From: r.Status, To: Completed, Reason: "unclassified"}
	}
	if !r.Type.Rules().Offers(res) {
		return &TransitionError{From: r.Status, To: Completed, Reason: "result_not_allowed"}
	}
	return nil
}

// Complete closes the request as carried out in full; message tells the requester what was
// done. For an access or portability request it states that nothing is delivered through the
// desk (Answer.NoDelivery): a caller that asks the DPO uses Answer.
func (r *Request) Complete(actor, message string, now time.Time) (Change, error) {
	return r.Answer(actor, Answer{Result: ResultDone, Message: message, NoDelivery: true}, now)
}

// Answer closes the request with a (see Answer) and queues the completion mail. A late answer
// is allowed and recorded as late (Outcome.Late); the page warns first (LatenessAt).
func (r *Request) Answer(actor string, a Answer, now time.Time) (Change, error) {
	if err := r.CanComplete(a.Result); err != nil {
		return Change{}, err
	}
	errs := FieldErrors{}
	if code := CheckText(a.Message, MaxMessage, true, true); code != "" {
		errs["message"] = code
	}
	if a.Result == ResultDone && r.Type.Rules().Delivers && !a.NoDelivery {
		errs["confirm"] = CodeConfirmNoDelivery
	}
	partial := a.Result == ResultPartial
	if partial {
		if code := CheckText(a.Kept, MaxMessage, true, true); code != "" {
			errs["kept"] = code
		}
		if a.Basis.Provision().Article == 0 {
			errs["basis"] = CodeInvalidChoice
		}
		if code := CheckText(a.Reason, MaxMessage, true, true); code != "" {
			errs["reason"] = code
		}
	} else {
		a.Kept, a.Basis, a.Reason = "", "", ""
	}
	if len(errs) > 0 {
		return Change{}, errs
	}
	o := &Outcome{Result: a.Result, Message: a.Message, Kept: a.Kept, Basis: a.Basis, Reason: a.Reason}
	o.Late = r.LatenessAt(o.Refuses(), now)
	note := a.Message
	if a.Result != ResultDone {
		note = string(a.Result) + ": " + note
	}
	if partial {
		note += "\n" + string(a.Basis) + ": " + a.Kept + "\n" + a.Reason
	}
	c, err := r.move(Completed, actor, withLate(note, o.Late), now, FieldOutcome, MailCompletion)
	if err != nil {
		return c, err
	}
	r.Outcome = o
	return c, nil
}

// Refusal is the DPO's decision not to act (Art. 12(4)): the ground, the reasons the requester
// is told, and for a manifestly unfounded or excessive request the justification that is kept
// as evidence (Art. 12(5)).
type Refusal struct {
	Ground        Ground
	Reason        string
	Justification string
}

// CanRefuse says whether r may be refused now at all (a *TransitionError whose Reason is
// "not_allowed"); which grounds are open is r.Type.Rules().Grounds.
func (r *Request) CanRefuse() error {
	if !r.Can(Rejected) {
		return &TransitionError{From: r.Status, To: Rejected, Reason: "not_allowed"}
	}
	if r.Type == Unclassified {
		return &TransitionError{From: r.Status, To: Rejected, Reason: "unclassified"}
	}
	return nil
}

// Reject closes the request without acting on it on ground category with the reasons the
// requester is told; see Refuse.
func (r *Request) Reject(actor, category, reason string, now time.Time) (Change, error) {
	return r.Refuse(actor, Refusal{Ground: Ground(category), Reason: reason}, now)
}

// Refuse closes the request without acting on it (Art. 12(4)); the reasons are sent to the
// requester with their right to complain and to a judicial remedy. Only the grounds the type's
// rules allow are accepted: a withdrawal of consent or a marketing objection can be refused
// only when the requester's identity could not be confirmed, an Art. 21(1) objection on the
// merits only for compelling legitimate grounds or legal claims. A manifestly unfounded or
// excessive request needs a justification. A refusal after the one-month deadline is allowed
// and recorded as late (LatenessAt).
func (r *Request) Refuse(actor string, f Refusal, now time.Time) (Change, error) {
	if err := r.CanRefuse(); err != nil {
		return Change{}, err
	}
	errs := FieldErrors{}
	if !r.Type.Rules().Allows(f.Ground) {
		errs["category"] = CodeInvalidChoice
		if f.Ground == "" {
			errs["category"] = CodeRequired
		}
	}
	if code := CheckText(f.Reason, MaxMessage, true, true); code != "" {
		errs["reason"] = code
	}
	if f.Ground.NeedsJustification() {
		if code := CheckText(f.Justification, MaxMessage, true, true); code != "" {
			errs["justification"] = code
		}
	} else {
		f.Justification = ""
	}
	if len(errs) > 0 {
		return Change{}, errs
	}
	late := r.LatenessAt(true, now)
	note := string(f.Ground) + ": " + f.Reason
	if f.Justification != "" {
		note += "\n" + f.Justification
	}
	c, err := r.move(Rejected, actor, withLate(note, late), now, FieldOutcome, MailRejection)
	if err != nil {
		return c, err
	}
	r.Outcome = &Outcome{Category: f.Ground, Message: f.Reason, Justification: f.Justification, Late: late}
	return c, nil
}

// withLate marks an audit note of a late answer, so the trail says it without the outcome.
func withLate(note string, late Lateness) string {
	if late == OnTime {
		return note
	}
	return "[late: " + string(late) + "] " + note
}
