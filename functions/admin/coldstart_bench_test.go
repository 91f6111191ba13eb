package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/testkit/pagecheck"
)

// Pages are parsed when first rendered; every one of them must parse, partials included.
func TestEveryPageParses(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if n := pagecheck.Each(t, pageFiles, "pages/*.html", e.h.pages.Page); n < 9 {
		t.Errorf("%d pages", n)
	}
}

// BenchmarkBuild is what a cold start does after the SDK's setup: build the handler.
func BenchmarkBuild(b *testing.B) {
	e := setup(b)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for b.Loop() {
		if _, err := newHandler(e.cfg, e.db, e.env.SES(), e.after, e.clock.Now, log); err != nil {
			b.Fatal(err)
		}
	}
}
