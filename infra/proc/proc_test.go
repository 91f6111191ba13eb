package proc

import (
	"bytes"
	"testing"
)

func TestLineWriter(t *testing.T) {
	var buf bytes.Buffer
	lw := NewLineWriter(NewOutput(&buf), "Fn", 2)
	seen := lw.Watch("ready")
	_, _ = lw.Write([]byte("one\r\ntw"))
	_, _ = lw.Write([]byte("o\nready now\nlast"))
	select {
	case <-seen:
	default:
		t.Error("Watch not triggered")
	}
	if got := lw.Tail(); got != "ready now\nlast" {
		t.Errorf("Tail = %q", got)
	}
	if got, want := buf.String(), "Fn | one\nFn | two\nFn | ready now\nFn | last\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}
