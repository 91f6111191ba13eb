package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/notice"
)

// sesEvent is an SES event as its configuration set's event destination publishes it to SNS
// (eventType), or as an identity's notifications would (notificationType): what happened,
// when, and the mail's tags, which name its request and kind (notice.Tags).
type sesEvent struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Bounce           *struct {
		BounceType    string    `json:"bounceType"`
		BounceSubType string    `json:"bounceSubType"`
		Timestamp     time.Time `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		FeedbackType string    `json:"complaintFeedbackType"`
		SubType      string    `json:"complaintSubType"`
		Timestamp    time.Time `json:"timestamp"`
	} `json:"complaint"`
	Mail struct {
		MessageID string              `json:"messageId"`
		Tags      map[string][]string `json:"tags"`
	} `json:"mail"`
}

// feedback takes one SES event from SNS: a bounce or a complaint about a mail the desk sent
// is recorded on that mail of its request (dsr.Request.RecordFeedback): one read, one write.
// Events of other kinds, of mails about no request (a digest, a sign-in link) and of
// requests gone are logged and dropped: nothing can be done with them.
func (h *handler) feedback(ctx context.Context, n events.SNSEntity) error {
	var ev sesEvent
	if err := json.Unmarshal([]byte(n.Message), &ev); err != nil {
		h.log.WarnContext(ctx, "feedback", "outcome", "unreadable", "sns", n.MessageID)
		return nil
	}
	log := h.log.With("message", ev.Mail.MessageID)
	var f dsr.Feedback
	switch kind := strings.ToLower(ev.EventType + ev.NotificationType); {
	case kind == "bounce" && ev.Bounce != nil:
		f = dsr.Feedback{Kind: dsr.FeedbackBounce, At: ev.Bounce.Timestamp, Detail: ev.Bounce.BounceType + "/" + ev.Bounce.BounceSubType}
	case kind == "complaint" && ev.Complaint != nil:
		f = dsr.Feedback{Kind: dsr.FeedbackComplaint, At: ev.Complaint.Timestamp, Detail: strings.Trim(ev.Complaint.FeedbackType+"/"+ev.Complaint.SubType, "/")}
	default:
		log.InfoContext(ctx, "feedback", "outcome", "ignored", "type", kind)
		return nil
	}
	if f.At.IsZero() {
		f.At = h.now()
	}
	ref, refOK := dsr.NormalizeReference(tag(ev.Mail.Tags, notice.TagRef))
	mail := dsr.MailKind(tag(ev.Mail.Tags, notice.TagKind))
	if !refOK || mail == "" {
		log.InfoContext(ctx, "feedback", "outcome", "no_request", "feedback", f.Kind)
		return nil
	}
	log = log.With("ref", ref, "mail", string(mail), "feedback", f.Kind)
	for range attempts {
		r, err := h.reqs.GetRequest(ctx, ref)
		switch {
		case errors.Is(err, fault.NotFound):
			log.InfoContext(ctx, "feedback", "outcome", "gone")
			return nil
		case err != nil:
			return err
		}
		if old := r.Mails[mail].Feedback; old != nil && old.Kind == f.Kind && old.At.Equal(f.At.UTC()) {
			log.InfoContext(ctx, "feedback", "outcome", outcomeDuplicate)
			return nil
		}
		ch, err := r.RecordFeedback(mail, f)
		if err != nil {
			log.InfoContext(ctx, "feedback", "outcome", "no_such_mail")
			return nil
		}
		switch err := h.reqs.Commit(ctx, r, ch); {
		case errors.Is(err, fault.Conflict):
			continue
		case err != nil:
			log.ErrorContext(ctx, "feedback", "outcome", "not_stored", errlog.Attr(err))
			return err
		}
		log.InfoContext(ctx, "feedback", "outcome", "recorded", "detail", f.Detail)
		return nil
	}
	return fmt.Errorf("inbound: feedback on %s: %w", ref, fault.Conflict)
}

// tag is the first value of a mail's tag name.
func tag(tags map[string][]string, name string) string {
	if v := tags[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}
