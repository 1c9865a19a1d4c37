//go:build unix

package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestFIFOAtEntryPath: a FIFO planted where an entry belongs is not opened for a blocking read:
// the Load computes, and Close returns.
func TestFIFOAtEntryPath(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1})
	key := testKey{"fifo", 1}
	mk := memKeyOf[testValue](c, key)
	ek := c.entryKey(&mk)
	path := c.entryPath(&ek)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, "Load of a key whose entry is a FIFO", func() {
		if v, err := Load(context.Background(), c, key, computeSmall); err != nil || !v.equal(valueFor(key, 64)) {
			t.Errorf("Load = %q, %v", v.Name, err)
		}
	})
	within(t, 5*time.Second, "Close", func() { c.Close() })
}

// TestDirectoryAtEntryPath: a directory where an entry belongs is a miss, and the store that
// follows replaces it, so that the next process hits.
func TestDirectoryAtEntryPath(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, MemoryBytes: -1})
	key := testKey{"dir", 1}
	mk := memKeyOf[testValue](c, key)
	ek := c.entryKey(&mk)
	path := c.entryPath(&ek)
	if err := os.MkdirAll(filepath.Join(path, "inside"), 0o700); err != nil {
		t.Fatal(err)
	}
	load(t, c, key, computeSmall)
	if st := c.Stats(); st.Errors != 0 || st.Stores != 1 {
		t.Fatalf("stats %+v: want the directory replaced by the entry, without errors", st)
	}
	c2 := open(t, Options{Dir: dir, MemoryBytes: -1})
	load(t, c2, key, computeSmall)
	if st := c2.Stats(); st.DiskHits != 1 {
		t.Fatalf("stats %+v: want a disk hit", st)
	}
}

// TestManyLoadsFewDescriptors: thousands of concurrent Loads of distinct keys, with a low
// limit on open files, never run out of descriptors: the Cache bounds its open files.
func TestManyLoadsFewDescriptors(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = 256
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1, Sync: true})
	const n = 2000
	// Every compute returns at once, when all have started: the stores then overlap.
	var started sync.WaitGroup
	started.Add(n)
	compute := func(_ context.Context, k testKey) (testValue, error) {
		started.Done()
		started.Wait()
		return valueFor(k, 32<<10), nil
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := testKey{fmt.Sprint("fd", i), i}
			if _, err := Load(context.Background(), c, key, compute); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if st := c.Stats(); st.Errors != 0 || st.Stores != n {
		t.Fatalf("stats %+v: want %d stores and no error", st, n)
	}
}

// TestFullDiskTrims: a store that fails for lack of space starts a trim at once, whatever
// the time of the last one, so that the next stores find room.
func TestFullDiskTrims(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1})
	load(t, c, testKey{"first", 1}, computeSmall) // the first store trims: trim.txt is fresh now
	waitFor(t, func() bool { return !c.trimming.Load() })
	trims := c.Stats().Trims
	c.writeFile = func(string, []byte, bool) error {
		return &os.PathError{Op: "write", Path: "entry", Err: syscall.ENOSPC}
	}
	load(t, c, testKey{"full", 1}, computeSmall)
	waitFor(t, func() bool { return c.Stats().Trims > trims })
}
