package digest

import (
	"slices"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// A letter not posted is listed from the local day after it was written, every day, with
// today's local date as the period of its mark; only the letters written before today are in
// the line. Days are the calendar's: a letter written at 23:30 in Copenhagen, which is the same
// day in UTC, is listed from local midnight. A posted letter is not listed, nor a letter of an
// expired request.
func TestNotPostedAt(t *testing.T) {
	dk, err := deadline.ForCountry("DK")
	if err != nil {
		t.Fatal(err)
	}
	loc := dk.Location()
	at := func(d, hh, mm int) time.Time { return time.Date(2026, 11, d, hh, mm, 0, 0, loc) }
	letters := func(st dsr.Status, mails map[dsr.MailKind]dsr.MailState) *dsr.Request {
		return &dsr.Request{Ref: "L3TT-ER22", Status: st, Mails: mails}
	}
	letter := func(at time.Time) dsr.MailState { return dsr.MailState{State: dsr.MailLetter, At: at.UTC()} }
	lad := NewLadder(dk, []int{5, 2})

	tests := []struct {
		name   string
		r      *dsr.Request
		now    time.Time
		kinds  []dsr.MailKind // nil for no line
		period string
	}{
		{"written this morning: not yet", letters(dsr.Open, map[dsr.MailKind]dsr.MailState{dsr.MailExtension: letter(at(23, 6, 0))}), at(23, 23, 59), nil, ""},
		{"written yesterday: listed", letters(dsr.Open, map[dsr.MailKind]dsr.MailState{dsr.MailExtension: letter(at(22, 15, 0))}), at(23, 7, 0),
			[]dsr.MailKind{dsr.MailExtension}, "2026-11-23"},
		{"and the day after, with that day's period", letters(dsr.Open, map[dsr.MailKind]dsr.MailState{dsr.MailExtension: letter(at(22, 15, 0))}), at(24, 7, 0),
			[]dsr.MailKind{dsr.MailExtension}, "2026-11-24"},
		{"written at 23:30 local, the same UTC day: listed from local midnight", letters(dsr.Rejected, map[dsr.MailKind]dsr.MailState{dsr.MailRejection: letter(at(22, 23, 30))}),
			at(23, 0, 0), []dsr.MailKind{dsr.MailRejection}, "2026-11-23"},
		{"one a week old, one of today: the old one", letters(dsr.Rejected, map[dsr.MailKind]dsr.MailState{
			dsr.MailExtension: letter(at(16, 10, 0)), dsr.MailRejection: letter(at(23, 6, 0)), dsr.MailReceipt: {State: dsr.MailSent, At: at(10, 9, 0)}}),
			at(23, 7, 0), []dsr.MailKind{dsr.MailExtension}, "2026-11-23"},
		{"two old ones: both, in a stable order", letters(dsr.Rejected, map[dsr.MailKind]dsr.MailState{
			dsr.MailRejection: letter(at(20, 10, 0)), dsr.MailExtension: letter(at(16, 10, 0))}),
			at(23, 7, 0), []dsr.MailKind{dsr.MailExtension, dsr.MailRejection}, "2026-11-23"},
		{"posted", letters(dsr.Rejected, map[dsr.MailKind]dsr.MailState{dsr.MailRejection: {State: dsr.MailPosted, At: at(21, 0, 0)}}), at(23, 7, 0), nil, ""},
		{"expired", letters(dsr.Expired, map[dsr.MailKind]dsr.MailState{dsr.MailQuestion: letter(at(16, 10, 0))}), at(23, 7, 0), nil, ""},
		{"no letters", letters(dsr.Completed, map[dsr.MailKind]dsr.MailState{dsr.MailCompletion: {State: dsr.MailSent, At: at(16, 10, 0)}}), at(23, 7, 0), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, period, ok := lad.NotPostedAt(tt.r, tt.now)
			if ok != (tt.kinds != nil) || !slices.Equal(line.Kinds, tt.kinds) || period != tt.period || (ok && line.Req != tt.r) {
				t.Fatalf("NotPostedAt = %v %q %v, want %v %q", line.Kinds, period, ok, tt.kinds, tt.period)
			}
		})
	}
}
