// Package fault names the kinds of failure the product tells apart. The store, the request
// model and the request layer wrap these sentinels (with %w), and the two places that read an
// error back, the HTTP status (web.Status) and the log attribute (errlog.Attr), ask Of for its
// kind: neither needs to import the package that made the error, and a page that wants a
// status states the kind instead of making up an error to look it up.
//
// It is pure Go: no AWS, no HTTP.
package fault

import "errors"

// Kind is one kind of failure. A Kind is an error, so it is the sentinel itself:
// fmt.Errorf("store: get %s: %w", ref, fault.NotFound), matched with errors.Is.
type Kind uint8

// The kinds. Their names are what the logs say (errlog), so they are stable.
const (
	// Other is every error that carries no kind: a bug, or an SDK error nobody classified.
	Other Kind = iota
	// Unavailable: the database could not be reached or refused the call (throttling).
	Unavailable
	// TooLarge: a request body over its cap.
	TooLarge
	// BadRequest: input that cannot be read at all (bad encoding, bad syntax).
	BadRequest
	// Invalid: input that was read and fails validation, field by field (dsr.FieldErrors).
	Invalid
	// Unauthorized: a route that needs a signed-in session, without a valid one.
	Unauthorized
	// Forbidden: a request refused for where it comes from (a cross-site post, a bad CSRF token).
	Forbidden
	// Unsupported: a body in a media type the route does not read.
	Unsupported
	// NotFound: no such request, page, link or session (or one past its expiry).
	NotFound
	// Conflict: the item changed since it was read; the caller reads again and decides.
	Conflict
	// Refused: the request's state does not allow the change (dsr.TransitionError).
	Refused
	// Limited: over a rate limit.
	Limited
)

var names = [...]string{
	Other:        "other",
	Unavailable:  "store_unavailable",
	TooLarge:     "too_large",
	BadRequest:   "bad_request",
	Invalid:      "invalid_input",
	Unauthorized: "unauthorized",
	Forbidden:    "forbidden",
	Unsupported:  "unsupported_media",
	NotFound:     "not_found",
	Conflict:     "conflict",
	Refused:      "transition_refused",
	Limited:      "limited",
}

// String is the kind's name as logged.
func (k Kind) String() string {
	if int(k) < len(names) {
		return names[k]
	}
	return names[Other]
}

func (k Kind) Error() string { return k.String() }

// Of returns the kind err carries, or Other. An error that carries several (errors.Join of two
// failures) is of the one declared first above: a table that could not be reached outranks
// whatever else went wrong beside it.
func Of(err error) Kind {
	if err == nil {
		return Other
	}
	for k := Unavailable; int(k) < len(names); k++ {
		if errors.Is(err, k) {
			return k
		}
	}
	return Other
}
