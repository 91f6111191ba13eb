package store_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"
)

// The first containers to need the key make it at once; all of them, and every later one,
// get the one stored.
func TestDeploymentKey(t *testing.T) {
	s, _, _ := newStore(t, newClock(time.Now()))
	ctx := context.Background()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := s.DeploymentKey(ctx)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys {
		if len(k) != 32 || !bytes.Equal(k, keys[0]) {
			t.Fatalf("keys differ: %x, %x", k, keys[0])
		}
	}
	again, err := s.DeploymentKey(ctx)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("later read: %x, %v", again, err)
	}
	other, _, _ := newStore(t, newClock(time.Now()))
	if k, err := other.DeploymentKey(ctx); err != nil || bytes.Equal(k, keys[0]) {
		t.Fatalf("another deployment's table has the same key (%v)", err)
	}
}
