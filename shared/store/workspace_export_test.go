package store

import "testing"

// SetPageLimit makes every workspace read page after n items for the rest of the test.
func SetPageLimit(t testing.TB, n int32) {
	old := pageLimit
	pageLimit = n
	t.Cleanup(func() { pageLimit = old })
}
