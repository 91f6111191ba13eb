// Package logsink collects what a handler logs, so tests can read its lines: that an outcome
// was logged, and that no personal data was.
package logsink

import (
	"bytes"
	"sync"
)

// Buffer is an io.Writer the handler's goroutines may share.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
