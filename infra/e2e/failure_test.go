package e2e

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/local/runner"
)

// TestBadTemplate breaks the real template.yaml in the ways an edit does and expects the runner
// to refuse at once, before building anything, with a message that points at the mistake.
func TestBadTemplate(t *testing.T) {
	tpl, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		old, new string            // the edit to template.yaml
		params   map[string]string // or a parameter the template refuses
		want     []string          // what the message must say
	}{
		{name: "not YAML", old: "\nResources:\n", new: "\nResources:\n  Broken: [\n",
			want: []string{"template.yaml", "parse template", "line"}},
		{name: "reference to nothing", old: "TABLE_NAME: !Ref RequestsTable", new: "TABLE_NAME: !Ref RequestTable",
			want: []string{"TABLE_NAME", "line", "!Ref RequestTable", "no such parameter or resource"}},
		{name: "intrinsic the runner does not evaluate", old: "TABLE_NAME: !Ref RequestsTable", new: "TABLE_NAME: !Base64 RequestsTable",
			want: []string{"TABLE_NAME", "unsupported intrinsic Fn::Base64 in resource", "line"}},
		{name: "route on an API that does not exist", old: "ApiId: !Ref HttpApi, Method: POST, Path: /requests", new: "ApiId: !Ref HttpAPI, Method: POST, Path: /requests",
			want: []string{"IntakeFunction", "Events.Submit", "!Ref HttpAPI"}},
		{name: "schedule that does not parse", params: map[string]string{"EscalationSchedule": "cron(0 7 * *)"},
			want: []string{"SweepFunction", "Daily", "cron(0 7 * *)"}},
		{name: "parameter outside its AllowedValues", params: map[string]string{"Country": "SE"},
			want: []string{"Country", "SE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "template.yaml")
			text := string(tpl)
			if tc.old != "" {
				if !strings.Contains(text, tc.old) {
					t.Fatalf("template.yaml no longer has %q: update this case", tc.old)
				}
				text = strings.Replace(text, tc.old, tc.new, 1)
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r, err := runner.Start(context.Background(), runner.Options{
				Template:   path,
				Dir:        root,
				Parameters: tc.params,
				Output:     io.Discard,
				Logger:     slog.New(slog.DiscardHandler),
			})
			if err == nil {
				r.Stop()
				t.Fatal("the runner started")
			}
			t.Logf("error: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q", w)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("refused after %v: a template error must stop the runner before the builds", d)
			}
		})
	}
}

// TestCrashAtStart starts the real template with a setting one function refuses, as a typo in
// an env file would, and expects the runner to fail naming the function and showing what
// the function wrote to stderr, which names the variable to fix.
func TestCrashAtStart(t *testing.T) {
	d := desk(t) // its emulators: only the functions are under test here
	envFile, err := writeEnvFile(t.TempDir(), overrides(d.base), map[string]map[string]string{
		"SweepFunction": {"ESCALATION_WORKING_DAYS": "2,5"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := runner.Start(ctx, runner.Options{
		Template:    filepath.Join(root, "template.yaml"),
		EnvFile:     envFile,
		Endpoints:   d.Endpoints,
		NoSchedules: true,
		Output:      io.Discard,
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err == nil {
		r.Stop()
		t.Fatal("the runner started with ESCALATION_WORKING_DAYS=2,5")
	}
	t.Logf("error: %v", err)
	for _, want := range []string{"SweepFunction", "exit status 1", "config: ESCALATION_WORKING_DAYS: thresholds must be distinct and in decreasing order"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q", want)
		}
	}
	for _, other := range []string{"IntakeFunction", "AdminFunction"} {
		if strings.Contains(err.Error(), other) {
			t.Errorf("the error blames %s, which started", other)
		}
	}
}
