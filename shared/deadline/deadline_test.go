package deadline

import (
	"errors"
	"testing"
	"time"
)

// Expected dates in these tables were worked out by hand from the rules in
// docs/deadlines.md and a printed calendar; the comment on each
// case is that working. Easter Sundays used: 2020-04-12, 2021-04-04, 2022-04-17,
// 2023-04-09, 2024-03-31, 2025-04-20, 2026-04-05, 2027-03-28, 2028-04-16,
// 2029-04-01. Maundy Thursday = E-3, Good Friday = E-2, Easter Monday = E+1,
// Store Bededag = E+26, Ascension = E+39, Whit Monday = E+50.

// at parses "2006-01-02 15:04" as a wall-clock time in country's zone.
func at(t *testing.T, country, s string) time.Time {
	t.Helper()
	loc, err := Location(country)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// utc parses an RFC 3339 instant, for receipts given as stored (in UTC).
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkEndOfDay fails unless got is the last instant of the local date want
// (YYYY-MM-DD) in country's zone, carried in that zone.
func checkEndOfDay(t *testing.T, country string, got time.Time, want string) {
	t.Helper()
	loc, err := Location(country)
	if err != nil {
		t.Fatal(err)
	}
	if got.Location().String() != loc.String() {
		t.Errorf("location = %s, want %s", got.Location(), loc)
	}
	l := got.In(loc)
	if d := l.Format(time.DateOnly); d != want {
		t.Errorf("date = %s (%s), want %s", d, l.Weekday(), want)
	}
	if h, m, s := l.Clock(); h != 23 || m != 59 || s != 59 || l.Nanosecond() != 999_999_999 {
		t.Errorf("time = %s, want end of day 23:59:59.999999999", l.Format("15:04:05.999999999"))
	}
	if next := got.Add(time.Nanosecond).In(loc); next.Hour() != 0 || next.Minute() != 0 ||
		next.Format(time.DateOnly) == want {
		t.Errorf("one nanosecond later is %s, want the next local midnight", next)
	}
}

type dueCase struct {
	name     string
	country  string
	received time.Time
	want     string // local date of the deadline
}

func dueCases(t *testing.T) []dueCase {
	dk := func(s string) time.Time { return at(t, "DK", s) }
	no := func(s string) time.Time { return at(t, "NO", s) }
	u := func(s string) time.Time { return utc(t, s) }
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return []dueCase{
		// The reference's worked examples, verbatim.
		{"ref: 2 Apr is Maundy Thursday, then Good Friday, the weekend and Easter Monday", "DK", dk("2026-03-02 10:00"), "2026-04-07"},
		{"ref: clamped to 28 Feb, a Saturday, rolled to Monday", "DK", dk("2026-01-31 15:00"), "2026-03-02"},
		{"ref: Grundlovsdag does not extend a deadline", "DK", dk("2026-05-05 09:00"), "2026-06-05"},

		// Plain same-date cases and weekends.
		{"14 Feb 2026 is a Saturday", "DK", dk("2026-01-14 12:00"), "2026-02-16"},
		{"10 Mar 2026 is a Tuesday", "NO", no("2026-02-10 12:00"), "2026-03-10"},
		{"15 Nov 2026 is a Sunday", "DK", dk("2026-10-15 12:00"), "2026-11-16"},
		{"9 Apr 2026 is the Thursday after Easter", "NO", no("2026-03-09 12:00"), "2026-04-09"},
		{"received on Christmas Day, 25 Jan 2026 is a Sunday", "DK", dk("2025-12-25 12:00"), "2026-01-26"},
		{"received on 17 May, 17 Jun 2026 is a Wednesday", "NO", no("2026-05-17 12:00"), "2026-06-17"},

		// Month ends: clamp to the last day of a shorter month.
		{"31 Mar -> 30 Apr (Thu)", "DK", dk("2026-03-31 12:00"), "2026-04-30"},
		{"31 Mar -> 30 Apr (Thu), the day before 1 May", "NO", no("2026-03-31 12:00"), "2026-04-30"},
		{"30 Apr -> 30 May Sat, 31 Sun -> 1 Jun", "NO", no("2026-04-30 12:00"), "2026-06-01"},
		{"31 May -> 30 Jun (Tue)", "DK", dk("2026-05-31 12:00"), "2026-06-30"},
		{"31 Jul -> 31 Aug (Mon)", "NO", no("2026-07-31 12:00"), "2026-08-31"},
		{"31 Aug -> 30 Sep (Wed)", "DK", dk("2026-08-31 12:00"), "2026-09-30"},
		{"31 Oct -> 30 Nov (Mon)", "DK", dk("2026-10-31 12:00"), "2026-11-30"},
		{"30 Nov -> 30 Dec (Wed)", "NO", no("2026-11-30 12:00"), "2026-12-30"},
		{"31 Dec 2025 -> 31 Jan 2026 Sat -> 2 Feb", "DK", dk("2025-12-31 12:00"), "2026-02-02"},

		// 28-31 January into February, non-leap and leap years.
		{"28 Jan 2026 -> 28 Feb Sat -> 2 Mar", "DK", dk("2026-01-28 12:00"), "2026-03-02"},
		{"29 Jan 2026 -> clamped 28 Feb Sat -> 2 Mar", "DK", dk("2026-01-29 12:00"), "2026-03-02"},
		{"30 Jan 2026 -> clamped 28 Feb Sat -> 2 Mar", "NO", no("2026-01-30 12:00"), "2026-03-02"},
		{"31 Jan 2025 -> 28 Feb (Fri)", "DK", dk("2025-01-31 12:00"), "2025-02-28"},
		{"31 Jan 2023 -> 28 Feb (Tue)", "NO", no("2023-01-31 12:00"), "2023-02-28"},
		{"31 Jan 2027 -> 28 Feb Sun -> 1 Mar", "DK", dk("2027-01-31 12:00"), "2027-03-01"},
		{"leap: 31 Jan 2024 -> 29 Feb (Thu)", "DK", dk("2024-01-31 12:00"), "2024-02-29"},
		{"leap: 30 Jan 2024 -> 29 Feb (Thu)", "NO", no("2024-01-30 12:00"), "2024-02-29"},
		{"leap: 29 Jan 2024 -> 29 Feb (Thu)", "NO", no("2024-01-29 12:00"), "2024-02-29"},
		{"leap: 31 Jan 2028 -> 29 Feb (Tue)", "NO", no("2028-01-31 12:00"), "2028-02-29"},
		{"leap: 29 Feb 2024 -> 29 Mar Good Friday -> Easter Monday 1 Apr -> 2 Apr", "DK", dk("2024-02-29 12:00"), "2024-04-02"},

		// Easter, several years, both countries.
		{"2020: 10 Apr Good Friday -> 14 Apr", "DK", dk("2020-03-10 12:00"), "2020-04-14"},
		{"2020: 9 Apr Maundy Thursday -> 14 Apr", "NO", no("2020-03-09 12:00"), "2020-04-14"},
		{"2021: 1 Apr Maundy Thursday -> 6 Apr", "DK", dk("2021-03-01 12:00"), "2021-04-06"},
		{"2022: 14 Apr Maundy Thursday -> 19 Apr", "DK", dk("2022-03-14 12:00"), "2022-04-19"},
		{"2023: 6 Apr Maundy Thursday -> 11 Apr", "DK", dk("2023-03-06 12:00"), "2023-04-11"},
		{"2024: 28 Mar Maundy Thursday -> 2 Apr", "DK", dk("2024-02-28 12:00"), "2024-04-02"},
		{"2024: 1 Apr Easter Monday -> 2 Apr", "NO", no("2024-03-01 12:00"), "2024-04-02"},
		{"2025: 17 Apr Maundy Thursday -> 22 Apr", "DK", dk("2025-03-17 12:00"), "2025-04-22"},
		{"2025: 21 Apr Easter Monday -> 22 Apr", "NO", no("2025-03-21 12:00"), "2025-04-22"},
		{"2026: same as the reference in Norway", "NO", no("2026-03-02 10:00"), "2026-04-07"},
		{"2026: 3 Apr Good Friday -> 7 Apr", "DK", dk("2026-03-03 12:00"), "2026-04-07"},
		{"2026: 6 Apr Easter Monday -> 7 Apr", "DK", dk("2026-03-06 12:00"), "2026-04-07"},
		{"2026: 1 Apr is the Wednesday before Easter", "DK", dk("2026-03-01 12:00"), "2026-04-01"},
		{"2027: 25 Mar Maundy Thursday -> 30 Mar", "NO", no("2027-02-25 12:00"), "2027-03-30"},
		{"2029: 2 Apr Easter Monday -> 3 Apr", "DK", dk("2029-03-02 12:00"), "2029-04-03"},

		// Store Bededag: a holiday up to and including 2023 only, in Denmark only.
		{"2020: 8 May Store Bededag -> 11 May", "DK", dk("2020-04-08 12:00"), "2020-05-11"},
		{"2021: 30 Apr Store Bededag -> 3 May", "DK", dk("2021-03-30 12:00"), "2021-05-03"},
		{"2021: 30 Apr is a working day in Norway", "NO", no("2021-03-30 12:00"), "2021-04-30"},
		{"2022: 13 May Store Bededag -> 16 May", "DK", dk("2022-04-13 12:00"), "2022-05-16"},
		{"2023: 5 May Store Bededag -> 8 May", "DK", dk("2023-04-05 12:00"), "2023-05-08"},
		{"2023: 5 May is a working day in Norway", "NO", no("2023-04-05 12:00"), "2023-05-05"},
		{"2024: 26 Apr would have been Store Bededag", "DK", dk("2024-03-26 12:00"), "2024-04-26"},
		{"2025: 16 May would have been Store Bededag", "DK", dk("2025-04-16 12:00"), "2025-05-16"},
		{"2026: 1 May would have been Store Bededag, and 1 May is no holiday in DK", "DK", dk("2026-04-01 12:00"), "2026-05-01"},

		// Grundlovsdag, 24 and 31 December do not count in Denmark.
		{"2025: Grundlovsdag 5 Jun (Thu) does not count", "DK", dk("2025-05-05 12:00"), "2025-06-05"},
		{"2028: 5 Jun is Grundlovsdag and Whit Monday; Whit Monday counts", "DK", dk("2028-05-05 12:00"), "2028-06-06"},
		{"2026: 24 Dec (Thu) does not count", "DK", dk("2026-11-24 12:00"), "2026-12-24"},
		{"2025: 24 Dec (Wed) does not count", "DK", dk("2025-11-24 12:00"), "2025-12-24"},

		// Christmas and New Year.
		{"2025: 25 Dec Thu, 26 Fri, weekend -> 29 Dec", "DK", dk("2025-11-25 12:00"), "2025-12-29"},
		{"2025: 26 Dec Fri -> 29 Dec", "NO", no("2025-11-26 12:00"), "2025-12-29"},
		{"2023: 23 Dec Sat, 24 Sun, 25-26 holidays -> 27 Dec", "DK", dk("2023-11-23 12:00"), "2023-12-27"},
		{"2024: 25 Dec Wed, 26 Thu -> 27 Dec", "NO", no("2024-11-25 12:00"), "2024-12-27"},
		{"2029: 29 Dec Sat -> 31 Dec Mon, not a holiday", "DK", dk("2029-11-29 12:00"), "2029-12-31"},
		{"2029: 29 Dec Sat -> 31 Dec Mon, not a holiday", "NO", no("2029-11-29 12:00"), "2029-12-31"},
		{"2026: 1 Jan Thu -> 2 Jan", "DK", dk("2025-12-01 12:00"), "2026-01-02"},
		{"2027: 1 Jan Fri -> 4 Jan", "NO", no("2026-12-01 12:00"), "2027-01-04"},
		{"2023: 1 Jan Sun -> 2 Jan", "NO", no("2022-12-01 12:00"), "2023-01-02"},

		// Norway's 1 and 17 May.
		{"2026: 1 May Fri -> 4 May", "NO", no("2026-04-01 12:00"), "2026-05-04"},
		{"2025: 1 May Thu -> 2 May", "NO", no("2025-04-01 12:00"), "2025-05-02"},
		{"2025: 1 May Thu is a working day in Denmark", "DK", dk("2025-04-01 12:00"), "2025-05-01"},
		{"2021: 1 May Sat -> 3 May", "NO", no("2021-04-01 12:00"), "2021-05-03"},
		{"2022: 1 May Sun -> 2 May", "NO", no("2022-04-01 12:00"), "2022-05-02"},
		{"2024: 17 May Fri, Whit weekend, Whit Monday 20 May -> 21 May", "NO", no("2024-04-17 12:00"), "2024-05-21"},
		{"2024: 17 May Fri is a working day in Denmark", "DK", dk("2024-04-17 12:00"), "2024-05-17"},
		{"2028: 17 May Wed -> 18 May", "NO", no("2028-04-17 12:00"), "2028-05-18"},
		{"2026: 16 May Sat, 17 Sun -> 18 May", "NO", no("2026-04-16 12:00"), "2026-05-18"},

		// Ascension Day.
		{"2026: Ascension 14 May -> 15 May", "DK", dk("2026-04-14 12:00"), "2026-05-15"},
		{"2025: Ascension 29 May -> 30 May", "NO", no("2025-04-29 12:00"), "2025-05-30"},
		{"2023: Ascension 18 May -> 19 May", "DK", dk("2023-04-18 12:00"), "2023-05-19"},
		{"2024: Ascension 9 May -> 10 May", "DK", dk("2024-04-09 12:00"), "2024-05-10"},

		// Whit Sunday and Whit Monday.
		{"2026: Whit Monday 25 May -> 26 May", "DK", dk("2026-04-25 12:00"), "2026-05-26"},
		{"2026: Whit Sunday 24 May, Whit Monday -> 26 May", "NO", no("2026-04-24 12:00"), "2026-05-26"},
		{"2025: Whit Monday 9 Jun -> 10 Jun", "DK", dk("2025-05-09 12:00"), "2025-06-10"},
		{"2024: Whit Monday 20 May -> 21 May", "NO", no("2024-04-20 12:00"), "2024-05-21"},
		{"2023: Whit Monday 29 May -> 30 May", "DK", dk("2023-04-29 12:00"), "2023-05-30"},

		// Receipt around local midnight, given in UTC: the local date counts.
		{"CET: 22:59:59Z is 9 Mar 23:59:59 local -> 9 Apr", "DK", u("2026-03-09T22:59:59Z"), "2026-04-09"},
		{"CET: 23:00:00Z is 10 Mar 00:00 local -> 10 Apr", "DK", u("2026-03-09T23:00:00Z"), "2026-04-10"},
		{"CEST: 21:59:59Z is 14 Jun 23:59:59 local -> 14 Jul", "NO", u("2026-06-14T21:59:59Z"), "2026-07-14"},
		{"CEST: 22:00:00Z is 15 Jun 00:00 local -> 15 Jul", "NO", u("2026-06-14T22:00:00Z"), "2026-07-15"},
		{"28 Feb 23:30Z is 1 Mar local -> 1 Apr, not 28 Mar -> 30 Mar", "NO", u("2026-02-28T23:30:00Z"), "2026-04-01"},
		{"given in New York: 9 Mar 20:00 EDT is 10 Mar 01:00 in Copenhagen", "DK", time.Date(2026, 3, 9, 20, 0, 0, 0, ny), "2026-04-10"},

		// Daylight-saving weekends (2026: summer time 29 Mar, winter time 25 Oct).
		{"28 Mar 22:59Z is 23:59 CET -> 28 Apr", "DK", u("2026-03-28T22:59:00Z"), "2026-04-28"},
		{"28 Mar 23:30Z is 29 Mar 00:30 CET -> 29 Apr", "DK", u("2026-03-28T23:30:00Z"), "2026-04-29"},
		{"29 Mar 00:59:59Z is 01:59:59 CET, just before the change", "NO", u("2026-03-29T00:59:59Z"), "2026-04-29"},
		{"29 Mar 01:00Z is 03:00 CEST, just after the change", "NO", u("2026-03-29T01:00:00Z"), "2026-04-29"},
		{"28 Mar Sat -> 29 Mar Sun (summer time) -> 30 Mar", "DK", dk("2026-02-28 12:00"), "2026-03-30"},
		{"24 Oct 21:59Z is 23:59 CEST -> 24 Nov", "NO", u("2026-10-24T21:59:00Z"), "2026-11-24"},
		{"24 Oct 22:30Z is 25 Oct 00:30 CEST -> 25 Nov", "NO", u("2026-10-24T22:30:00Z"), "2026-11-25"},
		{"25 Oct 00:30Z is the first 02:30 (CEST)", "DK", u("2026-10-25T00:30:00Z"), "2026-11-25"},
		{"25 Oct 01:30Z is the second 02:30 (CET)", "DK", u("2026-10-25T01:30:00Z"), "2026-11-25"},
		{"25 Oct 22:59:59Z is 23:59:59 CET -> 25 Nov", "DK", u("2026-10-25T22:59:59Z"), "2026-11-25"},
		{"25 Oct 23:00Z is 26 Oct 00:00 CET -> 26 Nov", "DK", u("2026-10-25T23:00:00Z"), "2026-11-26"},
		{"25 Oct Sun (winter time) -> 26 Oct", "DK", dk("2026-09-25 12:00"), "2026-10-26"},
	}
}

func TestDue(t *testing.T) {
	cases := dueCases(t)
	if len(cases) < 70 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.country+"/"+tc.name, func(t *testing.T) {
			got, err := Due(tc.country, tc.received)
			if err != nil {
				t.Fatal(err)
			}
			checkEndOfDay(t, tc.country, got, tc.want)
		})
	}
}

