//go:build unix

package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

// TestDirectoryAtEntryPath: an empty directory where an entry belongs is a miss, and the
// store that follows replaces it, so that the next process hits. A directory that holds
// something is not the cache's to delete: it stays, with what it holds, and Loads compute.
func TestDirectoryAtEntryPath(t *testing.T) {
	for _, full := range []bool{false, true} {
		dir := t.TempDir()
		c := open(t, Options{Dir: dir, MemoryBytes: -1})
		key := testKey{"dir", 1}
		mk := memKeyOf[testValue](c, key)
		ek := c.entryKey(&mk)
		path := c.entryPath(&ek)
		if err := os.MkdirAll(path, 0o700); err != nil {
			t.Fatal(err)
		}
		inside := filepath.Join(path, "inside.txt")
		if full {
			if err := os.WriteFile(inside, []byte("someone's"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		load(t, c, key, computeSmall)
		if full {
			if _, err := os.Stat(inside); err != nil {
				t.Fatalf("the cache deleted a file it did not write: %v", err)
			}
			continue
		}
		if st := c.Stats(); st.Errors != 0 || st.Stores != 1 {
			t.Fatalf("stats %+v: want the directory replaced by the entry, without errors", st)
		}
		c2 := open(t, Options{Dir: dir, MemoryBytes: -1})
		load(t, c2, key, computeSmall)
		if st := c2.Stats(); st.DiskHits != 1 {
			t.Fatalf("stats %+v: want a disk hit", st)
		}
	}
}

// setLimit sets a resource limit, of whichever integer type the system declares it.
func setLimit[T int64 | uint64](p *T, n uint64) { *p = T(n) }

// lowerFileLimit sets the process's limit on open files to n until t ends.
func lowerFileLimit(t *testing.T, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	setLimit(&low.Cur, n)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) })
}

// TestManyLoadsFewDescriptors: thousands of concurrent Loads of distinct keys, with a low
// limit on open files, never run out of descriptors: the Cache bounds its open files.
func TestManyLoadsFewDescriptors(t *testing.T) {
	lowerFileLimit(t, 256)
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1, Sync: true})
	// Count the stores writing at once, each made to take a moment: without a bound, about
	// as many as there are Loads; with it, at most maxOpenFiles. (This machine's file system
	// may be too fast for the low limit alone to show EMFILE.)
	var writing, most atomic.Int64
	c.writeFile = func(name string, e *entryParts, sync bool) error {
		now := writing.Add(1)
		defer writing.Add(-1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		time.Sleep(time.Millisecond)
		return writeEntryAtomic(name, e, sync)
	}
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
	if m := most.Load(); m > maxOpenFiles {
		t.Fatalf("%d stores wrote at once; the bound is %d", m, maxOpenFiles)
	}
}

