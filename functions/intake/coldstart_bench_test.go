package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/testkit/later"
	"github.com/dsrdesk/dsrdesk/shared/testkit/pagecheck"
)

// Pages are parsed when first rendered; every one of them must parse.
func TestEveryPageParses(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	if n := pagecheck.Each(t, pageFiles, "pages/*.html", hs.h.pages.Page); n < 7 {
		t.Errorf("%d pages", n)
	}
}

// BenchmarkBuild is what a cold start does after the SDK's setup: build the handler.
func BenchmarkBuild(b *testing.B) {
	hs := newHarness(b)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for b.Loop() {
		if _, err := build(hs.cfg, hs.db, hs.env.SES(), later.Now{}, hs.clock.Now, log); err != nil {
			b.Fatal(err)
		}
	}
}
