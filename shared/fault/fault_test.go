package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"nil", nil, Other},
		{"plain", errors.New("boom"), Other},
		{"kind itself", NotFound, NotFound},
		{"wrapped", fmt.Errorf("store: get K7MQ-4XTZ: %w", Conflict), Conflict},
		{"wrapped twice", fmt.Errorf("admin: %w", fmt.Errorf("store: %w", Limited)), Limited},
		{"two kinds, first declared wins", fmt.Errorf("admin: %w: %w", Unauthorized, NotFound), Unauthorized},
		{"joined, unavailable outranks", errors.Join(Limited, fmt.Errorf("rate: %w", Unavailable)), Unavailable},
		{"with a cause", fmt.Errorf("store: commit: %w: %w", Unavailable, errors.New("throttled")), Unavailable},
	}
	for _, tt := range tests {
		if got := Of(tt.err); got != tt.want {
			t.Errorf("%s: Of(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestNamesAreStableAndDistinct(t *testing.T) {
	seen := map[string]Kind{}
	for k := Other; int(k) < len(names); k++ {
		n := k.String()
		if n == "" {
			t.Errorf("kind %d has no name", k)
		}
		if other, dup := seen[n]; dup {
			t.Errorf("kinds %d and %d are both %q", other, k, n)
		}
		seen[n] = k
		if k.Error() != n {
			t.Errorf("Error() = %q, String() = %q", k.Error(), n)
		}
	}
	// The logs have said these since before the kinds were gathered here.
	for k, want := range map[Kind]string{Unavailable: "store_unavailable", Conflict: "conflict", NotFound: "not_found",
		Limited: "limited", Refused: "transition_refused", Invalid: "invalid_input", Other: "other"} {
		if k.String() != want {
			t.Errorf("%d is %q, want %q", k, k, want)
		}
	}
	if Kind(200).String() != "other" {
		t.Error("an unknown kind should read as other")
	}
}
