package dsr

import (
	"slices"
	"time"
)

// Clock says which deadline a type of request is answered on.
type Clock int

const (
	// ClockMonth is Art. 12(3): without undue delay and within one month of receipt,
	// extendable once by two further months.
	ClockMonth Clock = iota
	// ClockPrompt is for the rights that must be as easy to use as consent was to give and
	// that leave the controller nothing to weigh: withdrawal of consent (Art. 7(3)) and the
	// objection to direct marketing (Art. 21(2)-(3)). They are acted on without undue delay,
	// never extended, and the desk holds itself to a short clock of a few working days after
	// receipt (the deployment's PromptWorkingDays), on which the sweep escalates them.
	ClockPrompt
)

// Ground is why a DPO refuses to act on a request (Art. 12(4)). The values are stored on the
// outcome (Outcome.Category) and translated ("reject.<ground>"): never rename one.
type Ground string

// The grounds for a refusal. Which ones a type allows is its Rules.Grounds.
const (
	// GroundIdentity: the requester's identity could not be confirmed (Art. 12(2), 12(6)).
	// The only ground a withdrawal of consent or a marketing objection can be refused on.
	GroundIdentity Ground = "identity_not_confirmed"
	// GroundManifestlyUnfounded and GroundExcessive are Art. 12(5)(b): the controller
	// carries the burden of proof, so each needs a written justification that is kept.
	GroundManifestlyUnfounded Ground = "manifestly_unfounded"
	GroundExcessive           Ground = "excessive"
	// GroundLegalExemption: an exemption in Union or national law applies (Art. 23, e.g.
	// Art. 17(3) for an erasure refused in full).
	GroundLegalExemption Ground = "legal_exemption"
	// GroundNotApplicable: the processing is not one the right covers (portability needs
	// consent or a contract and automated means, Art. 20(1)).
	GroundNotApplicable Ground = "not_applicable"
	// GroundCompelling and GroundLegalClaims are the only grounds on the merits on which an
	// objection under Art. 21(1) can be refused.
	GroundCompelling  Ground = "compelling_grounds"
	GroundLegalClaims Ground = "legal_claims"
	GroundOther       Ground = "other"
	// GroundNoData is no longer a ground: "we hold no data about you" answers the request
	// (ResultNoData, EDPB Guidelines 01/2022 on the right of access). Refusals stored before
	// carry it and are still shown.
	GroundNoData Ground = "no_data"
)

// NeedsJustification reports whether a refusal or a fee on ground g must be justified in
// writing and the justification kept: Art. 12(5) puts the burden of proof on the controller.
func (g Ground) NeedsJustification() bool {
	return g == GroundManifestlyUnfounded || g == GroundExcessive
}

// Result is how a completed request was answered. The values are stored on the outcome
// (Outcome.Result): never rename one.
type Result string

// The results of a completed request. Which ones a type allows is its Rules.Results.
const (
	// ResultDone: the request was carried out in full.
	ResultDone Result = "done"
	// ResultNoData: we hold no data about the requester. It answers the request (for access,
	// the confirmation Art. 15(1) asks for) and is not a refusal.
	ResultNoData Result = "no_data"
	// ResultPartial: partly carried out; what was kept and on which legal basis is an
	// Art. 12(4) answer for the rest.
	ResultPartial Result = "partial"
)

// Basis is the legal basis on which data an erasure leaves are kept (Art. 17(3)). The values
// are stored (Outcome.Basis) and translated ("basis.<code>"): never rename one.
type Basis string

// The exceptions of Art. 17(3).
const (
	BasisExpression      Basis = "art17_3_a" // freedom of expression and information
	BasisLegalObligation Basis = "art17_3_b" // a legal obligation, e.g. bookkeeping rules
	BasisPublicHealth    Basis = "art17_3_c" // public health
	BasisArchiving       Basis = "art17_3_d" // archiving, research, statistics
	BasisLegalClaims     Basis = "art17_3_e" // legal claims
)

// Bases lists the exceptions of Art. 17(3) in the regulation's order.
var Bases = []Basis{BasisExpression, BasisLegalObligation, BasisPublicHealth, BasisArchiving, BasisLegalClaims}

// Provision is the point of Art. 17(3) the basis is.
func (b Basis) Provision() Provision {
	if !slices.Contains(Bases, b) {
		return Provision{}
	}
	return Provision{Article: 17, Paragraph: 3, Point: string(b[len(b)-1:])}
}