// TestExplainingFewDescriptors: every file a Cache opens counts against the bound, the
// explainer's records, its log of misses and the ledger included, and the bound is the
// process's, shared by its Caches: with 64 descriptors, half of them held by the program,
// thousands of explained misses at once, through one Cache or twelve, cause no error.
func TestExplainingFewDescriptors(t *testing.T) {
	lowerFileLimit(t, 64)
	held := t.TempDir()
	for i := range 32 {
		f, err := os.Create(filepath.Join(held, fmt.Sprint("held", i)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	for _, caches := range []int{1, 12} {
		t.Run(fmt.Sprint(caches, " caches"), func(t *testing.T) {
			var cs []*Cache
			for range caches {
				cs = append(cs, open(t, Options{Dir: t.TempDir(), MemoryBytes: -1, OnMiss: func(Miss) {}}))
			}
			const n = 3000
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					if _, err := Load(context.Background(), cs[i%caches], testKey{"fd", i}, computeSmall); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			for _, c := range cs {
				if st := c.Stats(); st.Errors != 0 || st.Stores != uint64(n/caches) {
					t.Fatalf("stats %+v: want %d stores and no error", st, n/caches)
				}
			}
		})
	}
}

// TestFullDiskTrims: a store that fails for lack of space starts a trim at once, whatever
// the time of the last one, and that trim frees half of what the namespace takes even when it
// is within its budget (the file system is full of other things), so that the next stores
// find room.
func TestFullDiskTrims(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1, CompressionLevel: -1})
	load(t, c, testKey{"first", 1}, computeSmall) // the first store trims: trim.txt is fresh now
	waitFor(t, func() bool { return !c.trimming.Load() })
	storeN(t, c, "within budget", 16, 64<<10)
	before := usage(t, c.root)
	trims := c.Stats().Trims
	c.writeFile = func(string, *entryParts, bool) error {
		return &os.PathError{Op: "write", Path: "entry", Err: syscall.ENOSPC}
	}
	load(t, c, testKey{"full", 1}, computeSmall)
	waitFor(t, func() bool { return c.Stats().Trims > trims })
	waitFor(t, func() bool { return !c.trimming.Load() })
	if after := usage(t, c.root); after > before/2 {
		t.Fatalf("the namespace takes %d bytes after a full disk's trim, %d before: want half freed", after, before)
	}
}

// TestSpecialFilesInTheLayout: a FIFO, a directory, a link or a huge sparse file in place of
// the namespace's own files (written.txt, trim.txt, trim.lock, a version.txt) hangs nothing,
// allocates little, and does not stop trimming.
func TestSpecialFilesInTheLayout(t *testing.T) {
	cases := map[string]func(t *testing.T, path string){
		"fifo": func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"directory": func(t *testing.T, path string) {
			if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-2 * time.Hour)
			os.Chtimes(path, old, old)
		},
		"dangling link": func(t *testing.T, path string) {
			if err := os.Symlink("/nonexistent/cachegen", path); err != nil {
				t.Fatal(err)
			}
		},
		"sparse 3 GiB file": func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 3<<30); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-2 * time.Hour)
			os.Chtimes(path, old, old)
		},
	}
	for _, file := range []string{ledgerFile, trimFile, lockFile, versionFile} {
		for name, plant := range cases {
			t.Run(file+"/"+name, func(t *testing.T) {
				dir := t.TempDir()
				c := open(t, Options{Dir: dir, MemoryBytes: -1, MaxBytes: 64 << 10, CompressionLevel: -1, CloseTimeout: 30 * time.Second})
				path := filepath.Join(c.root, file)
				if file == versionFile {
					other := open(t, Options{Dir: dir, Version: "other", MemoryBytes: -1})
					other.Close()
					path = filepath.Join(other.versionDir, versionFile)
					os.Remove(path)
				}
				plant(t, path)
				within(t, 10*time.Second, "Loads, a trim and Close", func() {
					for i := range 20 {
						load(t, c, testKey{"special", i}, func(_ context.Context, k testKey) (testValue, error) {
							return valueFor(k, 8<<10), nil
						})
					}
					if err := c.Trim(); err != nil {
						t.Logf("Trim: %v", err) // an error is fine; a hang is not
					}
					c.Close()
				})
				if _, err := Usage(dir, ""); err != nil {
					t.Logf("Usage: %v", err)
				}
				files, _ := scanVersion(c.versionDir)
				var got int64
				for _, f := range files {
					got += f.alloc
				}
				if got > 128<<10 {
					t.Errorf("the entries take %d bytes with a budget of 64 KiB: trimming stopped", got)
				}
				if name == "directory" {
					if _, err := os.Stat(filepath.Join(path, "x")); err != nil {
						t.Errorf("the cache deleted what a directory in its layout held: %v", err)
					}
				}
			})
		}
	}
}

