package deadline_test

import (
	"fmt"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
)

// The reference's second worked example: received Saturday 31 January 2026.
func ExampleDue() {
	cph, _ := deadline.Location("DK")
	received := time.Date(2026, 1, 31, 15, 0, 0, 0, cph)

	due, _ := deadline.Due("DK", received)
	ext, _ := deadline.Extended("DK", received)
	fmt.Println(due.Format(time.RFC3339))
	fmt.Println(ext.Format(time.RFC3339))
	// Output:
	// 2026-03-02T23:59:59+01:00
	// 2026-04-28T23:59:59+02:00
}

// The sweep's escalation levels and query horizon.
func ExampleCalendar_WorkingDaysUntil() {
	c, _ := deadline.ForCountry("DK")
	due := c.Due(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) // Tue 7 April 2026

	for _, today := range []string{"2026-03-31", "2026-04-06", "2026-04-07", "2026-04-08"} {
		now, _ := time.ParseInLocation(time.DateOnly, today, c.Location())
		fmt.Println(today, c.WorkingDaysUntil(now, due))
	}
	now, _ := time.ParseInLocation(time.DateOnly, "2026-03-31", c.Location())
	fmt.Println("horizon", c.LocalDate(c.AddWorkingDays(now, 2)))
	// Output:
	// 2026-03-31 2
	// 2026-04-06 1
	// 2026-04-07 0
	// 2026-04-08 -1
	// horizon 2026-04-07
}
