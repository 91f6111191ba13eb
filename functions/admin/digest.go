package main

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The digest preview: the daily digest as a run of the sweep now would write it, so a DPO sees
// what it will tell them before a deadline is near, and can send it to themselves to see it
// in their own mailbox. It reads what the sweep reads (the sweep index up to the ladder's
// horizon, the unconfirmed requests on the short clock, the closed ones with mails that did
// not arrive, letters not posted or an answer's reminder due, and those answers' downloads;
// whether a letter waits to be posted is on the request item already read) and composes the mail
// with the sweep's own code (shared/digest). It writes nothing: no line is marked reported,
// so the sweep's digest still reports every line.

// previewMax bounds the lines the preview reads; a desk with more at a level at once is told
// so, and the digest itself still reports them all.
const previewMax = 500

// previewRead bounds the requests each of the preview's three reads goes through, at a level or
// not: a flood of unconfirmed requests sits in the queue it reads, and the page must answer in
// bounded time whatever the queues hold.
const previewRead = 2000

type digestView struct {
	CSRF string
	// Levels says when the digest reports a request: the ladder's levels in words.
	Levels string
	// Mail is the digest as it would go; nil when nothing is at a level.
	Mail *mailPreview
	// Lines counts the requests in it; Reported those a digest already reported at the
	// same level, which the next run leaves out; More that there were more than previewMax.
	Lines, Reported int
	More            bool
	// Summary says Lines and Reported in words; Max is previewMax.
	Summary string
	Max     int
	// Me is the signed-in DPO's address, where "send it to me" sends; Sent is set to it
	// after it went.
	Me, Sent string
}

// digestPreview shows the digest a run now would send.
func (h *handler) digestPreview(c *call) web.Response {
	now := h.now()
	msg, v, err := h.composeDigest(c, now)
	if err != nil {
		return h.fail(c, err)
	}
	if msg != nil {
		v.Mail = &mailPreview{To: strings.Join(msg.To, ", "), Subject: msg.Subject, Text: msg.Text}
	}
	if c.Query.Get("sent") != "" {
		v.Sent = v.Me
	}
	return h.render(c, http.StatusOK, "digest", "admin.digest.title", v)
}

// sendDigest sends the digest a run now would send to the signed-in DPO alone, then shows the
// preview again saying so.
func (h *handler) sendDigest(c *call) web.Response {
	if _, err := h.form(c); err != nil {
		return h.fail(c, err)
	}
	now := h.now()
	msg, v, err := h.composeDigest(c, now)
	if err != nil {
		return h.fail(c, err)
	}
	if msg == nil {
		return web.Redirect("/admin/digest")
	}
	msg.To = []string{c.sess.Email}
	if err := h.sender.Send(c.ctx, *msg); err != nil {
		return h.fail(c, err)
	}
	h.log.Info("digest preview sent", "lines", v.Lines, "dpo", h.actor(c))
	return web.Redirect("/admin/digest?sent=1")
}

