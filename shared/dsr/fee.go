package dsr

import (
	"strconv"
	"strings"
	"time"
)

// MaxFee bounds the fee a DPO can announce, in whole units of the deployment's currency: a
// reasonable fee covers administrative costs (Art. 12(5)(a)), and a typo of a few zeros should
// not reach a requester.
const MaxFee = 10000

// Fee is the reasonable fee of Art. 12(5)(a): instead of refusing a manifestly unfounded or
// excessive request, the controller may charge for the administrative costs of answering it.
// The request then waits for the requester to accept; their acceptance is recorded.
type Fee struct {
	At time.Time
	By string
	// Ground is GroundManifestlyUnfounded or GroundExcessive.
	Ground Ground
	// Amount is in whole units of the deployment's currency (kroner).
	Amount int
	// Reason is what the requester is told: why the request is manifestly unfounded or
	// excessive, and how the amount was set.
	Reason string
	// Justification is the evidence, kept and not sent (the burden of proof, Art. 12(5)).
	Justification string

	AcceptedAt time.Time
	AcceptedBy string
	// AcceptNote says how the acceptance came (a reply on a date, a payment).
	AcceptNote string
}

// FeeTerms is what the DPO decides when announcing a fee.
type FeeTerms struct {
	Ground        Ground
	Amount        string
	Reason        string
	Justification string
}

// AwaitingFee reports whether r waits for the requester to accept an announced fee.
func (r *Request) AwaitingFee() bool {
	return r.Fee != nil && r.Fee.AcceptedAt.IsZero() && r.Status.Active()
}

// CanAnnounceFee says whether a fee may be announced on r (a *TransitionError whose Reason is
// "not_allowed", "fee_not_allowed" or "fee_announced"): only on an active request of a type
// that may be refused on the merits, once.
func (r *Request) CanAnnounceFee() error {
	switch {
	case !r.Status.Active():
		return &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	case !r.Type.Rules().Fee:
		return &TransitionError{From: r.Status, To: r.Status, Reason: "fee_not_allowed"}
	case r.Fee != nil:
		return &TransitionError{From: r.Status, To: r.Status, Reason: "fee_announced"}
	}
	return nil
}

// AnnounceFee records a fee (see Fee) and queues the mail that tells the requester the amount,
// the reasons, that nothing more happens until they accept, and their rights. The deadline is
// not stopped: the GDPR does not say it is, so the desk keeps counting.
func (r *Request) AnnounceFee(actor string, t FeeTerms, now time.Time) (Change, error) {
	if err := r.CanAnnounceFee(); err != nil {
		return Change{}, err
	}
	errs := FieldErrors{}
	if !t.Ground.NeedsJustification() {
		errs["ground"] = CodeInvalidChoice
	}
	amount, err := strconv.Atoi(strings.TrimSpace(t.Amount))
	switch {
	case strings.TrimSpace(t.Amount) == "":
		errs["amount"] = CodeRequired
	case err != nil || amount < 1 || amount > MaxFee:
		errs["amount"] = CodeInvalidAmount
	}
	if code := CheckText(t.Reason, MaxMessage, true, true); code != "" {
		errs["reason"] = code
	}
	if code := CheckText(t.Justification, MaxMessage, true, true); code != "" {
		errs["justification"] = code
	}
	if len(errs) > 0 {
		return Change{}, errs
	}
	note := string(t.Ground) + ": " + strconv.Itoa(amount) + "\n" + t.Reason + "\n" + t.Justification
	c := r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: ActionFeeAnnounced, Note: note}, FieldFee, MailFee)
	r.Fee = &Fee{At: now.UTC(), By: actor, Ground: t.Ground, Amount: amount, Reason: t.Reason, Justification: t.Justification}
	return c, nil
}

// CanAcceptFee says whether the requester's acceptance of the fee may be recorded (a
// *TransitionError whose Reason is "not_allowed" or "no_fee").
func (r *Request) CanAcceptFee() error {
	switch {
	case !r.Status.Active():
		return &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	case r.Fee == nil || !r.Fee.AcceptedAt.IsZero():
		return &TransitionError{From: r.Status, To: r.Status, Reason: "no_fee"}
	}
	return nil
}

// AcceptFee records that the requester accepted the fee, and how that came (note); the
// request is then worked on again. Nothing is sent.
func (r *Request) AcceptFee(actor, note string, now time.Time) (Change, error) {
	if err := r.CanAcceptFee(); err != nil {
		return Change{}, err
	}
	if code := CheckText(note, MaxMessage, true, true); code != "" {
		return Change{}, FieldErrors{"note": code}
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: ActionFeeAccepted, Note: note}, FieldFee)
	f := *r.Fee
	f.AcceptedAt, f.AcceptedBy, f.AcceptNote = now.UTC(), actor, note
	r.Fee = &f
	return c, nil
}