func TestExtended(t *testing.T) {
	dk := func(s string) time.Time { return at(t, "DK", s) }
	no := func(s string) time.Time { return at(t, "NO", s) }
	cases := []dueCase{
		{"ref: (a) 30 Apr, (b) 28 Feb + 2 months = 28 Apr", "DK", dk("2026-01-31 15:00"), "2026-04-28"},
		{"(a) = (b) = 2 Jun (Tue)", "DK", dk("2026-03-02 10:00"), "2026-06-02"},
		{"(a) = (b) = 5 Aug (Wed)", "DK", dk("2026-05-05 09:00"), "2026-08-05"},
		{"(a) 30 Apr, (b) 28 Apr", "NO", no("2026-01-30 12:00"), "2026-04-28"},
		{"(a) 29 Apr, (b) 28 Apr", "DK", dk("2026-01-29 12:00"), "2026-04-28"},
		{"(a) = (b) = 28 Apr", "DK", dk("2026-01-28 12:00"), "2026-04-28"},
		{"leap: (a) 30 Apr, (b) 29 Feb + 2 = 29 Apr (Mon)", "DK", dk("2024-01-31 12:00"), "2024-04-29"},
		{"(a) 30 Apr, (b) 28 Apr (Mon)", "NO", no("2025-01-31 12:00"), "2025-04-28"},
		{"leap: (b) 29 Apr Sat -> 1 May Mon, a working day in DK", "DK", dk("2028-01-31 12:00"), "2028-05-01"},
		{"leap: (b) 29 Apr Sat -> 1 May holiday -> 2 May", "NO", no("2028-01-31 12:00"), "2028-05-02"},
		{"clamped into February: 28 Feb Sat -> 2 Mar", "DK", dk("2025-11-30 12:00"), "2026-03-02"},
		{"clamped into February: 28 Feb Sun -> 1 Mar", "NO", no("2026-11-30 12:00"), "2027-03-01"},
		{"across the year: 31 Mar (Tue)", "NO", no("2025-12-31 12:00"), "2026-03-31"},
		{"(a) = (b) = 30 Jun", "DK", dk("2026-03-31 12:00"), "2026-06-30"},
		{"(a) 31 Aug, (b) 30 Jun + 2 = 30 Aug Sun -> 31 Aug", "DK", dk("2026-05-31 12:00"), "2026-08-31"},
		{"31 Oct Sat -> 2 Nov", "NO", no("2026-07-31 12:00"), "2026-11-02"},
		{"(a) = (b) = 30 Nov", "DK", dk("2026-08-31 12:00"), "2026-11-30"},
		{"(a) 31 Jan Sun, (b) 30 Nov + 2 = 30 Jan Sat -> 1 Feb", "DK", dk("2026-10-31 12:00"), "2027-02-01"},
		{"24 Dec does not count in DK", "DK", dk("2026-09-24 12:00"), "2026-12-24"},
		{"25 Dec Fri, 26 Sat, 27 Sun -> 28 Dec", "NO", no("2026-09-25 12:00"), "2026-12-28"},
		{"2023: 5 May Store Bededag -> 8 May", "DK", dk("2023-02-05 12:00"), "2023-05-08"},
		{"2024: 26 Apr, no Store Bededag", "DK", dk("2024-01-26 12:00"), "2024-04-26"},
		{"17 May 2024 Fri -> 21 May", "NO", no("2024-02-17 12:00"), "2024-05-21"},
		{"2 Apr Maundy Thursday -> 7 Apr", "DK", dk("2026-01-02 12:00"), "2026-04-07"},
		{"29 Mar 2027 Easter Monday -> 30 Mar", "DK", dk("2026-12-29 12:00"), "2027-03-30"},
		{"UTC 1 Mar 23:30Z is 2 Mar local -> 2 Jun, not 1 Jun", "DK", utc(t, "2026-03-01T23:30:00Z"), "2026-06-02"},
	}
	for _, tc := range cases {
		t.Run(tc.country+"/"+tc.name, func(t *testing.T) {
			got, err := Extended(tc.country, tc.received)
			if err != nil {
				t.Fatal(err)
			}
			checkEndOfDay(t, tc.country, got, tc.want)
		})
	}
}

