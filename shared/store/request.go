package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

func requestKey(ref string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		AttrPK: &ddbtypes.AttributeValueMemberS{Value: requestPK(ref)},
		AttrSK: &ddbtypes.AttributeValueMemberS{Value: requestSK},
	}
}

// CreateRequest stores a new request. A request with the same reference already stored is
// fault.Conflict: the caller draws a new reference.
//
// The write may be retried by the SDK after DynamoDB made it but its answer was lost; the
// retry then finds this very request, with this request's token hash (256 random bits no
// other request has), and writes it again unchanged instead of failing, so the caller does
// not store the request a second time under another reference.
func (s *Store) CreateRequest(ctx context.Context, r *dsr.Request) error {
	av, err := attributevalue.MarshalMap(s.toItem(r))
	if err != nil {
		return fmt.Errorf("store: marshal request: %w", err)
	}
	in := &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}
	if r.TokenHash != "" {
		in.ConditionExpression = aws.String("attribute_not_exists(pk) OR token_hash = :own")
		in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":own": str(r.TokenHash)}
	}
	_, err = s.db.PutItem(ctx, in)
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: create %s: %w", r.Ref, fault.Conflict)
	case err != nil:
		return unavailable("store: create request", err)
	}
	return nil
}

// RegisterRequest stores a new request as CreateRequest does, for the workspace, which may
// not PutItem in a request's partition (Access: a put there could replace a request): an
// UpdateItem that sets every attribute, on condition that no item has the key. It returns the
// request stored under r's reference: r, or the request an earlier post of the same
// registration form stored there (dsr.Request.SameRegistration: a double click, a browser's
// resubmission, the SDK's retry after a lost answer), which it reads then and leaves as it
// is. Another request under the reference is fault.Conflict.
func (s *Store) RegisterRequest(ctx context.Context, r *dsr.Request) (*dsr.Request, error) {
	av, err := attributevalue.MarshalMap(s.toItem(r))
	if err != nil {
		return nil, fmt.Errorf("store: marshal request: %w", err)
	}
	names := make([]string, 0, len(av))
	for name := range av {
		if name != AttrPK && name != AttrSK {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	u := newUpdate()
	for _, name := range names {
		u.set(name, av[name])
	}
	_, err = s.db.UpdateItem(ctx, u.input(s.table, requestKey(r.Ref), "attribute_not_exists(pk)"))
	switch {
	case isConditionFailed(err):
		old, gerr := s.GetRequest(ctx, r.Ref)
		switch {
		case gerr == nil && r.SameRegistration(old):
			return old, nil
		case gerr != nil && !errors.Is(gerr, fault.NotFound):
			return nil, gerr
		}
		return nil, fmt.Errorf("store: register %s: %w", r.Ref, fault.Conflict)
	case err != nil:
		return nil, unavailable("store: register request", err)
	}
	return r, nil
}

// GetRequest reads a request with a strongly consistent read. An item past its expiry is
// treated as absent: TTL deletes lazily, so an expired item may still be there.
func (s *Store) GetRequest(ctx context.Context, ref string) (*dsr.Request, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            requestKey(ref),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, unavailable("store: get request", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("store: request %s: %w", ref, fault.NotFound)
	}
	return s.decodeRequest(out.Item)
}

func (s *Store) decodeRequest(av map[string]ddbtypes.AttributeValue) (*dsr.Request, error) {
	var it requestItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("store: decode request: %w", err)
	}
	if s.expired(it.ExpiresAt) {
		return nil, fmt.Errorf("store: request %s expired: %w", it.Ref, fault.NotFound)
	}
	return it.toRequest(), nil
}

func (s *Store) expired(expiresAt int64) bool {
	return expiresAt != 0 && expiresAt <= s.now().Unix()
}

// fieldAttributes are the attributes that hold each part of a request a change may alter
// (dsr.Fields). Keys, type, language, receipt and the deadline never change; mails and
// escalation marks are written by their own paths.
var fieldAttributes = []struct {
	field dsr.Fields
	attrs []string
}{
	{dsr.FieldStatus, []string{"status"}},
	{dsr.FieldVerified, []string{"verified_at"}},
	{dsr.FieldClosed, []string{"closed_at"}},
	{dsr.FieldToken, []string{"token_hash", "token_expires"}},
	{dsr.FieldSpentToken, []string{"spent_token_hash"}},
	{dsr.FieldReminded, []string{"reminded_at"}},
	{dsr.FieldHeld, []string{"held_at", "released_at"}},
	{dsr.FieldRequester, []string{"name", "email", "email_hash", "details", "customer_ref", "postal_address", "inbound"}},
	{dsr.FieldExtension, []string{"extension"}},
	{dsr.FieldOutcome, []string{"outcome"}},
	{dsr.FieldFee, []string{"fee"}},
	{dsr.FieldRecipients, []string{"recipients"}},
	{dsr.FieldLift, []string{"lift"}},
	{dsr.FieldConversation, []string{"waiting", "pauses"}},
	{dsr.FieldPageLinks, []string{"page_links"}},
	{dsr.FieldDelivery, []string{"delivery"}},
	// A classification moves the request within its list (listKey orders by type).
	{dsr.FieldType, []string{"type", "due", AttrWsSK}},
}

// derived are the attributes every change rewrites from the request as it now is.
var derived = []string{AttrSweepPK, AttrSweepAt, AttrExpiresAt, AttrWsPK}

// Commit writes a change a dsr method made to r as ONE conditional UpdateItem: it holds only
// while the stored request is still where the change started (c.From, and c.Version or the
// token c.Token by the rule of dsr.TokenLive), and it writes the parts the change altered,
// the mails it queued and its audit event together, so a change and its audit entry cannot
// diverge. A lost race, or a guard that does not hold, is a fault.Conflict; the caller reads
// again and decides.
//
// A change made without reading the request (c.Version 0, dsr.Verification) comes back: r is
// then the whole request as written.
//
// A change that records a message (c.Message) also writes it beside the request, at the same
// time (PutMessage). Only a committed change names its message, so a message whose change
// lost is never shown; a committed one whose text could not be written (twice) is an error
// that says so.
func (s *Store) Commit(ctx context.Context, r *dsr.Request, c dsr.Change) error {
	if c.Version == 0 && c.Token == "" {
		return fmt.Errorf("store: commit %s (%s): a change without a version needs a token to guard it", r.Ref, c.Event.Action)
	}
	av, err := attributevalue.MarshalMap(s.toItem(r))
	if err != nil {
		return fmt.Errorf("store: marshal request: %w", err)
	}
	events := []auditItem{auditToItem(c.Event)}
	for _, e := range c.Also {
		events = append(events, auditToItem(e))
	}
	ev, err := attributevalue.Marshal(events)
	if err != nil {
		return fmt.Errorf("store: marshal audit event: %w", err)
	}
	u := newUpdate()
	write := func(name string) {
		if v, ok := av[name]; ok {
			u.set(name, v)
		} else {
			u.remove(name)
		}
	}
	for _, f := range fieldAttributes {
		if c.Fields.Has(f.field) {
			for _, name := range f.attrs {
				write(name)
			}
		}
	}
	for _, name := range derived {
		write(name)
	}
	// A letter's state is written as a queued mail's is (dsr.Change.Letters).
	for _, k := range slices.Concat(c.Mails, c.Letters) {
		mv, err := marshalMail(r.Mails[k])
		if err != nil {
			return err
		}
		u.setPath("mails", string(k), mv)
	}
	for _, k := range c.Feedback {
		// The feedback alone: the outbox may be recording the mail's state meanwhile.
		f := r.Mails[k].Feedback
		if f == nil {
			return fmt.Errorf("store: commit %s: feedback on %s without feedback", r.Ref, k)
		}
		fv, err := attributevalue.Marshal(feedbackToItem(*f))
		if err != nil {
			return fmt.Errorf("store: marshal feedback: %w", err)
		}
		u.names["#fb"] = "fb"
		u.sets = append(u.sets, u.name("mails")+"."+u.name(string(k))+".#fb = "+u.value(fv))
	}
	u.names["#audit"], u.names["#version"] = "audit", "version"
	var audit string
	switch {
	case len(c.Wiped) == 0:
		audit = "#audit = list_append(#audit, " + u.value(ev) + ")"
	case c.Version == 0:
		return fmt.Errorf("store: commit %s (%s): a change that rewrites the trail needs a version", r.Ref, c.Event.Action)
	default:
		// Entries lost their notes: the trail is written whole (the version in the condition
		// makes that safe), since an update may not both append to a list and remove inside
		// it.
		audit = "#audit = " + u.value(av["audit"])
	}
	u.sets = append(u.sets, audit, "#version = #version + "+u.value(num(1)))

	u.names["#c_status"], u.names["#c_exp"] = "status", AttrExpiresAt
	cond := "#c_status = " + u.value(str(string(c.From)))
	if c.Version != 0 {
		u.names["#c_version"] = "version"
		cond += " AND #c_version = " + u.value(num(c.Version))
	}
	if c.Token != "" {
		// The expiry is stored as RFC 3339 text, which this compares as text: whole seconds,
		// as dsr.TokenLive states the rule.
		u.names["#c_hash"], u.names["#c_texp"] = "token_hash", "token_expires"
		cond += " AND #c_hash = " + u.value(str(c.Token)) +
			" AND #c_texp > " + u.value(str(dsr.TokenCutoff(c.Event.At).Format(time.RFC3339)))
	}
	cond += " AND (attribute_not_exists(#c_exp) OR #c_exp > " + u.value(num64(s.now().Unix())) + ")"

	in := u.input(s.table, requestKey(r.Ref), cond)
	if c.Version == 0 {
		in.ReturnValues = ddbtypes.ReturnValueAllNew
	}
	// A change that records a message (dsr.Change.Message) writes it beside the request at the
	// same time: one round trip, not two.
	var msgErr error
	var wrote sync.WaitGroup
	if c.Message != nil {
		m := *c.Message
		wrote.Go(func() { msgErr = s.PutMessage(ctx, r, m) })
	}
	out, err := s.db.UpdateItem(ctx, in)
	wrote.Wait()
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: commit %s (%s): %w", r.Ref, c.Event.Action, fault.Conflict)
	case err != nil:
		return unavailable("store: commit", err)
	}
	if msgErr != nil {
		// The change is committed and names the message: its text must follow. A message
		// whose change lost (above) stays unnamed, so unseen, and needs nothing.
		if msgErr = s.PutMessage(ctx, r, *c.Message); msgErr != nil {
			return fmt.Errorf("store: commit %s (%s): committed, but the message's text was not stored: %w", r.Ref, c.Event.Action, msgErr)
		}
	}
	if c.Version == 0 {
		written, err := s.decodeRequest(out.Attributes)
		if err != nil {
			return err
		}
		*r = *written
	}
	return nil
}

