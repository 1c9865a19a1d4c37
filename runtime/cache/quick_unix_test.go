//go:build unix

package cache

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRoomSpecialFiles: a FIFO in room.txt's place does not block a store, and a directory
// there (with a file in it, so that no trim can remove it) does not keep stores from
// starting trims: the namespace stays within its budget.
func TestRoomSpecialFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(name string) error
	}{
		{"fifo", func(name string) error { return syscall.Mkfifo(name, 0o600) }},
		{"directory", func(name string) error {
			if err := os.Mkdir(name, 0o700); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(name, "x"), nil, 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := newRoomFixture(t, tc.plant)
			for run := range 3 {
				c := f.open(t)
				for i := range 4 {
					storeSized(t, c, "room", run*4+i, 64<<10)
				}
				c.Close()
				// A planted directory's own block is not the cache's.
				if u := usageOfFiles(t, f.root, true) - 4096; u > f.budget+layoutSlack {
					t.Fatalf("run %d: the namespace takes %d bytes after Close, budget %d", run, u, f.budget)
				}
			}
			f.gone(t)
		})
	}
}
