// Package e2e holds the end-to-end tests of the whole desk: they start the local runner
// (infra/local/runner) with the repository's template.yaml and infra/env.json, on free
// ports, so the three functions run as the same bootstrap binaries Lambda runs, behind the
// emulated HTTP API, against dynalite and aws-ses-v2-local. The package has no code of its
// own; everything is in its tests:
//
//   - flow_test.go files and confirms a request over HTTP in da, nb and en as a browser
//     would, reads every mail from the SES emulator, and has the DPO sign in from the mailed
//     link and answer the request;
//   - escalation_test.go seeds a request whose deadline is near and fires the sweep on
//     demand (POST /_local/invoke/SweepFunction), expecting exactly one digest line;
//   - browser_test.go does the filing and the DPO's sign-in in headless Chromium, saving a
//     screenshot of every page under artifacts/e2e/ (skipped without Chromium unless
//     DSR_REQUIRE_BROWSER=1);
//   - events_test.go invokes every sample event in events/ with its function;
//   - failure_test.go checks that a broken template or a function that cannot start fails
//     the runner with a message that says what to fix.
//
// Run them with go test ./infra/e2e/ (make test runs them with everything else).
package e2e
