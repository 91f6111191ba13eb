package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// objects is the part of the S3 API the function calls: it reads a raw mail, once.
type objects interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// getObject hands the S3 client to the handler through GetObject alone, which keeps S3's
// other operations out of the binary (see store.Client for why the linker would keep them).
type getObject func(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)

func (f getObject) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return f(ctx, in, o...)
}

// build assembles the handler over a DynamoDB, an SES and an S3 client. main passes the AWS
// clients, tests the emulators', so both run exactly this wiring.
func build(cfg config.Inbound, db store.DynamoDB, ses notice.SES, s3 objects, now func() time.Time, log *slog.Logger) (*handler, error) {
	notices, err := notice.ForDeployment(cfg.Common)
	if err != nil {
		return nil, err
	}
	st := store.New(db, cfg.Table, store.WithClock(now), store.WithRetention(cfg.Retention))
	return &handler{
		cfg:     cfg,
		reqs:    st,
		raw:     s3,
		outbox:  &notice.Outbox{Notices: notices, Sender: notice.DeploymentMailer(ses, cfg.Common), Recorder: st, Links: st, Now: now},
		now:     now,
		log:     log,
		maxSize: maxMail,
	}, nil
}