// RecordMails stores the delivery state of mails in one write and moves the request in the
// sweep index accordingly (a failed mail makes it due for a retry at once). It is not a change
// of the request and does not bump its version; it only requires the status the index keys
// were derived from, and re-reads the request if that moved.
func (s *Store) RecordMails(ctx context.Context, r *dsr.Request, states map[dsr.MailKind]dsr.MailState) error {
	for attempt := 0; ; attempt++ {
		u := newUpdate()
		for kind, state := range states {
			r.Mails[kind] = state
			mv, err := marshalMail(state)
			if err != nil {
				return err
			}
			u.setPath("mails", string(kind), mv)
		}
		if pk, at := sweepKey(r); pk != "" {
			u.set(AttrSweepPK, str(pk))
			u.set(AttrSweepAt, str(at))
		} else {
			u.remove(AttrSweepPK)
			u.remove(AttrSweepAt)
		}
		cond := "#c_status = " + u.value(str(string(r.Status)))
		u.names["#c_status"] = "status"
		_, err := s.db.UpdateItem(ctx, u.input(s.table, requestKey(r.Ref), cond))
		if err == nil {
			return nil
		}
		if !isConditionFailed(err) {
			return unavailable("store: record mail", err)
		}
		if attempt == 2 {
			return fmt.Errorf("store: record mail %s: %w", r.Ref, fault.Conflict)
		}
		fresh, gerr := s.GetRequest(ctx, r.Ref)
		if gerr != nil {
			return gerr
		}
		*r = *fresh
	}
}