// Rules are what the GDPR lets a controller do with one type of request: the deadline it is
// answered on, what the requester must give, the results and grounds a DPO may choose, and
// which further duties apply. Every action checks them, so a page can only offer what they
// allow and a post cannot do more.
type Rules struct {
	// Provision is the article that grants the right.
	Provision Provision
	Clock     Clock
	// NameRequired: a withdrawal or a marketing objection is made with an email address
	// alone, as easily as the consent or the newsletter sign-up it undoes.
	NameRequired bool
	// DetailsRequired: a rectification is what to correct, so it cannot be empty.
	DetailsRequired bool
	// Grounds a refusal may give; a type with only GroundIdentity cannot be refused on the
	// merits.
	Grounds []Ground
	// Results a completion may report.
	Results []Result
	// Fee: Art. 12(5)(a) lets the controller ask a reasonable fee instead of refusing a
	// manifestly unfounded or excessive request. Not for the rights that cannot be refused.
	Fee bool
	// Recipients: Art. 19 obliges the controller to tell every recipient of the data about a
	// rectification, erasure or restriction.
	Recipients bool
	// Lift: Art. 18(3) obliges the controller to tell the requester before a restriction is
	// lifted.
	Lift bool
	// Delivers: the answer gives the requester something beyond a message (Deliver): the
	// structured answer and the copy of Art. 15, the portable file of Art. 20. Completing
	// such a request with nothing delivered must be confirmed (Answer.NoDelivery).
	Delivers bool
}

// Extendable reports whether the deadline may be extended (Art. 12(3)): only on the one-month
// clock.
func (r Rules) Extendable() bool { return r.Clock == ClockMonth }

// Allows reports whether a refusal on ground g is open to this type.
func (r Rules) Allows(g Ground) bool { return slices.Contains(r.Grounds, g) }

// Offers reports whether a completion with result res is open to this type.
func (r Rules) Offers(res Result) bool { return slices.Contains(r.Results, res) }

// The grounds most rights may be refused on.
var (
	commonGrounds = []Ground{GroundIdentity, GroundManifestlyUnfounded, GroundExcessive, GroundLegalExemption, GroundOther}
	doneOrNoData  = []Result{ResultDone, ResultNoData}
)

// rules is the table of every type.
var rules = map[Type]Rules{
	Access: {
		Provision: Provision{Article: 15}, NameRequired: true,
		Grounds: commonGrounds, Results: doneOrNoData, Fee: true, Delivers: true,
	},
	Rectification: {
		Provision: Provision{Article: 16}, NameRequired: true, DetailsRequired: true,
		Grounds: commonGrounds, Results: doneOrNoData, Fee: true, Recipients: true,
	},
	Erasure: {
		Provision: Provision{Article: 17}, NameRequired: true,
		Grounds: commonGrounds, Results: []Result{ResultDone, ResultNoData, ResultPartial}, Fee: true, Recipients: true,
	},
	Restriction: {
		Provision: Provision{Article: 18}, NameRequired: true,
		Grounds: commonGrounds, Results: doneOrNoData, Fee: true, Recipients: true, Lift: true,
	},
	Portability: {
		Provision: Provision{Article: 20}, NameRequired: true,
		Grounds: []Ground{GroundIdentity, GroundManifestlyUnfounded, GroundExcessive, GroundNotApplicable, GroundLegalExemption, GroundOther},
		Results: doneOrNoData, Fee: true, Delivers: true,
	},
	Objection: {
		Provision: Provision{Article: 21, Paragraph: 1}, NameRequired: true,
		Grounds: []Ground{GroundIdentity, GroundManifestlyUnfounded, GroundExcessive, GroundCompelling, GroundLegalClaims},
		Results: doneOrNoData, Fee: true,
	},
	ObjectionMarketing: {
		Provision: Provision{Article: 21, Paragraph: 2}, Clock: ClockPrompt,
		Grounds: []Ground{GroundIdentity}, Results: doneOrNoData,
	},
	WithdrawConsent: {
		Provision: Provision{Article: 7, Paragraph: 3}, Clock: ClockPrompt,
		Grounds: []Ground{GroundIdentity}, Results: doneOrNoData,
	},
	// A request not yet classified is one to exercise the rights of Arts. 15 to 22, which
	// Art. 12(2) obliges the controller to facilitate; it is held to the short clock until a
	// DPO gives it its type (Classify), and offers no answer before that.
	Unclassified: {
		Provision: Provision{Article: 12, Paragraph: 2}, Clock: ClockPrompt,
	},
}

// Rules returns the rules for type t (the zero Rules for an unknown type, which allow nothing).
func (t Type) Rules() Rules { return rules[t] }

// Calendar is the date arithmetic a deadline needs (deadline.Calendar has it): the
// one-month date of Art. 12(3), and working days on the controller's calendar.
type Calendar interface {
	Due(received time.Time) time.Time
	AddWorkingDays(date time.Time, n int) time.Time
}

// DefaultPromptWorkingDays is the short clock of a withdrawal or a marketing objection when
// the deployment sets none: due at the end of the second working day after receipt.
const DefaultPromptWorkingDays = 2

// Due is the deadline a request of type t received at received is answered by, fixed at
// receipt: one month (Art. 12(3)), or on ClockPrompt the end of the promptDays-th working day
// after the day of receipt.
func (t Type) Due(cal Calendar, received time.Time, promptDays int) time.Time {
	month := cal.Due(received)
	if t.Rules().Clock == ClockPrompt {
		// Never later than the month Art. 12(3) allows any request.
		if d := cal.AddWorkingDays(received, promptDays); d.Before(month) {
			return d
		}
	}
	return month
}
