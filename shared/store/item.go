package store

import (
	"slices"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// timeKey formats times that are compared as strings (index keys): fixed width, UTC, so that
// lexical order is time order. RFC 3339 with trimmed fractions is not.
const timeKey = "2006-01-02T15:04:05.000Z"

// TimeKey formats t for a string comparison against sweep_at.
func TimeKey(t time.Time) string { return t.UTC().Format(timeKey) }

func requestPK(ref string) string { return RequestPrefix + ref }

const requestSK = "REQ"

// requestItem is a request as stored. Times are pointers so that unset ones are omitted rather
// than stored as year 1.
type requestItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Ref         string `dynamodbav:"ref"`
	Type        string `dynamodbav:"type"`
	Status      string `dynamodbav:"status"`
	Name        string `dynamodbav:"name,omitempty"`
	Email       string `dynamodbav:"email,omitempty"`
	EmailHash   string `dynamodbav:"email_hash,omitempty"`
	Details     string `dynamodbav:"details,omitempty"`
	CustomerRef string `dynamodbav:"customer_ref,omitempty"`
	Lang        string `dynamodbav:"lang"`
	// PostalAddress, Channel and Inbound are absent on a request from the form.
	PostalAddress string       `dynamodbav:"postal_address,omitempty"`
	Channel       string       `dynamodbav:"channel,omitempty"`
	Inbound       *inboundItem `dynamodbav:"inbound,omitempty"`

	ReceivedAt *time.Time     `dynamodbav:"received_at"`
	EnteredAt  *time.Time     `dynamodbav:"entered_at,omitempty"`
	VerifiedAt *time.Time     `dynamodbav:"verified_at,omitempty"`
	ClosedAt   *time.Time     `dynamodbav:"closed_at,omitempty"`
	Due        *time.Time     `dynamodbav:"due"`
	Extension  *extensionItem `dynamodbav:"extension,omitempty"`
	Outcome    *outcomeItem   `dynamodbav:"outcome,omitempty"`
	Fee        *feeItem       `dynamodbav:"fee,omitempty"`
	Recipients []noticeItem   `dynamodbav:"recipients,omitempty"`
	Lift       *liftItem      `dynamodbav:"lift,omitempty"`
	Waiting    *questionItem  `dynamodbav:"waiting,omitempty"`
	Pauses     []pauseItem    `dynamodbav:"pauses,omitempty"`
	// PageLinks is a string set, so that a new link is one ADD that leaves the others alone.
	PageLinks []string      `dynamodbav:"page_links,stringset,omitempty"`
	Delivery  *deliveryItem `dynamodbav:"delivery,omitempty"`

	// FormKey is the hash of the registration form a request was registered with.
	FormKey        string     `dynamodbav:"form_key,omitempty"`
	TokenHash      string     `dynamodbav:"token_hash,omitempty"`
	TokenExpires   *time.Time `dynamodbav:"token_expires,omitempty"`
	SpentTokenHash string     `dynamodbav:"spent_token_hash,omitempty"`
	RemindedAt     *time.Time `dynamodbav:"reminded_at,omitempty"`
	HeldAt         *time.Time `dynamodbav:"held_at,omitempty"`
	ReleasedAt     *time.Time `dynamodbav:"released_at,omitempty"`

	Mails map[string]mailItem `dynamodbav:"mails"`
	Audit []auditItem         `dynamodbav:"audit"`
	// Esc holds the sweep's escalation marks; they are not part of the request's version.
	Esc     map[string]EscMark `dynamodbav:"esc"`
	Version int                `dynamodbav:"version"`

	SweepPK   string `dynamodbav:"sweep_pk,omitempty"`
	SweepAt   string `dynamodbav:"sweep_at,omitempty"`
	ExpiresAt int64  `dynamodbav:"expires_at,omitempty"`
	// WsPK and WsSK place the request on the workspace index: its group's list, by type and
	// receipt (listKey).
	WsPK string `dynamodbav:"ws_pk,omitempty"`
	WsSK string `dynamodbav:"ws_sk,omitempty"`
}

