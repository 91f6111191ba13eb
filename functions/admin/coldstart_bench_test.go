package main

import (
	"io"
	"log/slog"
	"testing"
)

// Pages are parsed when first rendered; every one of them must parse, partials included.
func TestEveryPageParses(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, name := range e.h.pages.Names() {
		if _, err := e.h.pages.Page(name); err != nil {
			t.Error(err)
		}
	}
	if len(e.h.pages.Names()) < 9 {
		t.Errorf("pages %v", e.h.pages.Names())
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
