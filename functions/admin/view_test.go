package main

import "testing"

// Logs keep the route, never whatever a person typed into the address bar.
func TestLogPath(t *testing.T) {
	for in, want := range map[string]string{
		"/admin":                               "/admin",
		"/admin/report":                        "/admin/report",
		"/admin/requests/k7mq4xtz":             "/admin/requests/K7MQ-4XTZ",
		"/admin/requests/K7MQ-4XTZ/complete":   "/admin/requests/K7MQ-4XTZ/complete",
		"/admin/requests/karen@example.dk":     "/admin/requests/{ref}",
		"/admin/requests/K7MQ-4XTZ/karen@x.dk": "/admin/requests/K7MQ-4XTZ/{action}",
		"/admin/karen@example.dk":              "(other)",
	} {
		if got := logPath(in); got != want {
			t.Errorf("logPath(%q) = %q, want %q", in, got, want)
		}
	}
}