// Deadlines are instants: check a few in UTC across the daylight-saving changes.
func TestDueInstant(t *testing.T) {
	cases := []struct {
		country  string
		received string
		want     string
	}{
		{"DK", "2026-02-28T11:00:00Z", "2026-03-30T21:59:59.999999999Z"}, // CEST, UTC+2
		{"DK", "2026-09-25T10:00:00Z", "2026-10-26T22:59:59.999999999Z"}, // CET, UTC+1
		{"NO", "2026-01-14T11:00:00Z", "2026-02-16T22:59:59.999999999Z"},
		{"NO", "2026-06-14T22:00:00Z", "2026-07-15T21:59:59.999999999Z"},
	}
	for _, tc := range cases {
		got, err := Due(tc.country, utc(t, tc.received))
		if err != nil {
			t.Fatal(err)
		}
		if s := got.UTC().Format(time.RFC3339Nano); s != tc.want {
			t.Errorf("Due(%s, %s) = %s, want %s", tc.country, tc.received, s, tc.want)
		}
		if s := got.Format(time.RFC3339); s[11:19] != "23:59:59" {
			t.Errorf("Due(%s, %s) formats as %s, want 23:59:59 local", tc.country, tc.received, s)
		}
	}
}

func TestUnknownCountry(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, country := range []string{"", "SE", "dk", "no", " DK", "DEU"} {
		if _, err := Due(country, now); !errors.Is(err, ErrUnknownCountry) {
			t.Errorf("Due(%q): err = %v, want ErrUnknownCountry", country, err)
		}
		if _, err := Extended(country, now); !errors.Is(err, ErrUnknownCountry) {
			t.Errorf("Extended(%q): err = %v, want ErrUnknownCountry", country, err)
		}
		if c, err := ForCountry(country); !errors.Is(err, ErrUnknownCountry) || c != nil {
			t.Errorf("ForCountry(%q) = %v, %v; want nil, ErrUnknownCountry", country, c, err)
		}
		if l, err := Location(country); !errors.Is(err, ErrUnknownCountry) || l != nil {
			t.Errorf("Location(%q) = %v, %v; want nil, ErrUnknownCountry", country, l, err)
		}
	}
	_, err := Due("SE", now)
	if err == nil || err.Error() != `deadline: country "SE": unknown country` {
		t.Errorf("error text = %v", err)
	}
}

