package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// Outcomes of one mail, as logged.
const (
	outcomeRequest     = "request"
	outcomeReply       = "reply"
	outcomeQuarantined = "quarantined"
	outcomeAutomatic   = "automatic"
	outcomeDuplicate   = "duplicate"
)

// attempts bounds the tries of a reply that lost a race with another change of its request.
const attempts = 3

// mail takes one mail SES received for the privacy address: its receipt (verdicts,
// recipients, the headers) is in the event, the message itself in the bucket, where SES's S3
// action put it first. A mail is read once (GetObject), then stored as one request (PutItem)
// or joined to the request it answers (read with the mail, then one write), and only then is
// anything sent.
func (h *handler) mail(ctx context.Context, s events.SimpleEmailService) error {
	m, rc := s.Mail, s.Receipt
	log := h.log.With("message", m.MessageID)
	received := rc.Timestamp.UTC()
	if received.IsZero() {
		received = m.Timestamp.UTC()
	}
	if received.IsZero() {
		received = h.now().UTC()
	}
	in := dsr.IncomingMail{ReceivedAt: received, Lang: string(h.cfg.DefaultLang), Mail: dsr.InboundMail{
		Key:       config.InboundPrefix + m.MessageID,
		Subject:   decodeHeader(m.CommonHeaders.Subject),
		DMARCFail: strings.EqualFold(rc.DMARCVerdict.Status, "FAIL"),
	}}
	if len(m.CommonHeaders.From) > 0 {
		if a, err := addressParser.Parse(m.CommonHeaders.From[0]); err == nil {
			in.From, in.Name = a.Address, a.Name
		}
	}
	// No answer to a machine, whatever it says: a null sender is a bounce (RFC 5321 § 4.5.5),
	// and the header says the rest (RFC 3834). A mail from the desk itself would be a loop.
	if nullSender(m.Source) || (!m.HeadersTruncated && automatic(eventHeader(m.Headers))) || h.ours(in.From) {
		log.InfoContext(ctx, "mail", "outcome", outcomeAutomatic)
		return nil
	}
	switch {
	case strings.EqualFold(rc.VirusVerdict.Status, "FAIL"):
		return h.quarantine(ctx, log, in, dsr.QuarantineVirus)
	case strings.EqualFold(rc.SpamVerdict.Status, "FAIL"):
		return h.quarantine(ctx, log, in, dsr.QuarantineSpam)
	}
	if h.cfg.Bucket == "" {
		return fmt.Errorf("inbound: a mail arrived, but INBOUND_BUCKET is not set")
	}
	// A reply names its request in the receipt (the +REF recipient, or the subject SES read),
	// so the request is read while the mail is: a reply costs the round trips a new request
	// does. Should the mail say otherwise once parsed, reply reads what it names.
	var early *earlyRead
	if ref, ok := dsr.ThreadRef(h.cfg.InboundAddress, rc.Recipients, in.Mail.Subject); ok {
		early = h.readEarly(ctx, ref)
	}
	obj, err := h.raw.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(h.cfg.Bucket), Key: aws.String(in.Mail.Key)})
	if err != nil {
		// The S3 action runs before this one, so the mail is there: the bucket could not be
		// reached, and Lambda's retry will find it.
		log.ErrorContext(ctx, "mail", "outcome", "unreadable_bucket", errlog.Attr(err))
		return fmt.Errorf("inbound: read %s: %w", in.Mail.Key, err)
	}
	defer obj.Body.Close()
	if aws.ToInt64(obj.ContentLength) > h.maxSize {
		return h.quarantine(ctx, log, in, dsr.QuarantineTooLarge)
	}
	p, err := parse(obj.Body)
	if err != nil {
		log.InfoContext(ctx, "mail", "unreadable", err.Error())
		return h.quarantine(ctx, log, in, dsr.QuarantineUnreadable)
	}
	if p.Automatic {
		log.InfoContext(ctx, "mail", "outcome", outcomeAutomatic)
		return nil
	}
	if p.From != "" {
		in.From, in.Name = p.From, p.Name
	}
	if p.Subject != "" {
		in.Mail.Subject = p.Subject
	}
	if h.ours(in.From) {
		log.InfoContext(ctx, "mail", "outcome", outcomeAutomatic)
		return nil
	}
	in.Text, in.Mail.Attachments = p.Text, p.Attachments
	in.Lang = guessLang(in.Mail.Subject+"\n"+p.Text, string(h.cfg.DefaultLang))
	if dsr.CheckEmail(in.From) != "" {
		return h.quarantine(ctx, log, in, dsr.QuarantineAddress)
	}
	if ref, ok := dsr.ThreadRef(h.cfg.InboundAddress, rc.Recipients, in.Mail.Subject); ok {
		if done, err := h.reply(ctx, log, ref, in, early); done {
			return err
		}
	}
	return h.request(ctx, log, in)
}

