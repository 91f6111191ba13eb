package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// ConfirmRequest opens request ref for the holder of the verification token whose secret
// hashes to tokenHash, in ONE conditional UpdateItem and without reading first: the write
// holds only while the request awaits confirmation with that very token, unexpired. It makes
// the change dsr.Verification describes (the same one Request.Verify makes to a request in
// hand): the token is spent, the status opens, the version moves on, the audit event is
// appended and the receipt and DPO notice are queued, and it returns the request as written
// (ReturnValues ALL_NEW) with the change, for the caller to send what was queued.
//
// Whatever else the request is (unknown, already confirmed, expired, its link replaced by a
// reminder) the condition fails, nothing is written and the error is fault.Conflict; the caller
// reads the request to tell which. Of two concurrent confirmations exactly one succeeds.
func (s *Store) ConfirmRequest(ctx context.Context, ref, tokenHash string, now time.Time) (*dsr.Request, dsr.Change, error) {
	ev, mails := dsr.Verification(now)
	u := newUpdate()
	u.set("status", str(string(dsr.Open)))
	at, err := marshalTime(now)
	if err != nil {
		return nil, dsr.Change{}, err
	}
	u.set("verified_at", at)
	u.set("spent_token_hash", str(tokenHash))
	u.remove("token_hash")
	u.remove("token_expires")
	// An open request has no TTL: the controller owes an answer (see Store.expiresAt).
	u.remove(AttrExpiresAt)
	for _, k := range mails {
		mv, err := marshalMail(dsr.MailState{State: dsr.MailQueued, At: ev.At})
		if err != nil {
			return nil, dsr.Change{}, err
		}
		u.setPath("mails", string(k), mv)
	}
	// SweepKey of the opened request: the queued mails are due for a retry after the lease,
	// which is always before the deadline (a month after receipt; the token lives a week). The
	// write that records how the mails went sets the key from the whole request again.
	u.set(AttrSweepPK, str(SweepOpen))
	u.set(AttrSweepAt, str(TimeKey(ev.At.Add(MailLease))))
	audit, err := attributevalue.Marshal([]auditItem{auditToItem(ev)})
	if err != nil {
		return nil, dsr.Change{}, fmt.Errorf("store: marshal audit event: %w", err)
	}
	u.names["#audit"], u.names["#version"] = "audit", "version"
	u.sets = append(u.sets,
		"#audit = list_append(#audit, "+u.value(audit)+")",
		"#version = #version + "+u.value(num(1)))

	u.names["#c_status"], u.names["#c_hash"], u.names["#c_texp"], u.names["#c_exp"] = "status", "token_hash", "token_expires", AttrExpiresAt
	cond := "#c_status = " + u.value(str(string(dsr.PendingVerification))) +
		" AND #c_hash = " + u.value(str(tokenHash)) +
		" AND #c_texp > " + u.value(str(tokenCutoff(now).Format(time.RFC3339))) +
		" AND (attribute_not_exists(#c_exp) OR #c_exp > " + u.value(num64(s.now().Unix())) + ")"
	in := u.input(s.table, requestKey(ref), cond)
	in.ReturnValues = ddbtypes.ReturnValueAllNew
	out, err := s.db.UpdateItem(ctx, in)
	switch {
	case isConditionFailed(err):
		return nil, dsr.Change{}, fmt.Errorf("store: confirm %s: %w", ref, fault.Conflict)
	case err != nil:
		return nil, dsr.Change{}, unavailable("store: confirm", err)
	}
	r, err := s.decodeRequest(out.Attributes)
	if err != nil {
		return nil, dsr.Change{}, err
	}
	return r, dsr.Change{From: dsr.PendingVerification, Version: r.Version - 1, Event: ev, Mails: mails}, nil
}

// TokenLive reports whether a verification token expiring at expires is still good at now, by
// exactly the rule ConfirmRequest's condition applies, so that a page showing the confirm
// button and the write behind it agree.
//
// The condition compares the stored expiry as a string, and the SDK stores times as RFC 3339
// with trimmed fractions, which sort as times only to the second. So the comparison is made
// at whole seconds and errs on the side of refusing: a token dies up to two seconds early,
// never a moment late.
func TokenLive(expires, now time.Time) bool {
	return !expires.Truncate(time.Second).Before(tokenCutoff(now).Add(time.Second))
}

// tokenCutoff is now rounded up to the second: a token whose expiry's whole second is later
// than that is live.
func tokenCutoff(now time.Time) time.Time {
	c := now.UTC().Truncate(time.Second)
	if c.Before(now) {
		c = c.Add(time.Second)
	}
	return c
}
