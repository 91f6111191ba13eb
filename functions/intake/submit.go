package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/keyed"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// Rate-limit scopes, part of the counter keys.
const (
	scopeEmail = "email"
	scopeIP    = "ip"
)

// createAttempts bounds the retries on a reference that is already taken; with 30^8
// references a second collision in a row does not happen.
const createAttempts = 3

// receivedBody is the JSON answer to every accepted submission, stored or not.
type receivedBody struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// submit files a request from the form or the JSON API.
//
// The answer to a well-formed submission is the same whether it was stored, rate-limited or
// caught as a bot: nothing in it tells anyone who has filed what.
func (h *Handler) submit(ctx context.Context, c *web.Call) web.Response {
	media := web.MediaType(c.Req)
	asJSON := media == web.MediaJSON || (media != web.MediaForm && c.WantsData())
	channel := "form"
	if asJSON {
		channel = "json"
	}
	log := h.log.With("channel", channel)

	media, body, err := c.Body(maxBody, web.MediaForm, web.MediaJSON)
	if err == nil {
		var in input
		in, err = decode(media, body)
		if err == nil {
			return h.file(ctx, c, log, in, asJSON)
		}
	}
	key := "intake.badrequest"
	switch {
	case errors.Is(err, fault.TooLarge):
		key = "intake.toolarge"
	case asJSON:
		key = "intake.badjson"
	}
	return h.unreadable(ctx, log, "submission", c.Lang, asJSON, err, key)
}

// file validates a decoded submission, applies the bot traps and rate limits, and stores and
// announces the request.
func (h *Handler) file(ctx context.Context, c *web.Call, log *slog.Logger, in input, asJSON bool) web.Response {
	start := time.Now() // the pace is real time; h.now is the request's clock, fixed in tests
	now := h.now()
	c.Choose(in.Sub.Lang)
	lang := c.Lang
	sub := in.Sub.Normalize()
	sub.Lang = string(lang)
	key, err := h.keys.Load(ctx)
	if err != nil {
		log.ErrorContext(ctx, "submission", "outcome", "unavailable", "step", "key", errlog.Attr(err))
		return h.problem(lang, asJSON, err, "intake.unavailable")
	}
	errs := sub.Validate()
	for f, code := range in.Errs {
		if errs == nil {
			errs = dsr.FieldErrors{}
		}
		errs[f] = code
	}
	if len(errs) > 0 {
		log.InfoContext(ctx, "submission", "outcome", "invalid", "fields", fieldCodes(errs))
		if asJSON {
			return web.ProblemJSON(web.Status(errs), i18n.T(lang, "intake.form.errors.heading"), fieldMessages(lang, errs))
		}
		return h.formPage(lang, sub, errs, h.keptTS(key, in.TS, now), "")
	}

	if in.Website != "" {
		log.InfoContext(ctx, "submission", "outcome", "honeypot")
		return h.unstored(ctx, start, lang, asJSON)
	}
	// A company's own site posting JSON renders no form of ours, so it has no render time.
	if !asJSON {
		switch h.filled(key, in.TS, now) {
		case byBot:
			log.InfoContext(ctx, "submission", "outcome", "too_fast")
			return h.unstored(ctx, start, lang, asJSON)
		case stale:
			log.InfoContext(ctx, "submission", "outcome", "stale_form")
			return h.formPage(lang, sub, nil, renderTime(key, now), "intake.form.stale")
		case unstamped:
			log.InfoContext(ctx, "submission", "outcome", "unstamped_form")
			return h.formPage(lang, sub, nil, renderTime(key, now), "intake.form.again")
		}
	}

	byEmail, byIP, held, byCeiling := h.allow(ctx, key, sub.Email, c.ClientIP())
	switch {
	case errors.Is(byEmail, fault.Unavailable), errors.Is(byIP, fault.Unavailable), byCeiling != nil:
		err := errors.Join(byEmail, byIP, byCeiling)
		log.ErrorContext(ctx, "submission", "outcome", "unavailable", "step", "rate_limit", errlog.Attr(err))
		return h.problem(lang, asJSON, err, "intake.unavailable")
	case byEmail != nil || byIP != nil:
		var scopes []string
		if byEmail != nil {
			scopes = append(scopes, scopeEmail)
		}
		if byIP != nil {
			scopes = append(scopes, scopeIP)
		}
		log.WarnContext(ctx, "submission", "outcome", "limited", "scopes", scopes)
		return h.unstored(ctx, start, lang, asJSON)
	}

	r, tok, err := h.create(ctx, sub, now, held)
	if err != nil {
		log.ErrorContext(ctx, "submission", "outcome", "unavailable", "step", "create", errlog.Attr(err))
		return h.problem(lang, asJSON, err, "intake.unavailable")
	}
	if held {
		// Stored and shown to the DPO, never lost; its link waits for a day with room
		// (the sweep), and the person's page says where to write meanwhile.
		log.WarnContext(ctx, "submission", "outcome", "held", "ref", r.Ref, "type", r.Type, "lang", r.Lang)
	} else {
		log.InfoContext(ctx, "submission", "outcome", "stored", "ref", r.Ref, "type", r.Type, "lang", r.Lang)
		h.deliver(ctx, log, r, []dsr.MailKind{dsr.MailVerification}, notice.VerifyLink(h.cfg.BaseURL, tok))
	}
	h.pace.stored(time.Since(start))
	return h.received(lang, asJSON)
}

