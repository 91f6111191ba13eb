package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/postresponse"
)

// Pages are parsed when first rendered; every one of them must parse.
func TestEveryPageParses(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	for _, name := range hs.h.pages.Names() {
		if _, err := hs.h.pages.Page(name); err != nil {
			t.Error(err)
		}
	}
	if len(hs.h.pages.Names()) < 7 {
		t.Errorf("pages %v", hs.h.pages.Names())
	}
}

// BenchmarkBuild is what a cold start does after the SDK's setup: build the handler.
func BenchmarkBuild(b *testing.B) {
	hs := newHarness(b)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for b.Loop() {
		if _, err := build(hs.cfg, hs.db, hs.env.SES(), postresponse.Inline(), hs.clock.Now, log); err != nil {
			b.Fatal(err)
		}
	}
}
