package dsr

// Type is a right under the GDPR that a requester invokes. The string values are stable codes:
// they are stored, posted by the form and used as message keys, so never rename one.
type Type string

// The rights the controllers' privacy policies promise.
const (
	Access          Type = "access"
	Rectification   Type = "rectification"
	Erasure         Type = "erasure"
	Restriction     Type = "restriction"
	Portability     Type = "portability"
	Objection       Type = "objection"
	WithdrawConsent Type = "withdraw_consent"
)

// Types lists every request type in the order the form presents them.
var Types = []Type{Access, Rectification, Erasure, Restriction, Portability, Objection, WithdrawConsent}

var articles = map[Type]string{
	Access:          "15",
	Rectification:   "16",
	Erasure:         "17",
	Restriction:     "18",
	Portability:     "20",
	Objection:       "21",
	WithdrawConsent: "7(3)",
}

// Article returns the GDPR article that grants the right, e.g. "15" or "7(3)".
func (t Type) Article() string { return articles[t] }

// Valid reports whether t is one of the known request types.
func (t Type) Valid() bool {
	_, ok := articles[t]
	return ok
}
