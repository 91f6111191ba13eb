package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// requests is what the function reads and writes of requests.
type requests interface {
	CreateRequest(ctx context.Context, r *dsr.Request) error
	GetRequest(ctx context.Context, ref string) (*dsr.Request, error)
	Commit(ctx context.Context, r *dsr.Request, c dsr.Change) error
}

// deliverer sends the mails a committed change queued and records how they went; DeliverNew
// does it for a request just stored, with one read less.
type deliverer interface {
	Deliver(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error
	DeliverNew(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error
}

// handler takes SES receipt events and SNS notifications of SES events.
type handler struct {
	cfg    config.Inbound
	reqs   requests
	raw    objects
	outbox deliverer
	now    func() time.Time
	log    *slog.Logger
	// maxSize is the largest mail the handler reads (maxMail; a test lowers it).
	maxSize int64
}

// envelope is as much of an event as tells which it is: SES's receipt events say
// "eventSource": "aws:ses", SNS's "EventSource": "aws:sns".
type envelope struct {
	Records []struct {
		Lower string `json:"eventSource"`
		Upper string `json:"EventSource"`
	} `json:"Records"`
}

// errUnknownEvent is an event the function was not made for: a configuration error, which
// fails the invocation so that it shows.
var errUnknownEvent = errors.New("inbound: not an SES receipt or an SNS notification")

// Handle takes one invocation. An error makes Lambda retry the event (asynchronous
// invocations are retried twice, then parked on the failure queue, which alarms); so it is
// returned only when a retry can help: the table or the bucket could not be reached. Every
// step is safe to repeat: a mail stored once is recognised by its message id.
func (h *handler) Handle(ctx context.Context, raw json.RawMessage) (err error) {
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("inbound: panic")
		}
	}()
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || len(env.Records) == 0 {
		return errUnknownEvent
	}
	switch src := env.Records[0].Lower + env.Records[0].Upper; src {
	case "aws:ses":
		var ev events.SimpleEmailEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("inbound: SES event: %w", err)
		}
		var errs []error
		for _, rec := range ev.Records {
			errs = append(errs, h.mail(ctx, rec.SES))
		}
		return errors.Join(errs...)
	case "aws:sns":
		var ev events.SNSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("inbound: SNS event: %w", err)
		}
		var errs []error
		for _, rec := range ev.Records {
			errs = append(errs, h.feedback(ctx, rec.SNS))
		}
		return errors.Join(errs...)
	}
	return errUnknownEvent
}
