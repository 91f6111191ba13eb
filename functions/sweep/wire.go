package main

import (
	"io"
	"log/slog"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// build assembles the sweep over a DynamoDB and an SES client. main passes the AWS clients,
// tests the emulators' (or dead endpoints), so both run exactly this wiring. metrics receives
// the CloudWatch embedded-metric records; function names the function in them.
func build(cfg config.Sweep, db store.DynamoDB, ses notice.SES, now func() time.Time, log *slog.Logger, metrics io.Writer, function string) (*Sweeper, error) {
	notices, err := notice.ForDeployment(cfg.Common)
	if err != nil {
		return nil, err
	}
	st := store.New(db, cfg.Table, store.WithClock(now), store.WithRetention(cfg.Retention))
	mailer := notice.DeploymentMailer(ses, cfg.Common)
	if function == "" {
		function = "sweep"
	}
	return &Sweeper{
		cfg:      cfg,
		store:    st,
		outbox:   &notice.Outbox{Notices: notices, Sender: mailer, Recorder: st, Links: st, Now: now},
		notices:  notices,
		sender:   mailer,
		ladder:   newLadder(cfg.Calendar, cfg.Thresholds),
		lang:     cfg.DefaultLang,
		now:      now,
		log:      log,
		metrics:  metrics,
		function: function,
		reserve:  defaultReserve,
		pageSize: store.SweepPageSize,
	}, nil
}