type extensionItem struct {
	At       time.Time `dynamodbav:"at"`
	By       string    `dynamodbav:"by"`
	Reason   string    `dynamodbav:"reason"`
	Deadline time.Time `dynamodbav:"deadline"`
}

type outcomeItem struct {
	Result        string `dynamodbav:"result,omitempty"`
	Category      string `dynamodbav:"category,omitempty"`
	Message       string `dynamodbav:"message"`
	Kept          string `dynamodbav:"kept,omitempty"`
	Basis         string `dynamodbav:"basis,omitempty"`
	Reason        string `dynamodbav:"reason,omitempty"`
	Justification string `dynamodbav:"justification,omitempty"`
	Late          string `dynamodbav:"late,omitempty"`
}

type feeItem struct {
	At            time.Time  `dynamodbav:"at"`
	By            string     `dynamodbav:"by"`
	Ground        string     `dynamodbav:"ground"`
	Amount        int        `dynamodbav:"amount"`
	Reason        string     `dynamodbav:"reason"`
	Justification string     `dynamodbav:"justification"`
	AcceptedAt    *time.Time `dynamodbav:"accepted_at,omitempty"`
	AcceptedBy    string     `dynamodbav:"accepted_by,omitempty"`
	AcceptNote    string     `dynamodbav:"accept_note,omitempty"`
}

// recipientItem is a recipient as the register and each checklist line store it.
type recipientItem struct {
	ID       string `dynamodbav:"id"`
	Name     string `dynamodbav:"name"`
	Email    string `dynamodbav:"email"`
	Lang     string `dynamodbav:"lang"`
	Receives string `dynamodbav:"receives"`
}

type noticeItem struct {
	recipientItem
	Means string    `dynamodbav:"means"`
	At    time.Time `dynamodbav:"at"`
	By    string    `dynamodbav:"by"`
	Note  string    `dynamodbav:"note"`
}

type liftItem struct {
	At     time.Time `dynamodbav:"at"`
	By     string    `dynamodbav:"by"`
	From   time.Time `dynamodbav:"from"`
	Reason string    `dynamodbav:"reason"`
}

func recipientToItem(x dsr.Recipient) recipientItem {
	return recipientItem{ID: x.ID, Name: x.Name, Email: x.Email, Lang: x.Lang, Receives: x.Receives}
}

func (x recipientItem) recipient() dsr.Recipient {
	return dsr.Recipient{ID: x.ID, Name: x.Name, Email: x.Email, Lang: x.Lang, Receives: x.Receives}
}

type mailItem struct {
	State    string        `dynamodbav:"state"`
	At       time.Time     `dynamodbav:"at"`
	Attempts int           `dynamodbav:"attempts"`
	Feedback *feedbackItem `dynamodbav:"fb,omitempty"`
}

// feedbackItem is what SES reported of a mail after accepting it (dsr.Feedback).
type feedbackItem struct {
	Kind   string    `dynamodbav:"kind"`
	At     time.Time `dynamodbav:"at"`
	Detail string    `dynamodbav:"detail,omitempty"`
}

// inboundItem is the mail a request came in (dsr.InboundMail).
type inboundItem struct {
	Key         string           `dynamodbav:"key"`
	Subject     string           `dynamodbav:"subject,omitempty"`
	Attachments []attachmentItem `dynamodbav:"attachments,omitempty"`
	DMARCFail   bool             `dynamodbav:"dmarc_fail,omitempty"`
	Reason      string           `dynamodbav:"reason,omitempty"`
}

type attachmentItem struct {
	Name string `dynamodbav:"name"`
	Size int64  `dynamodbav:"size"`
	Type string `dynamodbav:"type,omitempty"`
}