// update builds an UpdateExpression with generated placeholders.
type update struct {
	sets, removes []string
	names         map[string]string
	values        map[string]ddbtypes.AttributeValue
}

func newUpdate() *update {
	return &update{names: map[string]string{}, values: map[string]ddbtypes.AttributeValue{}}
}

func (u *update) name(attr string) string {
	ph := "#n" + strconv.Itoa(len(u.names))
	u.names[ph] = attr
	return ph
}

func (u *update) value(v ddbtypes.AttributeValue) string {
	ph := ":v" + strconv.Itoa(len(u.values))
	u.values[ph] = v
	return ph
}

func (u *update) set(attr string, v ddbtypes.AttributeValue) {
	u.sets = append(u.sets, u.name(attr)+" = "+u.value(v))
}

func (u *update) setPath(attr, key string, v ddbtypes.AttributeValue) {
	u.sets = append(u.sets, u.name(attr)+"."+u.name(key)+" = "+u.value(v))
}

func (u *update) remove(attr string) { u.removes = append(u.removes, u.name(attr)) }

func (u *update) expression() string {
	var e string
	if len(u.sets) > 0 {
		e = "SET " + join(u.sets)
	}
	if len(u.removes) > 0 {
		e += " REMOVE " + join(u.removes)
	}
	return e
}

func (u *update) input(table string, key map[string]ddbtypes.AttributeValue, cond string) *dynamodb.UpdateItemInput {
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       key,
		UpdateExpression:          aws.String(u.expression()),
		ExpressionAttributeNames:  u.names,
		ExpressionAttributeValues: u.values,
	}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	if len(u.values) == 0 {
		in.ExpressionAttributeValues = nil
	}
	return in
}

func join(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }
func num(n int) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(n)}
}
func num64(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