func TestLocation(t *testing.T) {
	for country, want := range map[string]string{"DK": "Europe/Copenhagen", "NO": "Europe/Oslo"} {
		loc, err := Location(country)
		if err != nil {
			t.Fatal(err)
		}
		if loc.String() != want {
			t.Errorf("Location(%s) = %s, want %s", country, loc, want)
		}
		c, err := ForCountry(country)
		if err != nil {
			t.Fatal(err)
		}
		if c.Location().String() != want || c.Country() != country {
			t.Errorf("ForCountry(%s): %s %s", country, c.Country(), c.Location())
		}
	}
}

func TestResume(t *testing.T) {
	cal, err := ForCountry("DK")
	if err != nil {
		t.Fatal(err)
	}
	loc := cal.Location()
	local := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Received Monday 2 March 2026: due Tuesday 7 April 2026 (Easter).
	due := cal.Due(local("2026-03-02 10:00"))
	for _, tc := range []struct {
		name, from, until, want string
	}{
		{"same day moves nothing", "2026-03-10 09:00", "2026-03-10 23:00", "2026-04-07"},
		{"over midnight is a day", "2026-03-10 23:30", "2026-03-11 00:10", "2026-04-08"},
		{"a week", "2026-03-10 09:00", "2026-03-17 08:00", "2026-04-14"},
		// 7 April + 4 = Saturday 11 April → Monday 13 April.
		{"onto a weekend rolls forward", "2026-03-10 09:00", "2026-03-14 12:00", "2026-04-13"},
		// 7 April + 30 = Thursday 7 May 2026 (no holiday).
		{"thirty days", "2026-03-03 09:00", "2026-04-02 09:00", "2026-05-07"},
		// 7 April + 37 = Thursday 14 May 2026: Ascension Day → Friday 15 May.
		{"onto a holiday rolls forward", "2026-03-03 09:00", "2026-04-09 09:00", "2026-05-15"},
		{"until before from moves nothing", "2026-03-10 09:00", "2026-03-09 09:00", "2026-04-07"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cal.Resume(due, local(tc.from), local(tc.until))
			if d := got.In(loc).Format(time.DateOnly); d != tc.want {
				t.Errorf("Resume = %s, want %s", d, tc.want)
			}
			if !got.Equal(cal.EndOfDay(got)) {
				t.Errorf("Resume = %s, not the end of its day", got)
			}
		})
	}
}