type auditItem struct {
	At     time.Time `dynamodbav:"at"`
	Actor  string    `dynamodbav:"actor"`
	Action string    `dynamodbav:"action"`
	Note   string    `dynamodbav:"note,omitempty"`
	Msg    string    `dynamodbav:"msg,omitempty"`
}

type questionItem struct {
	At      time.Time `dynamodbav:"at"`
	By      string    `dynamodbav:"by"`
	Purpose string    `dynamodbav:"purpose"`
	Text    string    `dynamodbav:"text"`
	Msg     string    `dynamodbav:"msg"`
}

type pauseItem struct {
	From     time.Time  `dynamodbav:"from"`
	By       string     `dynamodbav:"by"`
	Reason   string     `dynamodbav:"reason"`
	Until    *time.Time `dynamodbav:"until,omitempty"`
	Deadline *time.Time `dynamodbav:"deadline,omitempty"`
	Month    *time.Time `dynamodbav:"month,omitempty"`
}

// EscMark records that the sweep has claimed or reported one escalation level of a request.
// Period is what makes the level "once": the deadline's date for the one-off levels, the day
// for the daily overdue level.
type EscMark struct {
	Period string     `dynamodbav:"p"`
	State  string     `dynamodbav:"st"`
	Lease  *time.Time `dynamodbav:"lease,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func timeVal(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func auditToItem(e dsr.AuditEvent) auditItem {
	return auditItem{At: e.At.UTC(), Actor: e.Actor, Action: string(e.Action), Note: e.Note, Msg: e.Message}
}

func mailToItem(m dsr.MailState) mailItem {
	it := mailItem{State: string(m.State), At: m.At.UTC(), Attempts: m.Attempts}
	if f := m.Feedback; f != nil {
		it.Feedback = feedbackToItem(*f)
	}
	return it
}

func feedbackToItem(f dsr.Feedback) *feedbackItem {
	return &feedbackItem{Kind: f.Kind, At: f.At.UTC(), Detail: f.Detail}
}

func (it mailItem) state() dsr.MailState {
	m := dsr.MailState{State: dsr.MailStatus(it.State), At: it.At, Attempts: it.Attempts}
	if f := it.Feedback; f != nil {
		m.Feedback = &dsr.Feedback{Kind: f.Kind, At: f.At.UTC(), Detail: f.Detail}
	}
	return m
}

func inboundToItem(m *dsr.InboundMail) *inboundItem {
	if m == nil {
		return nil
	}
	it := &inboundItem{Key: m.Key, Subject: m.Subject, DMARCFail: m.DMARCFail, Reason: m.Reason}
	for _, a := range m.Attachments {
		it.Attachments = append(it.Attachments, attachmentItem{Name: a.Name, Size: a.Size, Type: a.Type})
	}
	return it
}

func (it *inboundItem) mail() *dsr.InboundMail {
	if it == nil {
		return nil
	}
	m := &dsr.InboundMail{Key: it.Key, Subject: it.Subject, DMARCFail: it.DMARCFail, Reason: it.Reason}
	for _, a := range it.Attachments {
		m.Attachments = append(m.Attachments, dsr.Attachment{Name: a.Name, Size: a.Size, Type: a.Type})
	}
	return m
}

// toItem converts a request to its stored form, deriving the index and expiry attributes.
func (s *Store) toItem(r *dsr.Request) requestItem {
	it := requestItem{
		PK: requestPK(r.Ref), SK: requestSK,
		Ref: r.Ref, Type: string(r.Type), Status: string(r.Status),
		Name: r.Name, Email: r.Email, Details: r.Details, CustomerRef: r.CustomerRef, Lang: r.Lang,
		PostalAddress: r.PostalAddress, Channel: string(r.Channel), Inbound: inboundToItem(r.Inbound),
		ReceivedAt: timePtr(r.ReceivedAt), EnteredAt: timePtr(r.EnteredAt), VerifiedAt: timePtr(r.VerifiedAt), ClosedAt: timePtr(r.ClosedAt),
		Due:            timePtr(r.Due),
		FormKey:        r.FormKey,
		TokenHash:      r.TokenHash,
		TokenExpires:   timePtr(r.TokenExpires),
		SpentTokenHash: r.SpentTokenHash,
		RemindedAt:     timePtr(r.RemindedAt),
		HeldAt:         timePtr(r.HeldAt),
		ReleasedAt:     timePtr(r.ReleasedAt),
		Mails:          map[string]mailItem{},
		Esc:            map[string]EscMark{},
		Version:        r.Version,
	}
	if r.Email != "" {
		it.EmailHash = dsr.HashEmail(r.Email)
	}
	if x := r.Extension; x != nil {
		it.Extension = &extensionItem{At: x.At.UTC(), By: x.By, Reason: x.Reason, Deadline: x.Deadline.UTC()}
	}
	if o := r.Outcome; o != nil {
		it.Outcome = &outcomeItem{Result: string(o.Result), Category: string(o.Category), Message: o.Message, Kept: o.Kept,
			Basis: string(o.Basis), Reason: o.Reason, Justification: o.Justification, Late: string(o.Late)}
	}
	if f := r.Fee; f != nil {
		it.Fee = &feeItem{At: f.At.UTC(), By: f.By, Ground: string(f.Ground), Amount: f.Amount, Reason: f.Reason,
			Justification: f.Justification, AcceptedAt: timePtr(f.AcceptedAt), AcceptedBy: f.AcceptedBy, AcceptNote: f.AcceptNote}
	}
	for _, n := range r.Recipients {
		it.Recipients = append(it.Recipients, noticeItem{recipientItem: recipientToItem(n.Recipient), Means: string(n.Means), At: n.At.UTC(), By: n.By, Note: n.Note})
	}
	if l := r.Lift; l != nil {
		it.Lift = &liftItem{At: l.At.UTC(), By: l.By, From: l.From.UTC(), Reason: l.Reason}
	}
	if q := r.Waiting; q != nil {
		it.Waiting = &questionItem{At: q.At.UTC(), By: q.By, Purpose: q.Purpose, Text: q.Text, Msg: q.Message}
	}
	for _, p := range r.Pauses {
		it.Pauses = append(it.Pauses, pauseItem{From: p.From.UTC(), By: p.By, Reason: p.Reason, Until: timePtr(p.Until), Deadline: timePtr(p.Deadline), Month: timePtr(p.Month)})
	}
	it.PageLinks = slices.Clone(r.PageLinks)
	it.Delivery = deliveryToItem(r.Delivery)
	for k, m := range r.Mails {
		it.Mails[string(k)] = mailToItem(m)
	}
	for _, e := range r.Audit {
		it.Audit = append(it.Audit, auditToItem(e))
	}
	it.SweepPK, it.SweepAt = sweepKey(r)
	it.ExpiresAt = s.expiresAt(r)
	it.WsPK, it.WsSK = listPartition(r.Group()), listKey(r)
	return it
}

// listPartition is the workspace index partition of a group's requests. A change moves a
// request between partitions by its status alone, so a change made without reading the
// request (dsr.Verification) moves it too.
func listPartition(g dsr.Group) string { return "R#" + string(g) }

// listKey orders a group's requests by type, then receipt, then reference: one Query reads a
// type's requests newest first, and the key never changes, so only CreateRequest writes it.
func listKey(r *dsr.Request) string {
	return string(r.Type) + "#" + receiptKey(r)
}

// receiptKey orders requests by receipt, then reference: the order of the lists and exports.
func receiptKey(r *dsr.Request) string { return TimeKey(r.ReceivedAt) + "#" + r.Ref }

func (it *requestItem) toRequest() *dsr.Request {
	r := &dsr.Request{
		Ref: it.Ref, Type: dsr.Type(it.Type), Status: dsr.Status(it.Status),
		Name: it.Name, Email: it.Email, Details: it.Details, CustomerRef: it.CustomerRef, Lang: it.Lang,
		PostalAddress: it.PostalAddress, Channel: dsr.Channel(it.Channel), Inbound: it.Inbound.mail(),
		ReceivedAt: timeVal(it.ReceivedAt), EnteredAt: timeVal(it.EnteredAt), VerifiedAt: timeVal(it.VerifiedAt), ClosedAt: timeVal(it.ClosedAt),
		Due:            timeVal(it.Due),
		FormKey:        it.FormKey,
		TokenHash:      it.TokenHash,
		TokenExpires:   timeVal(it.TokenExpires),
		SpentTokenHash: it.SpentTokenHash,
		RemindedAt:     timeVal(it.RemindedAt),
		HeldAt:         timeVal(it.HeldAt),
		ReleasedAt:     timeVal(it.ReleasedAt),
		Mails:          map[dsr.MailKind]dsr.MailState{},
		Version:        it.Version,
	}
	if x := it.Extension; x != nil {
		r.Extension = &dsr.Extension{At: x.At, By: x.By, Reason: x.Reason, Deadline: x.Deadline}
	}
	if o := it.Outcome; o != nil {
		r.Outcome = &dsr.Outcome{Result: dsr.Result(o.Result), Category: dsr.Ground(o.Category), Message: o.Message, Kept: o.Kept,
			Basis: dsr.Basis(o.Basis), Reason: o.Reason, Justification: o.Justification, Late: dsr.Lateness(o.Late)}
	}
	if f := it.Fee; f != nil {
		r.Fee = &dsr.Fee{At: f.At, By: f.By, Ground: dsr.Ground(f.Ground), Amount: f.Amount, Reason: f.Reason,
			Justification: f.Justification, AcceptedAt: timeVal(f.AcceptedAt), AcceptedBy: f.AcceptedBy, AcceptNote: f.AcceptNote}
	}
	for _, n := range it.Recipients {
		r.Recipients = append(r.Recipients, dsr.RecipientNotice{Recipient: n.recipient(), Means: dsr.Means(n.Means), At: n.At, By: n.By, Note: n.Note})
	}
	if l := it.Lift; l != nil {
		r.Lift = &dsr.LiftNotice{At: l.At, By: l.By, From: l.From, Reason: l.Reason}
	}
	if q := it.Waiting; q != nil {
		r.Waiting = &dsr.Question{At: q.At.UTC(), By: q.By, Purpose: q.Purpose, Text: q.Text, Message: q.Msg}
	}
	for _, p := range it.Pauses {
		r.Pauses = append(r.Pauses, dsr.Pause{From: p.From.UTC(), By: p.By, Reason: p.Reason, Until: timeVal(p.Until), Deadline: timeVal(p.Deadline), Month: timeVal(p.Month)})
	}
	r.PageLinks = slices.Clone(it.PageLinks)
	r.Delivery = it.Delivery.delivery()
	for k, m := range it.Mails {
		r.Mails[dsr.MailKind(k)] = m.state()
	}
	for _, e := range it.Audit {
		r.Audit = append(r.Audit, dsr.AuditEvent{At: e.At, Actor: e.Actor, Action: dsr.Action(e.Action), Note: e.Note, Message: e.Msg})
	}
	return r
}

// sweepKey is r's place on the sweep index (dsr.Request.SweepQueue): its partition and sort
// key, or "" for none.
func sweepKey(r *dsr.Request) (partition, at string) {
	q, when := r.SweepQueue()
	if q == "" {
		return "", ""
	}
	return string(q), TimeKey(when)
}

// expiresAt is r's TTL attribute (dsr.Request.KeptUntil), 0 for none.
func (s *Store) expiresAt(r *dsr.Request) int64 {
	if t := r.KeptUntil(s.retention); !t.IsZero() {
		return t.Unix()
	}
	return 0
}
