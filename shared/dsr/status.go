package dsr

import (
	"fmt"

	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// Status is where a request is in its lifecycle. Values are stored: never rename one.
type Status string

// The statuses of a request.
const (
	PendingVerification Status = "pending_verification"
	Open                Status = "open"
	InProgress          Status = "in_progress"
	Completed           Status = "completed"
	Rejected            Status = "rejected"
	Expired             Status = "expired"
	// Quarantined (inbound.go) is a mail the desk stored but does not answer until a DPO decides.
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{Quarantined, PendingVerification, Open, InProgress, Completed, Rejected, Expired}

// Action names what happened in an audit event. Values are stored and translated.
type Action string

// Audit actions. The first group are transitions; the rest record events that do not change
// the status.
const (
	ActionSubmitted Action = "submitted"
	ActionVerified  Action = "verified"
	ActionExpired   Action = "expired"
	ActionStarted   Action = "started"
	ActionCompleted Action = "completed"
	ActionRejected  Action = "rejected"

	ActionExtended Action = "extended"
	ActionNoted    Action = "noted"
	ActionReminded Action = "reminded"
	ActionReissued Action = "link_reissued"
	// ActionHeld: stored without its link, the day's ceiling on unconfirmed requests being
	// reached; ActionReleased: its link sent later.
	ActionHeld     Action = "held"
	ActionReleased Action = "released"

	ActionFeeAnnounced      Action = "fee_announced"
	ActionFeeAccepted       Action = "fee_accepted"
	ActionRecipientsTold    Action = "recipients_told"
	ActionRecipientRecorded Action = "recipient_recorded"
	ActionLiftNoticed       Action = "lift_noticed"
)

// transitions is the whole lifecycle: from → to → the audit action that records it.
// Anything not in this table is refused.
var transitions = map[Status]map[Status]Action{
	Quarantined:         {PendingVerification: ActionAdmitted, Expired: ActionDismissed},
	PendingVerification: {Open: ActionVerified, Expired: ActionExpired},
	Open:                {InProgress: ActionStarted, Completed: ActionCompleted, Rejected: ActionRejected},
	InProgress:          {Completed: ActionCompleted, Rejected: ActionRejected},
}

// TransitionError says which change was refused and why. Reason is a stable code that pages
// translate ("not_allowed", "not_extendable", "already_extended", "deadline_passed",
// "result_not_allowed", "fee_not_allowed", "fee_announced", "no_fee", "no_recipients",
// "lift_noticed", …).
type TransitionError struct {
	From   Status
	To     Status
	Reason string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("dsr: %s → %s refused: %s", e.From, e.To, e.Reason)
}

// Unwrap makes every TransitionError a fault.Refused.
func (e *TransitionError) Unwrap() error { return fault.Refused }

// Transition returns the audit action for moving from → to, or a *TransitionError.
func Transition(from, to Status) (Action, error) {
	if a, ok := transitions[from][to]; ok {
		return a, nil
	}
	return "", &TransitionError{From: from, To: to, Reason: "not_allowed"}
}

// Closed reports whether no further work happens on a request in this status.
func (s Status) Closed() bool { return s == Completed || s == Rejected || s == Expired }

// Active reports whether the request is confirmed and waiting for the controller's answer.
func (s Status) Active() bool { return s == Open || s == InProgress }

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}
