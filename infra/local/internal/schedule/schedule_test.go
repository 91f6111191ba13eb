package schedule

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func mustTime(t *testing.T, loc, s string) time.Time {
	t.Helper()
	l, err := time.LoadLocation(loc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, l)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNext(t *testing.T) {
	start := mustTime(t, "UTC", "2025-01-01 00:00")
	for _, tc := range []struct {
		expr, tz, after string
		want            []string // successive firings, in tz
	}{
		{"cron(0 6 ? * * *)", "UTC", "2025-03-10 06:00", []string{"2025-03-11 06:00", "2025-03-12 06:00"}},
		{"cron(0 6 ? * MON-FRI *)", "Europe/Copenhagen", "2025-03-07 07:00", []string{"2025-03-10 06:00", "2025-03-11 06:00"}},
		{"cron(*/15 9-10 ? * 2 *)", "UTC", "2025-03-10 10:40", []string{"2025-03-10 10:45", "2025-03-17 09:00"}},
		{"cron(5/20 * * * ? *)", "UTC", "2025-03-10 10:46", []string{"2025-03-10 11:05", "2025-03-10 11:25"}},
		{"cron(0 12 1,15 JAN,jul ? 2026)", "UTC", "2025-03-10 00:00", []string{"2026-01-01 12:00", "2026-01-15 12:00", "2026-07-01 12:00"}},
		{"cron(0 0 L * ? *)", "UTC", "2024-02-01 00:00", []string{"2024-02-29 00:00", "2024-03-31 00:00"}},
		{"cron(0 9 ? * 2#1 *)", "UTC", "2025-03-01 00:00", []string{"2025-03-03 09:00", "2025-04-07 09:00"}},
		{"cron(0 9 ? * 6L *)", "UTC", "2025-03-01 00:00", []string{"2025-03-28 09:00", "2025-04-25 09:00"}},
		{"cron(0 9 15W * ? *)", "UTC", "2025-03-01 00:00", []string{"2025-03-14 09:00", "2025-04-15 09:00"}},
		// Spring forward in Copenhagen: 02:30 does not exist on 2025-03-30 and is skipped.
		{"cron(30 2 * * ? *)", "Europe/Copenhagen", "2025-03-29 03:00", []string{"2025-03-31 02:30"}},
		{"rate(1 hour)", "", "2025-01-01 00:00", []string{"2025-01-01 01:00", "2025-01-01 02:00"}},
		{"rate(15 minutes)", "", "2025-01-01 00:20", []string{"2025-01-01 00:30", "2025-01-01 00:45"}},
		{"rate(2 days)", "", "2024-12-31 00:00", []string{"2025-01-03 00:00", "2025-01-05 00:00"}},
		{"at(2025-06-01T08:00:00)", "Europe/Oslo", "2025-01-01 00:00", []string{"2025-06-01 08:00", ""}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			tz := tc.tz
			if tz == "" {
				tz = "UTC"
			}
			s, err := Parse(tc.expr, tc.tz, start)
			if err != nil {
				t.Fatal(err)
			}
			at := mustTime(t, tz, tc.after)
			for _, w := range tc.want {
				at = s.Next(at)
				if w == "" {
					if !at.IsZero() {
						t.Errorf("fired again at %v", at)
					}
					return
				}
				if want := mustTime(t, tz, w); !at.Equal(want) {
					t.Fatalf("Next = %v, want %v", at, want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ expr, tz, want string }{
		{"cron(0 6 * * * *)", "", "one of day-of-month and day-of-week must be ?"},
		{"cron(0 6 ? * ? *)", "", "cannot both be ?"},
		{"cron(0 6 ? * *)", "", "want 6 fields"},
		{"cron(60 6 ? * * *)", "", "minutes"},
		{"cron(0 6-4 ? * * *)", "", "runs backwards"},
		{"cron(0 6 ? * FUNDAY *)", "", "day-of-week"},
		{"cron(0 6 ? * * *)", "Mars/Olympus", "time zone"},
		{"rate(0 minutes)", "", "positive"},
		{"rate(5 weeks)", "", "unit"},
		{"every(5 minutes)", "", "unknown kind"},
		{"cron 0 6", "", "want cron"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Parse(tc.expr, tc.tz, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPayload(t *testing.T) {
	when := time.Date(2025, 3, 10, 6, 0, 0, 0, time.UTC)
	tg := Target{ARN: "arn:aws:scheduler:us-east-1:123456789012:schedule/default/Sweep", Region: "us-east-1", Account: "123456789012"}
	var ev map[string]any
	if err := json.Unmarshal(tg.Payload(when), &ev); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"version": "0", "detail-type": "Scheduled Event", "source": "aws.scheduler", "account": "123456789012",
		"time": "2025-03-10T06:00:00Z", "region": "us-east-1",
	} {
		if ev[k] != v {
			t.Errorf("%s = %v, want %v", k, ev[k], v)
		}
	}
	if res, _ := ev["resources"].([]any); len(res) != 1 || res[0] != tg.ARN {
		t.Errorf("resources = %v", ev["resources"])
	}
	if d, ok := ev["detail"].(map[string]any); !ok || len(d) != 0 {
		t.Errorf("detail = %v", ev["detail"])
	}
	if id, _ := ev["id"].(string); len(id) != 36 {
		t.Errorf("id = %q", id)
	}
	tg.Input = `{"at":"<aws.scheduler.scheduled-time>","arn":"<aws.scheduler.schedule-arn>"}`
	if got, want := string(tg.Payload(when)), `{"at":"2025-03-10T06:00:00Z","arn":"`+tg.ARN+`"}`; got != want {
		t.Errorf("Input payload = %s, want %s", got, want)
	}
}
