package deadline

import (
	"archive/zip"
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestZonesAsGoKnowsThem holds the two embedded time zones to the Go toolchain's time zone
// database, which time/tzdata would have embedded whole: a Go release whose rules for Denmark
// or Norway changed fails here until the files are copied again.
func TestZonesAsGoKnowsThem(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	db := filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip")
	zr, err := zip.OpenReader(db)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, tc := range []struct {
		country, zone string
		embedded      []byte
	}{
		{"DK", "Europe/Copenhagen", copenhagen},
		{"NO", "Europe/Oslo", oslo},
	} {
		f, err := zr.Open(tc.zone)
		if err != nil {
			t.Fatalf("%s in %s: %v", tc.zone, db, err)
		}
		want, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tc.embedded, want) {
			t.Errorf("%s differs from Go's (%s): copy it again with\n\tunzip -p %s %s > shared/deadline/zoneinfo/%s",
				tc.zone, db, db, tc.zone, strings.ReplaceAll(tc.zone, "/", "_"))
		}
		loc, err := Location(tc.country)
		if err != nil {
			t.Fatal(err)
		}
		// Summer and winter time, as the zone's rules give them from 1996 on.
		for _, c := range []struct {
			at   time.Time
			name string
			off  int
		}{
			{time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), "CET", 3600},
			{time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC), "CEST", 7200},
			{time.Date(2061, 3, 27, 0, 59, 59, 0, time.UTC), "CET", 3600},
			{time.Date(2061, 3, 27, 1, 0, 0, 0, time.UTC), "CEST", 7200},
		} {
			if name, off := c.at.In(loc).Zone(); name != c.name || off != c.off || loc.String() != tc.zone {
				t.Errorf("%s at %s: %s %s %d, want %s %d", tc.country, c.at, loc, name, off, c.name, c.off)
			}
		}
	}
}
