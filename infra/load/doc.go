// Package load holds the desk's load test: the local runner (infra/local/runner) on loopback,
// 50 clients filing distinct requests for a minute and then confirming them, and a burst from
// one address and one IP against the normal rate limits. It checks that nothing answers 5xx,
// that every accepted request is stored once with its mail, and that the limits hold, and it
// prints latency and throughput.
//
// It runs only when asked, as make load does:
//
//	DSR_LOAD=1 go test -count=1 -v -timeout 20m ./infra/load
//
// DSR_LOAD_SECONDS (60), DSR_LOAD_CLIENTS (50) and DSR_LOAD_WORKERS (function processes, 4)
// change its size.
package load