// unstored is the answer to a submission that was not stored (rate-limited or a bot's): the
// one every accepted submission gets, no sooner than a stored one's (pace.go).
func (h *Handler) unstored(ctx context.Context, start time.Time, lang i18n.Lang, asJSON bool) web.Response {
	h.pace.hold(ctx, start)
	return h.received(lang, asJSON)
}

// received is the one answer to every accepted submission.
func (h *Handler) received(lang i18n.Lang, asJSON bool) web.Response {
	if asJSON {
		return web.JSON(http.StatusAccepted, receivedBody{Status: "received", Message: i18n.T(lang, "intake.json.received")})
	}
	return web.Redirect(h.cfg.BaseURL + "/sent?lang=" + string(lang))
}

// allow counts the submission against the per-address and per-source-IP limits, both at
// once: they are independent writes and the form is waiting. Counters are keyed by hashes
// under the deployment's key, so the table holds no address or IP in clear, nor a hash anyone
// could reverse by trying every IP; the address is counted as the mailbox it reaches
// (dsr.Mailbox), so victim+1@ is the victim.
//
// A submission one limit refuses takes back what it counted against the other: an IP that
// has spent its own limit must not go on to spend a victim's address's, nor an address over
// its limit a shared office IP's. (For the moment between the count and its taking back, a
// concurrent submission sees the counter one higher; only one at the victim's very last
// place could be refused by it.)
//
// The day's ceiling on unconfirmed requests is counted at the same time (store.CountUnconfirmed):
// past it the submission is held, stored without its link (held), not refused. byCeiling is
// the ceiling's counter being unreachable.
func (h *Handler) allow(ctx context.Context, key keyed.Key, email, ip string) (byEmail, byIP error, held bool, byCeiling error) {
	var counted [3]store.Counted
	var wg sync.WaitGroup
	wg.Go(func() {
		counted[0], byEmail = h.store.Allow(ctx, scopeEmail, key.Hash(scopeEmail, dsr.Mailbox(email)), h.cfg.RatePerEmail, h.cfg.RateWindow)
	})
	wg.Go(func() {
		counted[1], byIP = h.store.Allow(ctx, scopeIP, key.Hash(scopeIP, ip), h.cfg.RatePerIP, h.cfg.RateWindow)
	})
	wg.Go(func() {
		counted[2], byCeiling = h.store.CountUnconfirmed(ctx, h.cfg.UnconfirmedPerDay)
		if errors.Is(byCeiling, fault.Limited) {
			held, byCeiling = true, nil
		}
	})
	wg.Wait()
	if byEmail == nil && byIP == nil && byCeiling == nil {
		return nil, nil, held, nil
	}
	h.uncount(ctx, counted[:]...)
	return byEmail, byIP, false, byCeiling
}

