package cache

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// usage returns the bytes that the files of the namespace take on disk.
func usage(t *testing.T, root string) int64 {
	return usageOfFiles(t, root, false)
}

// usageOfFiles returns the bytes that the files of the namespace, and with dirs its
// directories, take on disk: what du reports.
func usageOfFiles(t *testing.T, root string, dirs bool) int64 {
	t.Helper()
	var n int64
	err := filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err == nil && (fi.Mode().IsRegular() || dirs && fi.IsDir()) {
			n += allocated(fi)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// storeN stores n values of size bytes through c, with keys from prefix.
func storeN(t *testing.T, c *Cache, prefix string, n, size int) {
	t.Helper()
	for i := range n {
		k := testKey{prefix, i}
		if _, err := Load(context.Background(), c, k, func(_ context.Context, k testKey) (testValue, error) {
			return valueFor(k, size), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestManyShortProcessesStayInBudget: processes that each store less than a quarter of the
// budget, and live less than the hour between time-based trims, still keep the namespace in
// its budget together (their stores add up in the namespace's ledger).
func TestManyShortProcessesStayInBudget(t *testing.T) {
	dir := t.TempDir()
	const budget = 4 << 20
	for p := range 24 {
		c, err := Open(Options{Dir: dir, Namespace: "test", MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
		if err != nil {
			t.Fatal(err)
		}
		storeN(t, c, fmt.Sprint("p", p), 8, 100<<10) // 800 KiB: under a quarter of the budget
		c.Close()
	}
	if got := usage(t, filepath.Join(dir, "test")); got > budget+budget/4 {
		t.Fatalf("24 processes grew the namespace to %d bytes; budget %d", got, budget)
	}
}

// TestConcurrentShortProcessesStayInBudget: 60 processes, 12 at a time, each storing a
// quarter of the budget and exiting: trims overlap with stores and with each other, and
// whoever finds the trim lock held leaves the work to the trim that holds it, which trims
// again when the others stored enough meanwhile. The namespace ends within its budget.
func TestConcurrentShortProcessesStayInBudget(t *testing.T) {
	dir := t.TempDir()
	const budget = 4 << 20
	sem := make(chan struct{}, 12)
	var wg sync.WaitGroup
	for p := range 60 {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := helperCommand(t, "shortstore", dir, p).Run(); err != nil {
				t.Errorf("process %d: %v", p, err)
			}
		})
	}
	wg.Wait()
	if got := usageOfFiles(t, filepath.Join(dir, "test"), true); got > budget+budget/4 {
		t.Fatalf("the namespace ended at %d bytes (%.2fx its budget)", got, float64(got)/budget)
	}
}

// TestFutureTrimTimeIsDue: a trim.txt dated in the future (a clock set back, skew between
// machines) does not disable time-based trimming.
func TestFutureTrimTimeIsDue(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, MemoryBytes: -1})
	future := time.Now().Add(48 * time.Hour).Unix()
	if err := os.WriteFile(filepath.Join(c.root, trimFile), []byte(strconv.FormatInt(future, 10)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	load(t, c, testKey{"future", 1}, computeSmall)
	c.Close()
	if c.Stats().Trims != 1 {
		t.Fatalf("stats %+v: want the store to trim", c.Stats())
	}
}

// TestClockRules runs the time rules against an injected clock: entries refreshed on a hit
// an hour after their last use, another version's directory removed two hours after its
// last use, entries removed after MaxAge, and mtimes in the future (clock skew) not believed.
func TestClockRules(t *testing.T) {
	dir := t.TempDir()
	var clockNs atomic.Int64
	clockNs.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, clockNs.Load()) }
	advance := func(d time.Duration) { clockNs.Add(int64(d)) }
	old := open(t, Options{Dir: dir, Version: "old", MemoryBytes: -1})
	old.now = clock
	load(t, old, testKey{"old", 1}, computeSmall)
	old.Close() // its background trim is done
	cur := open(t, Options{Dir: dir, Version: "new", MemoryBytes: -1, MaxAge: 24 * time.Hour})
	cur.now = clock
	load(t, cur, testKey{"new", 1}, computeSmall)
	waitFor(t, func() bool { return !cur.trimming.Load() })
	oldDir, curDir := old.versionDir, cur.versionDir

	advance(90 * time.Minute)
	if err := cur.Trim(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(oldDir); err != nil {
		t.Fatalf("another version's directory was removed after 90 minutes: %v", err)
	}
	advance(time.Hour)
	if err := cur.Trim(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(oldDir); !os.IsNotExist(err) {
		t.Fatalf("another version's directory is kept after 2.5 hours unused: %v", err)
	}

	// Files dated in the future (a machine whose clock is ahead, sharing the directory)
	// are not believed: a trim sets them to now, and they age from then on, neither
	// kept for ever nor deleted at once.
	ahead := open(t, Options{Dir: dir, Version: "ahead", MemoryBytes: -1})
	load(t, ahead, testKey{"ahead", 1}, computeSmall)
	ahead.Close()
	future := clock().Add(100 * time.Hour)
	aheadFiles, _ := scanVersion(ahead.versionDir)
	curFiles, _ := scanVersion(curDir)
	temp := filepath.Join(curDir, "aa", strings.Repeat("a", 64)+".tmp123")
	os.MkdirAll(filepath.Dir(temp), 0o700)
	os.WriteFile(temp, []byte("a writer's"), 0o600)
	dated := []string{filepath.Join(ahead.versionDir, versionFile), ahead.versionDir, temp}
	for _, f := range append(aheadFiles, curFiles...) {
		dated = append(dated, f.path)
	}
	for _, name := range dated {
		os.Chtimes(name, future, future)
	}
	if err := cur.Trim(); err != nil {
		t.Fatal(err)
	}
	for _, name := range dated {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("a file dated in the future was removed: %v", err)
		}
		if !fi.ModTime().Equal(clock()) {
			t.Errorf("%s dated %v, want the trim's now %v", name, fi.ModTime(), clock())
		}
	}
	advance(3 * time.Hour)
	if err := cur.Trim(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ahead.versionDir); !os.IsNotExist(err) {
		t.Fatalf("a version directory unused for 3 hours since it was found in the future is kept: %v", err)
	}
	if _, err := os.Stat(temp); !os.IsNotExist(err) {
		t.Fatalf("a temporary file 3 hours old is kept: %v", err)
	}

	// Entries unused for MaxAge go; the current version's directory stays.
	advance(25 * time.Hour)
	if err := cur.Trim(); err != nil {
		t.Fatal(err)
	}
	if files, _ := scanVersion(curDir); len(files) != 0 {
		t.Fatalf("%d entries kept after MaxAge", len(files))
	}
}

// TestKilledWritersTempFilesGoFirst: over budget, the temporary files of killed writers (a
// few minutes old) are removed before any live entry.
func TestKilledWritersTempFilesGoFirst(t *testing.T) {
	dir := t.TempDir()
	const budget = 1 << 20
	c := open(t, Options{Dir: dir, MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
	storeN(t, c, "live", 4, 100<<10)
	c.Close()
	c = open(t, Options{Dir: dir, MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
	shard := filepath.Join(c.versionDir, "aa")
	os.MkdirAll(shard, 0o700)
	then := time.Now().Add(-10 * time.Minute)
	for i := range 8 {
		name := filepath.Join(shard, fmt.Sprintf("aa%062d.tmp%d", i, i))
		if err := os.WriteFile(name, make([]byte, 200<<10), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(name, then, then)
	}
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	files, _ := scanVersion(c.versionDir)
	entries, temps := 0, 0
	for _, f := range files {
		if f.temp {
			temps++
		} else {
			entries++
		}
	}
	if temps != 0 || entries != 4 {
		t.Fatalf("after the trim: %d temporary files, %d entries; want 0 and 4", temps, entries)
	}
}

// TestOneTrimAtATime: a namespace locked by a running trim is not trimmed by another process;
// a lock left by a crashed trim is taken over.
func TestOneTrimAtATime(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, MaxBytes: 1 << 20, MemoryBytes: -1, CompressionLevel: -1})
	storeN(t, c, "k", 16, 100<<10)
	c.Close()
	c = open(t, Options{Dir: dir, MaxBytes: 1 << 20, MemoryBytes: -1, CompressionLevel: -1})
	lock := filepath.Join(c.root, lockFile)
	if err := os.WriteFile(lock, []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := usage(t, c.root)
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	if usage(t, c.root) != before {
		t.Fatal("a trim ran while another held the lock")
	}
	stale := time.Now().Add(-time.Hour)
	os.Chtimes(lock, stale, stale)
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	if got := usage(t, c.root); got > 1<<20 {
		t.Fatalf("a crashed trim's lock blocked trimming: %d bytes", got)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Fatal("the trim did not release its lock")
	}

	// A fresh lock of a process of this machine that has exited is taken over at once.
	exited := exec.Command(os.Args[0], "-test.run=^$")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if err := os.WriteFile(lock, fmt.Appendf(nil, "%d %s\n", exited.Process.Pid, host), 0o600); err != nil {
		t.Fatal(err)
	}
	storeN(t, c, "k2", 16, 100<<10)
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	if got := usage(t, c.root); got > 1<<20 {
		t.Fatalf("the lock of an exited process blocked trimming: %d bytes", got)
	}
}

// TestValueLargerThanBudgetNotStored: a value that cannot fit in the budget is not written
// (the next trim would remove it, and every miss would write it again).
func TestValueLargerThanBudgetNotStored(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MaxBytes: 64 << 10, MemoryBytes: -1, CompressionLevel: -1})
	for range 3 {
		if _, err := Load(context.Background(), c, testKey{"huge", 1}, func(_ context.Context, k testKey) (testValue, error) {
			return valueFor(k, 128<<10), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Stores != 0 || st.Errors != 0 || st.Computes != 3 {
		t.Fatalf("stats %+v: want 3 computes, no store, no error", st)
	}
}

// TestBudgetCountsBlocks: the budget counts what files take on disk, so that tiny entries
// (a 4 KiB block each on most file systems) cannot use many times the budget.
func TestBudgetCountsBlocks(t *testing.T) {
	dir := t.TempDir()
	const budget = 256 << 10
	c := open(t, Options{Dir: dir, MaxBytes: budget, MemoryBytes: -1})
	storeN(t, c, "tiny", 400, 16)
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := usage(t, c.root); got > budget+budget/4 {
		t.Fatalf("400 tiny entries take %d bytes on disk; budget %d", got, budget)
	}
}

// TestBudgetCountsDirectories: shard directories take blocks too (4 KiB each on most file
// systems, up to 256 per version), so they count against the budget and go with their last
// entry: tiny entries of several versions, used within the hours that keep old versions,
// must not take several times the budget.
func TestBudgetCountsDirectories(t *testing.T) {
	dir := t.TempDir()
	const budget = 1 << 20
	var last *Cache
	for v := range 5 {
		c := open(t, Options{Dir: dir, Version: fmt.Sprint("v", v), MaxBytes: budget, MemoryBytes: -1})
		storeN(t, c, "tiny", 300, 16)
		c.Close()
		last = c
	}
	c := open(t, Options{Dir: dir, Version: "v4", MaxBytes: budget, MemoryBytes: -1})
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := usageOfFiles(t, last.root, true); got > budget+budget/4 {
		t.Fatalf("the namespace takes %d KiB on disk with its directories; budget %d KiB", got>>10, budget>>10)
	}
}
