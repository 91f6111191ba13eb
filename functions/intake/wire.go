package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// build assembles the handler over a DynamoDB and an SES client. main passes the AWS clients,
// tests the emulators' (or dead endpoints), so both run exactly this wiring.
func build(cfg config.Intake, db store.DynamoDB, ses notice.SES, now func() time.Time, log *slog.Logger) (*Handler, error) {
	loc, err := deadline.Location(cfg.Country)
	if err != nil {
		return nil, err
	}
	lang, ok := i18n.Parse(cfg.DefaultLang)
	if !ok {
		return nil, fmt.Errorf("intake: default language %q", cfg.DefaultLang)
	}
	notices, err := notice.New(notice.Settings{
		Controller:   cfg.ControllerName,
		Country:      cfg.Country,
		BaseURL:      cfg.BaseURL,
		DPOAddresses: cfg.DPOAddresses,
		DefaultLang:  lang,
		Location:     loc,
	})
	if err != nil {
		return nil, err
	}
	st := store.New(db, cfg.Table, store.WithClock(now))
	outbox := &notice.Outbox{
		Notices:  notices,
		Sender:   notice.NewMailer(ses, cfg.Sender),
		Recorder: st,
		Now:      now,
	}
	return NewHandler(cfg, st, outbox, now, log)
}
