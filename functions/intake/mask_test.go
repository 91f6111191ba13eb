package main

import "testing"

func TestMaskEmail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"jane@example.dk", "j•••@e•••.dk"},
		{"mette.sorensen@post.tele.dk", "m•••@p•••.dk"},
		{"øjvind@æbler.no", "ø•••@æ•••.no"},
		{"a@b.co", "a•••@b•••.co"},
		{"x@localhost", "x•••@l•••"},
		{"@example.dk", "•••@e•••.dk"},
		{"jane@.dk", "j•••@•••.dk"},
		{"no-at-sign", "•••"},
		{"", "•••"},
		{"\xffbad@\xfeexample.dk", "•••@•••.dk"},
		{"a@b@c.dk", "a•••@c•••.dk"},
	} {
		if got := maskEmail(tc.in); got != tc.want {
			t.Errorf("maskEmail(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
