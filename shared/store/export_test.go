package store

// SetPageLimit makes every workspace read of s page after n items.
func SetPageLimit(s *Store, n int32) { s.pageLimit = n }
