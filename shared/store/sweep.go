package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// States of an escalation mark.
const (
	// EscClaimed: a sweep is reporting the level; the claim lapses at its lease.
	EscClaimed = "claimed"
	// EscDone: the level was reported for the mark's period.
	EscDone = "done"
)

// SweepPageSize is how many items one Query page of the sweep index returns by default.
const SweepPageSize = 100

// SweepItem is a request the sweep found due, with its escalation marks, which are not part of
// the request model.
type SweepItem struct {
	Request *dsr.Request
	Esc     map[string]EscMark
}

// SweepDue ranges over the requests on queue q (the sweep index partition) whose sweep time is
// at or before until, earliest first. It reads a page of at most pageSize items (SweepPageSize if
// pageSize <= 0) when the caller has consumed the previous one, so a caller that stops early
// reads no further. It is a Query on the sparse index: nothing that is not due is read.
//
// A failed Query yields an error wrapping fault.Unavailable and ends the iteration. An item that
// cannot be decoded yields an error and the iteration goes on: one bad item must not hide the
// others. Items past their expiry are skipped, as everywhere in the store. The index is
// eventually consistent; writes condition on what they expect, so a stale item costs a retry,
// never a wrong write.
func (s *Store) SweepDue(ctx context.Context, q dsr.Queue, until time.Time, pageSize int) iter.Seq2[SweepItem, error] {
	if pageSize <= 0 {
		pageSize = SweepPageSize
	}
	return func(yield func(SweepItem, error) bool) {
		in := &dynamodb.QueryInput{
			TableName:              aws.String(s.table),
			IndexName:              aws.String(SweepIndex),
			KeyConditionExpression: aws.String("#pk = :pk AND #at <= :until"),
			ExpressionAttributeNames: map[string]string{
				"#pk": AttrSweepPK,
				"#at": AttrSweepAt,
			},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
				":pk":    str(string(q)),
				":until": str(TimeKey(until)),
			},
			Limit: aws.Int32(int32(pageSize)),
		}
		for {
			out, err := s.db.Query(ctx, in)
			if err != nil {
				yield(SweepItem{}, unavailable("store: sweep "+string(q), err))
				return
			}
			for _, av := range out.Items {
				it, err := s.decodeSweepItem(av)
				switch {
				case errors.Is(err, fault.NotFound):
					continue
				case err != nil:
					if !yield(SweepItem{}, err) {
						return
					}
				default:
					if !yield(it, nil) {
						return
					}
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				return
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
}

func (s *Store) decodeSweepItem(av map[string]ddbtypes.AttributeValue) (SweepItem, error) {
	it, err := decodeItem(av)
	if err != nil {
		return SweepItem{}, err
	}
	if s.expired(it.ExpiresAt) {
		return SweepItem{}, fmt.Errorf("store: request %s expired: %w", it.Ref, fault.NotFound)
	}
	return SweepItem{Request: it.toRequest(), Esc: it.Esc}, nil
}

// Covers reports whether the mark already accounts for period at now: reported, or claimed
// under a lease still running. ClaimEscalation's condition refuses to claim over such a mark,
// so a sweep that read it from the index can spare the write.
func (m EscMark) Covers(period string, now time.Time) bool {
	return m.Period == period && (m.State == EscDone || (m.State == EscClaimed && m.Lease != nil && m.Lease.After(now)))
}

// EscClaim is one escalation level of one request, claimed for one period: what
// MarkEscalated and ReleaseEscalation need.
type EscClaim struct {
	Ref    string
	Level  string
	Period string
	// Lease is when the claim lapses if it is neither marked nor released; it also tells this
	// claim from a later one of the same period.
	Lease time.Time
}

// ClaimEscalation claims escalation level for period on request ref until lease, with one
// conditional write on the request's own mark for that level: it succeeds if the level has no
// mark, a mark of another period, or a claim whose lease has run out; and only while the
// request is not closed (the sweep's ladder decides which ones escalate: dsr.Request.Escalates). It does not change the request's version: a claim is not a
// change of the request and must not make a DPO's concurrent edit fail.
//
// It returns the request as it stands after the claim, read from the table rather than the
// eventually consistent index, so the caller reports what is true now. fault.Conflict means the
// level is already claimed or reported for the period (by this or a concurrent run), or the
// request is closed or gone.
func (s *Store) ClaimEscalation(ctx context.Context, ref, level, period string, lease time.Time) (*dsr.Request, EscClaim, error) {
	return s.claimMark(ctx, ref, level, period, lease, []dsr.Status{dsr.Open, dsr.InProgress, dsr.PendingVerification})
}

// ClaimLine claims a line of the digest that is not about a deadline (a mail that did not
// arrive, letters not posted, files not downloaded: digest.LineUndelivered,
// digest.LineNotPosted, digest.LineNotDownloaded) for period
// on request ref until lease, as ClaimEscalation claims a level: the same mark, the same
// conditions, and MarkEscalated and ReleaseEscalation after it. It holds for a closed request
// too, as long as it has not expired: those lines are about requests already answered.
func (s *Store) ClaimLine(ctx context.Context, ref, line, period string, lease time.Time) (*dsr.Request, EscClaim, error) {
	return s.claimMark(ctx, ref, line, period, lease, []dsr.Status{dsr.Open, dsr.InProgress, dsr.PendingVerification, dsr.Completed, dsr.Rejected})
}

// claimMark claims mark level for period until lease on a request whose status is one of
// statuses.
func (s *Store) claimMark(ctx context.Context, ref, level, period string, lease time.Time, statuses []dsr.Status) (*dsr.Request, EscClaim, error) {
	c := EscClaim{Ref: ref, Level: level, Period: period, Lease: lease.UTC()}
	u := escUpdate(level)
	u.sets = append(u.sets, "#esc.#lvl = "+u.value(escMark(period, EscClaimed, c.Lease)))
	in := make([]string, len(statuses))
	for i, st := range statuses {
		in[i] = u.value(str(string(st)))
	}
	cond := "attribute_exists(#pk) AND #status IN (" + strings.Join(in, ", ") + ")" +
		" AND (attribute_not_exists(#esc.#lvl) OR #esc.#lvl.#p <> " + u.value(str(period)) +
		" OR (#esc.#lvl.#st = " + u.value(str(EscClaimed)) + " AND #esc.#lvl.#lease < " + u.value(str(TimeKey(s.now()))) + "))"
	u.names["#pk"], u.names["#status"], u.names["#st"], u.names["#lease"] = AttrPK, "status", "st", "lease"
	upd := u.input(s.table, requestKey(ref), cond)
	upd.ReturnValues = ddbtypes.ReturnValueAllNew
	out, err := s.db.UpdateItem(ctx, upd)
	switch {
	case isConditionFailed(err):
		return nil, c, fmt.Errorf("store: claim %s %s %s: %w", ref, level, period, fault.Conflict)
	case err != nil:
		return nil, c, unavailable("store: claim escalation", err)
	}
	it, err := decodeItem(out.Attributes)
	if err != nil {
		return nil, c, err
	}
	return it.toRequest(), c, nil
}

// MarkEscalated records that a claimed level was reported. It is written after the report went
// out, so a crash in between can only make the level be reported again once the lease has
// run out, never skip it. It overwrites the mark whatever its state, as long as it is of the
// claim's period (or was released meanwhile): the report did go out.
func (s *Store) MarkEscalated(ctx context.Context, c EscClaim) error {
	u := escUpdate(c.Level)
	u.sets = append(u.sets, "#esc.#lvl = "+u.value(escMark(c.Period, EscDone, time.Time{})))
	cond := "attribute_exists(#pk) AND (attribute_not_exists(#esc.#lvl) OR #esc.#lvl.#p = " + u.value(str(c.Period)) + ")"
	u.names["#pk"] = AttrPK
	_, err := s.db.UpdateItem(ctx, u.input(s.table, requestKey(c.Ref), cond))
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: mark %s %s %s: %w", c.Ref, c.Level, c.Period, fault.Conflict)
	case err != nil:
		return unavailable("store: mark escalation", err)
	}
	return nil
}

// ReleaseEscalation gives up a claim whose report could not be sent, so the next run reports
// the level at once instead of after the lease. It removes only this very claim.
func (s *Store) ReleaseEscalation(ctx context.Context, c EscClaim) error {
	u := escUpdate(c.Level)
	u.removes = append(u.removes, "#esc.#lvl")
	cond := "#esc.#lvl.#p = " + u.value(str(c.Period)) + " AND #esc.#lvl.#st = " + u.value(str(EscClaimed)) +
		" AND #esc.#lvl.#lease = " + u.value(str(TimeKey(c.Lease)))
	u.names["#st"], u.names["#lease"] = "st", "lease"
	_, err := s.db.UpdateItem(ctx, u.input(s.table, requestKey(c.Ref), cond))
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: release %s %s %s: %w", c.Ref, c.Level, c.Period, fault.Conflict)
	case err != nil:
		return unavailable("store: release escalation", err)
	}
	return nil
}

// escUpdate starts an update of the mark esc.<level>, with the names every escalation write uses.
func escUpdate(level string) *update {
	u := newUpdate()
	u.names["#esc"], u.names["#lvl"], u.names["#p"] = "esc", level, "p"
	return u
}

// escMark is an EscMark as stored. The lease is written as a TimeKey, not with the SDK's time
// encoding (RFC 3339 with trimmed fractions), because the claim compares it as a string.
func escMark(period, state string, lease time.Time) ddbtypes.AttributeValue {
	m := map[string]ddbtypes.AttributeValue{"p": str(period), "st": str(state)}
	if !lease.IsZero() {
		m["lease"] = str(TimeKey(lease))
	}
	return &ddbtypes.AttributeValueMemberM{Value: m}
}

// ClaimMailRetry takes the given mails of r for this sender before it retries them: one write
// records them queued again at now, on condition that each is still in the state r holds. A
// concurrent sweep that took them first makes it fault.Conflict, so a retry is sent once. If the
// sender dies, the mails are stale again after dsr.MailLease. r is updated to match.
func (s *Store) ClaimMailRetry(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, now time.Time) error {
	if len(kinds) == 0 {
		return nil
	}
	u := newUpdate()
	u.names["#mails"], u.names["#state"], u.names["#at"] = "mails", "state", "at"
	var conds []string
	next := make(map[dsr.MailKind]dsr.MailState, len(kinds))
	for i, kind := range kinds {
		old := r.Mails[kind]
		k := fmt.Sprintf("#k%d", i)
		u.names[k] = string(kind)
		oldAt, err := marshalTime(old.At)
		if err != nil {
			return err
		}
		conds = append(conds, "#mails."+k+".#state = "+u.value(str(string(old.State)))+
			" AND #mails."+k+".#at = "+u.value(oldAt))
		st := dsr.MailState{State: dsr.MailQueued, At: now.UTC(), Attempts: old.Attempts}
		mv, err := marshalMail(st)
		if err != nil {
			return err
		}
		u.sets = append(u.sets, "#mails."+k+" = "+u.value(mv))
		next[kind] = st
	}
	cond := "#c_status = " + u.value(str(string(r.Status))) + " AND " + strings.Join(conds, " AND ")
	u.names["#c_status"] = "status"
	_, err := s.db.UpdateItem(ctx, u.input(s.table, requestKey(r.Ref), cond))
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: claim mail retry %s: %w", r.Ref, fault.Conflict)
	case err != nil:
		return unavailable("store: claim mail retry", err)
	}
	for k, st := range next {
		r.Mails[k] = st
	}
	return nil
}

func decodeItem(av map[string]ddbtypes.AttributeValue) (requestItem, error) {
	var it requestItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return it, fmt.Errorf("store: decode request: %w", err)
	}
	return it, nil
}

// marshalTime encodes t exactly as a stored mail state holds it, for an equality condition.
func marshalTime(t time.Time) (ddbtypes.AttributeValue, error) {
	v, err := attributevalue.Marshal(t.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: marshal time: %w", err)
	}
	return v, nil
}

func marshalMail(m dsr.MailState) (ddbtypes.AttributeValue, error) {
	v, err := attributevalue.Marshal(mailToItem(m))
	if err != nil {
		return nil, fmt.Errorf("store: marshal mail state: %w", err)
	}
	return v, nil
}
