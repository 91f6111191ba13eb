package runner

import "github.com/dsrdesk/dsrdesk/infra/local/internal/lambdart"

// Errors from Invoke, re-exported so callers outside infra/local can test for them.
type FunctionError = lambdart.FunctionError

var (
	// ErrTimeout: the function ran past its Timeout (HTTP 504).
	ErrTimeout = lambdart.ErrTimeout
	// ErrCrashed: the process exited during the invocation (HTTP 502).
	ErrCrashed = lambdart.ErrCrashed
	// ErrTooLarge: payload or response over Lambda's 6 MB (HTTP 413).
	ErrTooLarge = lambdart.ErrTooLarge
	// ErrClosed: the runner is stopping.
	ErrClosed = lambdart.ErrClosed
)
