package store_test

import (
	"os"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// TestMain starts dynalite once for every test in the package (and stops it after).
func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }
