package main

import (
	"io"
	"log/slog"
	"testing"
)

// BenchmarkBuild is what a cold start does after the SDK's setup: build the handler.
func BenchmarkBuild(b *testing.B) {
	hs := newHarness(b)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for b.Loop() {
		if _, err := build(hs.cfg, hs.env.DynamoDB(), hs.env.SES(), hs.env.S3(b), hs.clock.Now, log); err != nil {
			b.Fatal(err)
		}
	}
}