// TestLinksInTheLayoutAreNotFollowed: the cache writes no symbolic links, so a link in its
// layout is not its own. Usage must not show what a linked version.txt points to (a file
// only its owner may read, when the admin command runs as root), and a linked CACHEDIR.TAG
// does not make a directory a cache that Clear would empty.
func TestLinksInTheLayoutAreNotFollowed(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, Namespace: "test", MemoryBytes: -1})
	load(t, c, testKey{"k", 1}, computeSmall)
	c.Close()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vfile := filepath.Join(c.versionDir, versionFile)
	os.Remove(vfile)
	if err := os.Symlink(secret, vfile); err != nil {
		t.Fatal(err)
	}
	usage, err := Usage(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range usage {
		if strings.Contains(u.Version, "hunter2") {
			t.Fatalf("Usage shows the target of a link: %+v", u)
		}
	}

	// A plain directory whose namespace links to a tag elsewhere.
	plain := t.TempDir()
	ns := filepath.Join(plain, "ns")
	if err := os.MkdirAll(ns, 0o700); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(ns, trimFile) // named like a file of the layout
	if err := os.WriteFile(keep, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(c.root, tagFile), filepath.Join(ns, tagFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Clear(plain, ""); err == nil {
		t.Error("Clear accepted a directory whose tag is a link")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("Clear removed a file of a directory that is not a cache: %v", err)
	}
}

// TestNonDirectoryAtADirectoryOfTheLayout: a FIFO or a file where a shard or version directory
// belongs is replaced by the directory, so that the key's entries (or the whole version) are
// not misses for ever.
func TestNonDirectoryAtADirectoryOfTheLayout(t *testing.T) {
	for _, where := range []string{"shard", "version"} {
		t.Run(where, func(t *testing.T) {
			dir := t.TempDir()
			c := open(t, Options{Dir: dir, MemoryBytes: -1})
			key := testKey{"shard", 1}
			mk := memKeyOf[testValue](c, key)
			ek := c.entryKey(&mk)
			path := filepath.Dir(c.entryPath(&ek))
			if where == "version" {
				path = c.versionDir
			}
			if err := os.RemoveAll(path); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			within(t, 5*time.Second, "a Load and Close", func() {
				load(t, c, key, computeSmall)
				c.Close()
			})
			c2 := open(t, Options{Dir: dir, MemoryBytes: -1})
			load(t, c2, key, computeSmall)
			if st := c2.Stats(); st.DiskHits != 1 {
				t.Fatalf("stats %+v: want a disk hit", st)
			}
		})
	}
}

// TestLinkedDirectoriesOfTheLayout: a symbolic link where a version or shard directory
// belongs would take stores out of the namespace, where trimming never counts them, and the
// budget would not hold. Open replaces a linked version directory, and a trim removes
// linked shard directories, which stores then make again.
func TestLinkedDirectoriesOfTheLayout(t *testing.T) {
	for _, where := range []string{"version", "shard"} {
		t.Run(where, func(t *testing.T) {
			dir, elsewhere := t.TempDir(), t.TempDir()
			opts := Options{Dir: dir, MaxBytes: 256 << 10, CompressionLevel: -1, MemoryBytes: -1}
			c := open(t, opts)
			c.Close()
			if where == "version" {
				os.RemoveAll(c.versionDir)
				if err := os.Symlink(elsewhere, c.versionDir); err != nil {
					t.Fatal(err)
				}
			} else {
				for i := range 256 {
					if err := os.Symlink(elsewhere, filepath.Join(c.versionDir, fmt.Sprintf("%02x", i))); err != nil {
						t.Fatal(err)
					}
				}
			}
			c = open(t, opts)
			for i := range 100 {
				load(t, c, testKey{"big", i}, func(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 16<<10), nil })
				if i%20 == 19 {
					c.Trim()
				}
			}
			c.Trim()
			var outside int64
			filepath.Walk(elsewhere, func(_ string, fi os.FileInfo, err error) error {
				if err == nil && fi.Mode().IsRegular() {
					outside += fi.Size()
				}
				return nil
			})
			if outside > 20*(17<<10) {
				t.Errorf("%d bytes stored outside the namespace, through links", outside)
			}
			us, err := Usage(dir, "")
			if err != nil || len(us) != 1 || us[0].Bytes > opts.MaxBytes || us[0].Entries == 0 {
				t.Errorf("usage %+v, %v", us, err)
			}
			if c.Stats().Errors != 0 {
				t.Errorf("stats %+v", c.Stats())
			}
		})
	}
}
