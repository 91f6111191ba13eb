package main

import (
	"log/slog"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// build assembles the handler over a DynamoDB and an SES client. main passes the AWS clients
// and the queue of work after the response, tests the emulators' and a later.Now or
// later.Held queue (shared/testkit/later), so both run exactly this wiring.
func build(cfg config.Portal, db store.DynamoDB, ses notice.SES, files presigner, after afterResponse, now func() time.Time, log *slog.Logger) (*Handler, error) {
	notices, err := notice.ForDeployment(cfg.Common)
	if err != nil {
		return nil, err
	}
	st := store.New(db, cfg.Table, store.WithClock(now), store.WithRetention(cfg.Retention))
	mailer := notice.DeploymentMailer(ses, cfg.Common)
	outbox := &notice.Outbox{Notices: notices, Sender: mailer, Recorder: st, Links: st, Now: now}
	return NewHandler(cfg, st, outbox, notices, mailer, files, after, now, log)
}