// request stores a readable mail as an unclassified request, due on the short clock from its
// receipt, and sends its sender the confirmation link a form request gets.
func (h *handler) request(ctx context.Context, log *slog.Logger, in dsr.IncomingMail) error {
	var link string
	r, err := h.store(ctx, log, in, func(ref string) *dsr.Request {
		tok, hash := token.ForRequest(ref)
		link = notice.VerifyLink(h.cfg.BaseURL, tok)
		return dsr.FromMail(ref, in, h.due(in.ReceivedAt), hash)
	})
	if err != nil || r == nil {
		return err
	}
	log.InfoContext(ctx, "mail", "outcome", outcomeRequest, "ref", r.Ref, "lang", r.Lang, "attachments", len(r.Inbound.Attachments), "dmarc_fail", r.Inbound.DMARCFail)
	// The request is stored with its mail queued: a mail that fails here is the sweep's.
	if err := h.outbox.DeliverNew(ctx, r, r.QueuedMails(), link); err != nil {
		log.WarnContext(ctx, "mail", "ref", r.Ref, "outcome", "ack_failed", errlog.Attr(err))
	}
	return nil
}

// quarantine stores a mail the desk will not answer by itself, for the DPO. Nothing is sent.
func (h *handler) quarantine(ctx context.Context, log *slog.Logger, in dsr.IncomingMail, reason string) error {
	r, err := h.store(ctx, log, in, func(ref string) *dsr.Request {
		return dsr.QuarantineMail(ref, in, reason, h.due(in.ReceivedAt))
	})
	if err != nil || r == nil {
		return err
	}
	log.InfoContext(ctx, "mail", "outcome", outcomeQuarantined, "ref", r.Ref, "reason", reason, "dmarc_fail", in.Mail.DMARCFail)
	return nil
}

// store stores the request make makes under the reference the mail's message id gives it
// (dsr.ReferenceFor), so that a mail SES delivers twice, or Lambda retries, is stored once:
// it returns nil and no error then. A reference another request already has gets a fresh
// one.
func (h *handler) store(ctx context.Context, log *slog.Logger, in dsr.IncomingMail, make func(ref string) *dsr.Request) (*dsr.Request, error) {
	r := make(dsr.ReferenceFor(in.Mail.Key))
	for range attempts {
		err := h.reqs.CreateRequest(ctx, r)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, fault.Conflict) {
			log.ErrorContext(ctx, "mail", "outcome", "not_stored", errlog.Attr(err))
			return nil, err
		}
		old, err := h.reqs.GetRequest(ctx, r.Ref)
		switch {
		case err == nil && old.Inbound != nil && old.Inbound.Key == in.Mail.Key:
			log.InfoContext(ctx, "mail", "outcome", outcomeDuplicate, "ref", old.Ref)
			return nil, nil
		case err != nil && !errors.Is(err, fault.NotFound):
			return nil, err
		}
		r = make(dsr.NewReference())
	}
	return nil, fmt.Errorf("inbound: no free reference for %s", in.Mail.Key)
}

// reply joins a mail from a request's own requester to its conversation, as the status page
// does (dsr.Request.Reply), and tells the DPO. done is false when the mail cannot join the
// request it names (gone, answered, unconfirmed, or from another address): it is then a
// request of its own.
func (h *handler) reply(ctx context.Context, log *slog.Logger, ref string, in dsr.IncomingMail, early *earlyRead) (done bool, _ error) {
	text := replyText(in)
	for i := range attempts {
		var r *dsr.Request
		var err error
		if i == 0 && early != nil && early.ref == ref {
			r, err = early.wait()
		} else {
			r, err = h.reqs.GetRequest(ctx, ref)
		}
		switch {
		case errors.Is(err, fault.NotFound):
			return false, nil
		case err != nil:
			return true, err
		case !r.SameSender(in.From) || !r.CanReply():
			log.InfoContext(ctx, "mail", "names", r.Ref, "joined", false, "status", string(r.Status))
			return false, nil
		}
		for _, e := range r.Audit {
			if e.Action == dsr.ActionReplied && e.At.Equal(in.ReceivedAt) {
				log.InfoContext(ctx, "mail", "outcome", outcomeDuplicate, "ref", r.Ref)
				return true, nil
			}
		}
		ch, err := r.Reply(text, in.ReceivedAt, h.cfg.Calendar)
		if err != nil {
			log.InfoContext(ctx, "mail", "names", r.Ref, "joined", false, errlog.Attr(err))
			return false, nil
		}
		ch.Message.Mail = &dsr.InboundMail{Key: in.Mail.Key, Subject: dsr.CleanLine(in.Mail.Subject, dsr.MaxSubject), Attachments: in.Mail.Attachments, DMARCFail: in.Mail.DMARCFail}
		// The store writes the message beside the request with the change that records it.
		err = h.reqs.Commit(ctx, r, ch)
		switch {
		case errors.Is(err, fault.Conflict):
			continue
		case err != nil:
			return true, err
		}
		log.InfoContext(ctx, "mail", "outcome", outcomeReply, "ref", r.Ref, "resumed", len(ch.Also) > 0)
		if err := h.outbox.Deliver(ctx, r, ch.Mails, ""); err != nil {
			log.WarnContext(ctx, "mail", "ref", r.Ref, "outcome", "dpo_notice_failed", errlog.Attr(err))
		}
		return true, nil
	}
	return true, fmt.Errorf("inbound: reply to %s: %w", ref, fault.Conflict)
}

