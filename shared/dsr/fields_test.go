package dsr

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// part is one part of a request as Fields names it.
type part struct {
	name  string
	field Fields
	get   func(*Request) any
}

var parts = []part{
	{"status", FieldStatus, func(r *Request) any { return r.Status }},
	{"verified", FieldVerified, func(r *Request) any { return r.VerifiedAt }},
	{"closed", FieldClosed, func(r *Request) any { return r.ClosedAt }},
	{"token", FieldToken, func(r *Request) any { return [2]any{r.TokenHash, r.TokenExpires} }},
	{"spent token", FieldSpentToken, func(r *Request) any { return r.SpentTokenHash }},
	{"reminded", FieldReminded, func(r *Request) any { return r.RemindedAt }},
	{"requester", FieldRequester, func(r *Request) any {
		var m any
		if r.Inbound != nil {
			m = *r.Inbound
		}
		return [6]any{r.Name, r.Email, r.Details, r.CustomerRef, r.PostalAddress, m}
	}},
	{"extension", FieldExtension, func(r *Request) any { return r.Extension }},
	{"outcome", FieldOutcome, func(r *Request) any { return r.Outcome }},
	{"fee", FieldFee, func(r *Request) any { return r.Fee }},
	{"recipients", FieldRecipients, func(r *Request) any { return r.Recipients }},
	{"lift", FieldLift, func(r *Request) any { return r.Lift }},
	// Copies: Reply changes a pause in place.
	{"conversation", FieldConversation, func(r *Request) any {
		var q any
		if r.Waiting != nil {
			q = *r.Waiting
		}
		return [2]any{q, slices.Clone(r.Pauses)}
	}},
	{"page links", FieldPageLinks, func(r *Request) any { return slices.Clone(r.PageLinks) }},
	{"held", FieldHeld, func(r *Request) any { return [2]time.Time{r.HeldAt, r.ReleasedAt} }},
	{"delivery", FieldDelivery, func(r *Request) any {
		if r.Delivery == nil {
			return nil
		}
		d := *r.Delivery
		d.Files = slices.Clone(d.Files)
		return d
	}},
	{"type", FieldType, func(r *Request) any { return [2]any{r.Type, r.Due} }},
	{"entered", 0, func(r *Request) any { return r.EnteredAt }},
	// What no change alters.
	{"fixed", 0, func(r *Request) any { return [5]any{r.Ref, r.Lang, r.ReceivedAt, r.Channel, r.FormKey} }},
}

// Every field of Request is in one part above, or moved by every change.
func TestPartsCoverTheRequest(t *testing.T) {
	inParts := map[string]bool{
		"Status": true, "VerifiedAt": true, "ClosedAt": true, "TokenHash": true, "TokenExpires": true,
		"SpentTokenHash": true, "RemindedAt": true, "Name": true, "Email": true, "Details": true, "CustomerRef": true,
		"Extension": true, "Outcome": true, "Fee": true, "Recipients": true, "Lift": true, "Waiting": true, "Pauses": true, "PageLinks": true, "HeldAt": true, "ReleasedAt": true, "Delivery": true, "Ref": true, "Type": true, "Lang": true, "ReceivedAt": true, "Due": true,
		"PostalAddress": true, "Inbound": true, "Channel": true, "EnteredAt": true, "FormKey": true,
		// Every change moves these: the store appends the event, writes the queued mails, bumps the version.
		"Audit": true, "Mails": true, "Version": true,
	}
	rt := reflect.TypeFor[Request]()
	for i := range rt.NumField() {
		if !inParts[rt.Field(i).Name] {
			t.Errorf("Request.%s is in no part: add it to Fields, parts and the store's attributes", rt.Field(i).Name)
		}
	}
	var all Fields
	for _, p := range parts {
		all |= p.field
	}
	if all != AllFields {
		t.Errorf("parts cover %b, AllFields is %b", all, AllFields)
	}
}

