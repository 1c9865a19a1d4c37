//go:build linux

package cache

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fullDiskLimit is the file size past which the child's writes fail.
const fullDiskLimit = 4 << 10

// fullDiskChild runs in a process whose files cannot grow past fullDiskLimit (RLIMIT_FSIZE,
// with SIGXFSZ ignored so that the write fails with EFBIG instead of killing the process):
// from the cache's point of view, a disk that fills up in the middle of every large store.
// Every Load must still return compute's value, count the errors, and leave no entry.
func fullDiskChild(dir string) error {
	signal.Ignore(syscall.SIGXFSZ)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: fullDiskLimit, Max: fullDiskLimit}); err != nil {
		return fmt.Errorf("setrlimit: %w", err)
	}
	c, err := Open(Options{Dir: dir, Namespace: "test", Version: "full", MemoryBytes: -1, CompressionLevel: -1})
	if err != nil {
		return err
	}
	defer c.Close()
	for i := range 5 {
		k := testKey{"full", i}
		v, err := Load(context.Background(), c, k, computeLarge)
		if err != nil {
			return fmt.Errorf("Load on a full disk: %w", err)
		}
		if want, _ := computeLarge(context.Background(), k); !v.equal(want) {
			return fmt.Errorf("Load on a full disk returned a wrong value for %v", k)
		}
	}
	if st := c.Stats(); st.Errors == 0 || st.Stores != 0 {
		return fmt.Errorf("stats %+v: want errors counted and nothing stored", st)
	}
	return nil
}

func TestFullDisk(t *testing.T) {
	dir := t.TempDir()
	if out, err := helperCommand(t, "fulldisk", dir, 0).Output(); err != nil {
		t.Fatalf("child on a full disk: %v\n%s", err, out)
	}
	// Nothing half-written is left: no temporary files, and no entry that could be read.
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, Options{Dir: dir, Namespace: "test", Version: "full", MemoryBytes: -1})
	for i := range 5 {
		k := testKey{"full", i}
		v := load(t, c, k, computeLarge)
		if want, _ := computeLarge(context.Background(), k); !v.equal(want) {
			t.Fatalf("after a full disk, %v has a wrong value", k)
		}
	}
	if st := c.Stats(); st.Hits != 0 || st.Corrupt != 0 {
		t.Fatalf("stats %+v: a full disk left entries behind", st)
	}
}
