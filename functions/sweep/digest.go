package main

import (
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/notice"
)

// digest renders the one mail that reports every claimed line to the DPO addresses
// (digest.Compose).
func (s *Sweeper) digest(claims []claimed, now time.Time) (notice.Message, error) {
	var rep digest.Report
	for _, c := range claims {
		switch {
		case c.esc != nil:
			rep.Deadlines = append(rep.Deadlines, digest.Item{Req: c.req, Esc: *c.esc})
		case c.undelivered != nil:
			rep.Undelivered = append(rep.Undelivered, *c.undelivered)
		case c.letters != nil:
			rep.NotPosted = append(rep.NotPosted, *c.letters)
		case c.files != nil:
			rep.NotDownloaded = append(rep.NotDownloaded, *c.files)
		}
	}
	desk := digest.Desk{Lang: s.lang, Controller: s.cfg.ControllerName, BaseURL: s.cfg.BaseURL, Calendar: s.cfg.Calendar}
	return digest.Compose(s.notices, desk, s.cfg.DPOAddresses, rep, now)
}