// earlyRead is a request read while the mail that names it is (mail).
type earlyRead struct {
	ref  string
	done chan struct{}
	r    *dsr.Request
	err  error
}

// readEarly starts reading the request ref.
func (h *handler) readEarly(ctx context.Context, ref string) *earlyRead {
	e := &earlyRead{ref: ref, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		e.r, e.err = h.reqs.GetRequest(ctx, ref)
	}()
	return e
}

// wait returns the request as read.
func (e *earlyRead) wait() (*dsr.Request, error) {
	<-e.done
	return e.r, e.err
}

// due is the deadline of an unclassified request received at received: the short clock.
func (h *handler) due(received time.Time) time.Time {
	return dsr.Unclassified.Due(h.cfg.Calendar, received, h.cfg.PromptWorkingDays)
}

// ours reports whether addr is the desk's own: its sender, or the privacy address in any
// +tag form. Mail from there is a loop.
func (h *handler) ours(addr string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return false
	}
	if addr == strings.ToLower(h.cfg.Sender) {
		return true
	}
	if h.cfg.InboundAddress == "" {
		return false
	}
	return dsr.Mailbox(addr) == dsr.Mailbox(h.cfg.InboundAddress) && strings.EqualFold(addr[strings.LastIndexByte(addr, '@'):],
		h.cfg.InboundAddress[strings.LastIndexByte(h.cfg.InboundAddress, '@'):])
}

// nullSender reports whether an envelope sender is the null reverse path of a bounce.
func nullSender(source string) bool {
	s := strings.TrimSpace(source)
	return s == "" || s == "<>"
}

// eventHeader is the header SES put in the event, as textproto reads one.
func eventHeader(hs []events.SimpleEmailHeader) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	for _, x := range hs {
		h.Add(x.Name, x.Value)
	}
	return h
}

// quoteStart finds where a reply quotes the mail it answers, as the common clients write it:
// a line of "> ", an attribution ("On … wrote:", "Den … skrev …:"), Outlook's header block
// or its "Original Message" line. It is compiled on the first reply, not at start: its
// bounded attribution line (.{0,200}) makes it the costliest thing the function's start did
// (0.7 ms of a 6 ms cold start), and most mails the function reads are not replies.
var quoteStart = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?im)^(>|-{2,}\s*(original message|oprindelig meddelelse|opprinnelig melding|videresendt|forwarded)|(on|den|d\.|man|tir|ons|tor|fre|lør|søn|mon|tue|wed|thu|fri|sat|sun)\b.{0,200}\b(wrote|skrev)\s*:?\s*$|(from|fra):\s.*\n\s*(sent|sendt|date|dato):)`)
})

// replyText is what a reply says, without the mail it quotes; a reply that is all quote (or
// has no text, only attachments) says so in a line the DPO reads.
func replyText(in dsr.IncomingMail) string {
	text := strings.ReplaceAll(in.Text, "\r\n", "\n")
	if loc := quoteStart().FindStringIndex(text); loc != nil {
		if own := strings.TrimSpace(text[:loc[0]]); own != "" {
			text = own
		}
	}
	text = dsr.CleanText(text, dsr.MaxMessage)
	if text == "" {
		var names []string
		for _, a := range in.Mail.Attachments {
			names = append(names, a.Name)
		}
		text = "(" + strings.Join(append([]string{in.Mail.Subject}, names...), ", ") + ")"
	}
	return text
}
