package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// The level of a request long overdue walks every day since its deadline; this keeps an eye
// on what a backlog costs per request.
func BenchmarkLadderAt(b *testing.B) {
	cal, _ := deadline.ForCountry("DK")
	l := newLadder(cal, []int{5, 2})
	now := time.Date(2026, 12, 21, 7, 0, 0, 0, cal.Location())
	for _, back := range []int{-3, 30, 90} {
		r := &dsr.Request{Status: dsr.Open, Due: cal.EndOfDay(now.AddDate(0, 0, -back))}
		b.Run(fmt.Sprintf("deadline%+dd", -back), func(b *testing.B) {
			for b.Loop() {
				l.At(r, now)
			}
		})
	}
}

// A digest of a bad day: 500 lines over every level.
func BenchmarkDigest(b *testing.B) {
	cal, _ := deadline.ForCountry("NO")
	cfg := config.Sweep{Common: config.Common{ControllerName: "Nordlys AS", Calendar: cal, DefaultLang: i18n.NB,
		BaseURL: "https://dsr.example.no", DPOAddresses: []string{"dpo@example.no"}}, Thresholds: []int{5, 2}}
	n, err := notice.ForDeployment(cfg.Common)
	if err != nil {
		b.Fatal(err)
	}
	l := newLadder(cal, cfg.Thresholds)
	s := &Sweeper{cfg: cfg, notices: n, ladder: l, lang: i18n.NB}
	now := time.Date(2027, 3, 22, 7, 0, 0, 0, cal.Location())
	var claims []claimed
	for i := range 500 {
		r := &dsr.Request{Ref: dsr.NewReference(), Type: dsr.Access, Status: dsr.Open,
			ReceivedAt: now.AddDate(0, -1, -i%10), Due: cal.Due(now.AddDate(0, -1, 7-i%10))}
		esc, ok := l.At(r, now)
		if !ok {
			continue
		}
		claims = append(claims, claimed{claim: store.EscClaim{Ref: r.Ref, Level: esc.Level.Name}, esc: &esc, req: r})
	}
	for b.Loop() {
		if _, err := s.digest(claims, now); err != nil {
			b.Fatal(err)
		}
	}
}
