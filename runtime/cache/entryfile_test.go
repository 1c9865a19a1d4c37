//go:build unix

package cache

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestEntryFileChecks: a hit reads only a regular file that this user owns, opened without
// following a link; whatever else stands at an entry's path, holding a valid entry or not, is
// a miss, counted as corrupt, and replaced by the store that follows.
func TestEntryFileChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, path string, entry []byte)
	}{
		{"a symbolic link to a valid entry", func(t *testing.T, path string, entry []byte) {
			elsewhere := filepath.Join(t.TempDir(), "entry")
			if err := os.WriteFile(elsewhere, entry, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"a valid entry of another user's", func(t *testing.T, path string, _ []byte) {
			if err := os.Chown(path, 4242, 4242); err != nil {
				t.Skipf("giving a file to another user needs root: %v", err)
			}
		}},
		{"a valid entry, larger than a small read, of another user's", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1, CompressionLevel: -1})
			k := testKey{"checked", 1}
			compute := computeSmall
			spoil := tc.spoil
			if spoil == nil { // the header-first read of large entries checks the same
				compute = func(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 2*smallEntry), nil }
				spoil = func(t *testing.T, path string, _ []byte) {
					if err := os.Chown(path, 4242, 4242); err != nil {
						t.Skipf("giving a file to another user needs root: %v", err)
					}
				}
			}
			load(t, c, k, compute)
			path := entryFile(c, k)
			good := readEntryFile(t, c, k)
			spoil(t, path, good)
			load(t, c, k, compute)
			wantStats(t, c, map[string]uint64{"Corrupt": 1, "Computes": 2, "DiskHits": 0, "Errors": 0})
			fi, err := os.Lstat(path)
			if err != nil || !fi.Mode().IsRegular() || !ownedByMe(fi) {
				t.Fatalf("entry not replaced: %v, %v", fi, err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, good) {
				t.Fatalf("entry not repaired")
			}
			load(t, c, k, failCompute2(compute))
		})
	}
}
