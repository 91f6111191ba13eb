package main

import "testing"

// The fixture is what EventBridge Scheduler sends and what sam local invoke -e uses.
func TestScheduledEventFixture(t *testing.T) {
	ev := scheduledEvent(t)
	if ev.Source != "aws.scheduler" || ev.DetailType != "Scheduled Event" || ev.ID == "" || len(ev.Resources) != 1 {
		t.Fatalf("fixture: %+v", ev)
	}
}

func TestMetricName(t *testing.T) {
	for in, want := range map[string]string{"overdue": "EscalatedOverdue", "due_today": "EscalatedDueToday", "wd5": "EscalatedWd5"} {
		if got := metricName(in); got != want {
			t.Errorf("metricName(%q) = %q, want %q", in, got, want)
		}
	}
}