// composeDigest reads the requests at a level now and composes the digest of them, nil if
// there are none.
func (h *handler) composeDigest(c *call, now time.Time) (*notice.Message, *digestView, error) {
	ladder := digest.NewLadder(h.cal, h.cfg.Thresholds)
	v := &digestView{CSRF: c.sess.CSRF, Levels: levelsText(c.Lang, ladder), Max: previewMax, Me: c.sess.Email}
	var (
		mu   sync.Mutex
		rep  digest.Report
		errs [3]error
		wg   sync.WaitGroup
		// answered are the answers whose reminder is due: their downloads are read after
		// the queues, all at once.
		answered []store.SweepItem
	)
	// line adds what one request read from the index puts in the digest, saying whether a
	// digest reported it already (its mark covers the period) and whether there was room.
	line := func(it store.SweepItem, name, period string, add func()) bool {
		mu.Lock()
		defer mu.Unlock()
		if rep.Len() >= previewMax {
			v.More = true
			return false
		}
		add()
		if m, ok := it.Esc[name]; ok && m.Covers(period, now) {
			v.Reported++
		}
		return true
	}
	read := func(i int, q dsr.Queue, until time.Time) {
		n := 0
		for it, err := range h.reqs.SweepDue(c.ctx, q, until, 0) {
			if n++; n > h.previewRead {
				mu.Lock()
				v.More = true
				mu.Unlock()
				return
			}
			if err != nil {
				errs[i] = errors.Join(errs[i], err)
				continue
			}
			if esc, ok := ladder.At(it.Request, now); ok {
				if !line(it, esc.Level.Name, esc.Period, func() { rep.Deadlines = append(rep.Deadlines, digest.Item{Req: it.Request, Esc: esc}) }) {
					return
				}
			}
			if u, period, ok := ladder.UndeliveredAt(it.Request, now); ok {
				if !line(it, digest.LineUndelivered, period, func() { rep.Undelivered = append(rep.Undelivered, u) }) {
					return
				}
			}
			if p, period, ok := ladder.NotPostedAt(it.Request, now); ok {
				if !line(it, digest.LineNotPosted, period, func() { rep.NotPosted = append(rep.NotPosted, p) }) {
					return
				}
			}
			if it.Request.DeliveryReminderDue(now) {
				mu.Lock()
				answered = append(answered, it)
				mu.Unlock()
			}
		}
	}
	wg.Go(func() { read(0, dsr.QueueOpen, ladder.Horizon(now)) })
	wg.Go(func() { read(1, dsr.QueueUnverified, now) })
	wg.Go(func() { read(2, dsr.QueueRetry, now) })
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, nil, err
	}
	// One round trip more when an answer's reminder is due (the sweep records each on its
	// next run, so there are seldom many).
	downloads, err := h.downloadsOf(c, answered)
	if err != nil {
		return nil, nil, err
	}
	for i, it := range answered {
		if f, period, ok := digest.NotDownloadedAt(it.Request, downloads[i], now); ok {
			if !line(it, digest.LineNotDownloaded, period, func() { rep.NotDownloaded = append(rep.NotDownloaded, f) }) {
				break
			}
		}
	}
	v.Lines = rep.Len()
	if v.More {
		v.Max = v.Lines // what the page says it shows
	}
	v.Summary = plural(c.Lang, "admin.digest.count", v.Lines)
	if v.Reported > 0 {
		v.Summary += " " + i18n.T(c.Lang, "admin.digest.reported", v.Reported)
	}
	if v.Lines == 0 {
		return nil, v, nil
	}
	desk := digest.Desk{Lang: h.cfg.DefaultLang, Controller: h.cfg.ControllerName, BaseURL: h.cfg.BaseURL, Calendar: h.cal}
	msg, err := digest.Compose(h.notices, desk, h.cfg.DPOAddresses, rep, now)
	if err != nil {
		return nil, nil, err
	}
	return &msg, v, nil
}

// downloadsOf reads the downloads of each request of items, a few at a time.
func (h *handler) downloadsOf(c *call, items []store.SweepItem) ([][]dsr.Download, error) {
	out := make([][]dsr.Download, len(items))
	errs := make([]error, len(items))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i], errs[i] = h.reqs.Downloads(c.ctx, it.Request.Ref)
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// levelsText says when the digest reports a request: "overdue, due today, 2 and 5 working days
// before the deadline", the largest first.
func levelsText(l i18n.Lang, ladder digest.Ladder) string {
	var days []string
	for _, lv := range slices.Backward(ladder.Levels()) {
		if lv.WorkingDays > 0 {
			days = append(days, strconv.Itoa(lv.WorkingDays))
		}
	}
	list := days[len(days)-1]
	if len(days) > 1 {
		list = strings.Join(days[:len(days)-1], ", ") + " " + i18n.T(l, "admin.digest.and") + " " + list
	}
	return i18n.T(l, "admin.digest.levels", list)
}
