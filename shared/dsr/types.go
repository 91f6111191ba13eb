package dsr

// Type is a right under the GDPR that a requester invokes. The string values are stable codes:
// they are stored, posted by the form and used as message keys, so never rename one.
type Type string

// The rights the controllers' privacy policies promise.
const (
	Access        Type = "access"
	Rectification Type = "rectification"
	Erasure       Type = "erasure"
	Restriction   Type = "restriction"
	Portability   Type = "portability"
	// Objection is the objection to other processing, on grounds relating to the requester's
	// particular situation (Art. 21(1)): the controller may go on if it shows compelling
	// legitimate grounds or needs the data for legal claims. Requests stored before
	// ObjectionMarketing existed keep this code.
	Objection Type = "objection"
	// ObjectionMarketing is the objection to direct marketing (Art. 21(2)), which is absolute:
	// the data are no longer processed for that purpose (Art. 21(3)).
	ObjectionMarketing Type = "objection_marketing"
	WithdrawConsent    Type = "withdraw_consent"
)

// Types lists every request type in the order the form presents them.
var Types = []Type{Access, Rectification, Erasure, Restriction, Portability, ObjectionMarketing, Objection, WithdrawConsent}

// Provision is a place in the GDPR: an article and, where a citation needs it, a paragraph and
// a point ("b"). Each language cites it its own way (i18n.Article): "art. 7, stk. 3",
// "art. 7 nr. 3", "Art. 7(3)".
type Provision struct {
	Article   int
	Paragraph int
	Point     string
}

// Cite returns the provision's parts, for i18n.Article.
func (p Provision) Cite() (article, paragraph int, point string) {
	return p.Article, p.Paragraph, p.Point
}

// Article returns the provision of the GDPR that grants the right.
func (t Type) Article() Provision { return rules[t].Provision }

// Valid reports whether t is one of the known request types.
func (t Type) Valid() bool {
	_, ok := rules[t]
	return ok
}
