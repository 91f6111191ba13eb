package main

import (
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/notice"
)

// digest renders the one mail that reports every claimed line to the DPO addresses
// (digest.Compose).
func (s *Sweeper) digest(claims []claimed, now time.Time) (notice.Message, error) {
	items := make([]digest.Item, len(claims))
	for i, c := range claims {
		items[i] = digest.Item{Req: c.req, Esc: c.esc}
	}
	desk := digest.Desk{Lang: s.lang, Controller: s.cfg.ControllerName, BaseURL: s.cfg.BaseURL, Calendar: s.cfg.Calendar}
	return digest.Compose(s.notices, desk, s.cfg.DPOAddresses, items, now)
}
