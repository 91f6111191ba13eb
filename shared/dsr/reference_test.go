package dsr

import (
	"strings"
	"testing"
)

func TestNewReference(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		ref := NewReference()
		if len(ref) != ReferenceLength+1 || ref[4] != '-' {
			t.Fatalf("bad shape %q", ref)
		}
		for _, c := range strings.ReplaceAll(ref, "-", "") {
			if !strings.ContainsRune(referenceAlphabet, c) {
				t.Fatalf("%q has %q outside the alphabet", ref, c)
			}
		}
		if norm, ok := NormalizeReference(ref); !ok || norm != ref {
			t.Fatalf("NormalizeReference(%q) = %q, %v", ref, norm, ok)
		}
		seen[ref] = true
	}
	if len(seen) < 1990 {
		t.Fatalf("only %d distinct references in 2000", len(seen))
	}
	for _, c := range "01ILOU" {
		if strings.ContainsRune(referenceAlphabet, c) {
			t.Errorf("alphabet has the ambiguous %q", c)
		}
	}
}

func TestNormalizeReference(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"K7MQ-4XTZ", "K7MQ-4XTZ", true},
		{"k7mq-4xtz", "K7MQ-4XTZ", true},
		{" K7MQ 4XTZ ", "K7MQ-4XTZ", true},
		{"K7MQ4XTZ", "K7MQ-4XTZ", true},
		{"K7MQ-4XT", "", false},
		{"K7MQ-4XTZ2", "", false},
		{"K7MQ-4XT0", "", false}, // zero is not in the alphabet
		{"", "", false},
		{"<script>", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeReference(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeReference(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestReferenceFor(t *testing.T) {
	a, b := ReferenceFor("0100018f-aaaa"), ReferenceFor("0100018f-aaab")
	if a != ReferenceFor("0100018f-aaaa") || a == b {
		t.Fatalf("ReferenceFor: %s %s", a, b)
	}
	if n, ok := NormalizeReference(a); !ok || n != a {
		t.Fatalf("%s is not a reference", a)
	}
}