// A change names every part it alters, since the store writes those and no others.
func TestChangesNameTheirFields(t *testing.T) {
	now := received.Add(50 * time.Hour)
	ops := []struct {
		name  string
		setup func(*testing.T) *Request
		op    func(*Request) (Change, error)
	}{
		{"verify", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.Verify("hash", now) }},
		{"remind", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.Remind("new", now) }},
		{"reissue", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.ReissueToken("new", now) }},
		{"expire", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.Expire(now) }},
		{"release", func(*testing.T) *Request { r := newRequest(); r.Hold(); return r }, func(r *Request) (Change, error) { return r.Release("new", now) }},
		{"start", openRequest, func(r *Request) (Change, error) { return r.Start("dpo", now) }},
		{"extend", openRequest, func(r *Request) (Change, error) { return r.Extend("dpo", "why", extended, now) }},
		{"complete", openRequest, func(r *Request) (Change, error) { return r.Complete("dpo", "done", now) }},
		{"reject", openRequest, func(r *Request) (Change, error) { return r.Reject("dpo", "other", "no", now) }},
		{"note", openRequest, func(r *Request) (Change, error) { return r.AddNote("dpo", "n", now) }},
		{"complete partly", openRequest, func(r *Request) (Change, error) {
			return r.Answer("dpo", Answer{Result: ResultPartial, Message: "m", Kept: "k", Basis: BasisLegalObligation, Reason: "r"}, now)
		}},
		{"announce fee", openRequest, func(r *Request) (Change, error) {
			return r.AnnounceFee("dpo", FeeTerms{Ground: GroundExcessive, Amount: "100", Reason: "r", Justification: "j"}, now)
		}},
		{"accept fee", func(t *testing.T) *Request {
			r := openRequest(t)
			if _, err := r.AnnounceFee("dpo", FeeTerms{Ground: GroundExcessive, Amount: "100", Reason: "r", Justification: "j"}, now); err != nil {
				t.Fatal(err)
			}
			return r
		}, func(r *Request) (Change, error) { return r.AcceptFee("dpo", "yes", now) }},
		{"tell recipients", openRequest, func(r *Request) (Change, error) {
			return r.TellRecipients("dpo", []Recipient{recipientA}, "erase", now)
		}},
		{"record recipient", openRequest, func(r *Request) (Change, error) {
			return r.RecordRecipient("dpo", recipientB, NotDisclosed, "never sent", now)
		}},
		{"notice lift", completedRestriction, func(r *Request) (Change, error) {
			return r.NoticeLift("dpo", "checked", now.Add(72*time.Hour), now)
		}},
		{"ask", openRequest, func(r *Request) (Change, error) { c, err := r.Ask("dpo", PurposeOther, "q", "", now); return c, err }},
		{"ask, pausing", openRequest, func(r *Request) (Change, error) {
			c, err := r.Ask("dpo", PurposeIdentity, "q", "why", now)
			return c, err
		}},
		{"reply", askedRequest(""), func(r *Request) (Change, error) { c, err := r.Reply("a", now, days(3)); return c, err }},
		{"reply, resuming", askedRequest("why"), func(r *Request) (Change, error) { c, err := r.Reply("a", now, days(3)); return c, err }},
		{"complete while paused", askedRequest("why"), func(r *Request) (Change, error) { return r.Complete("dpo", "done", now) }},
		{"reject while waiting", askedRequest(""), func(r *Request) (Change, error) { return r.Reject("dpo", "other", "no", now) }},
		{"revoke links", linkedRequest, func(r *Request) (Change, error) { return r.RevokePageLinks("dpo", now) }},
		{"deliver", openAccess, func(r *Request) (Change, error) { return r.Deliver("dpo", accessInput(), limits, now) }},
		{"remind of a delivery", deliveredAccess, func(r *Request) (Change, error) {
			return r.RemindDelivery(nil, now.Add(8*24*time.Hour))
		}},
		{"confirm by other means", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) {
			return r.ConfirmOther("dpo", "called back on the number on file", now)
		}},
		{"classify", func(*testing.T) *Request { return mailRequest() }, func(r *Request) (Change, error) {
			return r.Classify("dpo", Access, fixedCalendar{}, 2, now)
		}},
		{"admit", func(*testing.T) *Request { return quarantinedRequest(QuarantineUnreadable) }, func(r *Request) (Change, error) {
			return r.Admit("dpo", "newhash", now)
		}},
		{"dismiss", func(*testing.T) *Request { return quarantinedRequest(QuarantineSpam) }, func(r *Request) (Change, error) {
			return r.Dismiss("dpo", "spam", now)
		}},
		{"bounce", openRequest, func(r *Request) (Change, error) {
			return r.RecordFeedback(MailReceipt, Feedback{Kind: FeedbackBounce, At: now, Detail: "Permanent/General"})
		}},
	}
	for _, tt := range ops {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.setup(t)
			before := make([]any, len(parts))
			for i, p := range parts {
				before[i] = p.get(r)
			}
			c, err := tt.op(r)
			if err != nil {
				t.Fatal(err)
			}
			var changed Fields
			for i, p := range parts {
				if reflect.DeepEqual(before[i], p.get(r)) {
					continue
				}
				if p.field == 0 {
					t.Errorf("%s changed", p.name)
				}
				changed |= p.field
			}
			if !c.Fields.Has(changed) {
				t.Errorf("changed %b, the change names %b", changed, c.Fields)
			}
		})
	}
}