// uncount takes back counted events, all at once. One that cannot be taken back stays
// counted until its window ends: a limit errs towards refusing, never towards more mail.
func (h *Handler) uncount(ctx context.Context, counted ...store.Counted) {
	var wg sync.WaitGroup
	for _, c := range counted {
		wg.Go(func() {
			if err := h.store.Uncount(ctx, c); err != nil {
				h.log.WarnContext(ctx, "submission", "step", "uncount", errlog.Attr(err))
			}
		})
	}
	wg.Wait()
}

// create stores a new request received now, drawing another reference if one is taken, and
// returns it with its verification token (whose secret is stored only as a hash).
func (h *Handler) create(ctx context.Context, sub dsr.Submission, now time.Time, held bool) (*dsr.Request, string, error) {
	// The clock starts at receipt, not at confirmation (docs/deadlines.md, clock start): one
	// month, or the short clock of a withdrawal or a marketing objection.
	due := dsr.Type(sub.Type).Due(h.cfg.Calendar, now, h.cfg.PromptWorkingDays)
	var err error
	for range createAttempts {
		ref := dsr.NewReference()
		tok, hash := token.ForRequest(ref)
		r := dsr.New(ref, sub, now, due, hash)
		if held {
			r.Hold()
		}
		if err = h.store.CreateRequest(ctx, r); err == nil {
			return r, tok, nil
		}
		if !errors.Is(err, fault.Conflict) {
			return nil, "", err
		}
	}
	return nil, "", fmt.Errorf("intake: no free reference after %d attempts: %w", createAttempts, err)
}

// fieldCodes lists "field=code" pairs for the log: which fields failed and why, never what
// was in them.
func fieldCodes(errs dsr.FieldErrors) []string {
	out := make([]string, 0, len(errs))
	for f, c := range errs {
		out = append(out, f+"="+c)
	}
	sort.Strings(out)
	return out
}

// cors adds the CORS answer for a configured company site. Only exact, configured origins are
// echoed; the browser keeps every other site from reading our answers.
func (h *Handler) cors(c *web.Call, resp web.Response) web.Response {
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	resp.Headers["Vary"] = "Origin"
	if o, ok := h.corsOrigin(c); ok {
		resp.Headers["Access-Control-Allow-Origin"] = o
	}
	return resp
}

func (h *Handler) corsOrigin(c *web.Call) (string, bool) {
	o := c.Header("origin")
	if o == "" {
		return "", false
	}
	// The answer must echo the browser's own spelling of its origin.
	ok := slices.ContainsFunc(h.cfg.AllowedOrigins, func(a string) bool { return strings.EqualFold(a, o) })
	return o, ok
}

// preflight answers the browser's CORS preflight for a JSON post from a company site. Other
// origins get a 403 without CORS headers, which the browser reports as a CORS failure.
func (h *Handler) preflight(c *web.Call) web.Response {
	o, ok := h.corsOrigin(c)
	if !ok {
		resp := h.problem(c.Lang, true, fault.Forbidden, "intake.forbidden")
		resp.Headers["Vary"] = "Origin"
		return resp
	}
	return web.Response{
		StatusCode: http.StatusNoContent,
		Headers: map[string]string{
			"Access-Control-Allow-Origin":  o,
			"Access-Control-Allow-Methods": "POST",
			"Access-Control-Allow-Headers": "Content-Type, Accept, Accept-Language",
			"Access-Control-Max-Age":       "3600",
			"Vary":                         "Origin",
		},
	}
}
