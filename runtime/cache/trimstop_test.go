package cache

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseStopsTrim: Close returns within a few milliseconds while a trim of a namespace
// within its budget runs, whether the trim is busy in a directory (held there by the test's
// hook until Close signals) or listing a large namespace; the stopped trim leaves the
// namespace due and consistent, and the next trim finishes the work.
func TestCloseStopsTrim(t *testing.T) {
	t.Run("hook", func(t *testing.T) {
		// The best of three: a loaded machine may hold one Close up.
		best := time.Hour
		for range 3 {
			best = min(best, closeDuringHookedTrim(t))
		}
		if best > closeWait {
			t.Fatalf("Close took %v with a trim running", best)
		}
	})
	t.Run("large", func(t *testing.T) {
		if testing.Short() {
			t.Skip("fills a directory of 4000 entries")
		}
		dir := t.TempDir()
		c := open(t, Options{Dir: dir, MaxBytes: 64 << 20, MemoryBytes: -1, CompressionLevel: -1})
		fillDir(t, c, "big", 4000, 64) // 16 MiB of blocks: within the budget
		listing := make(chan struct{})
		var once sync.Once
		c.trimStep = func() { once.Do(func() { close(listing) }) }
		load(t, c, testKey{"trigger", 1}, computeSmall) // no trim.txt: the store starts a trim
		<-listing
		start := time.Now()
		c.Close()
		d := time.Since(start)
		if d > closeWait {
			t.Fatalf("Close took %v with a trim of 4000 entries running", d)
		}
		t.Logf("Close took %v", d)
		if _, err := Usage(dir, ""); err != nil {
			t.Fatalf("the stopped trim left a namespace Usage cannot read: %v", err)
		}
	})
}

// closeDuringHookedTrim closes a Cache whose background trim (of a namespace within its
// budget, due by time) is held in its third shard directory until Close says stop, checks
// what the stopped trim leaves and that the next trim finishes the work, and returns how
// long Close took.
func closeDuringHookedTrim(t *testing.T) time.Duration {
	dir := t.TempDir()
	const budget = 8 << 20
	filler := open(t, Options{Dir: dir, MemoryBytes: -1, CompressionLevel: -1})
	fillDir(t, filler, "big", 600, 64) // 2.4 MiB of blocks
	c := open(t, Options{Dir: dir, MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
	inTrim := make(chan struct{})
	var steps atomic.Int32
	c.trimStep = func() {
		if steps.Add(1) == 3 {
			close(inTrim)
			<-c.stopTrim // a directory that takes until Close says stop
		}
	}
	load(t, c, testKey{"trigger", 1}, computeSmall) // no trim.txt: the store starts a trim
	<-inTrim
	start := time.Now()
	c.Close()
	d := time.Since(start)
	waitFor(t, func() bool { return !c.trimming.Load() })
	if st := c.Stats(); st.Trims != 0 {
		t.Errorf("stats %+v: a stopped trim counted as done", st)
	}
	if exists(filepath.Join(c.root, trimFile)) {
		t.Error("a stopped trim wrote trim.txt: the namespace is no longer due")
	}
	if st, _ := readState(c.root); !st.stopped || len(st.shards) != 2 {
		t.Errorf("state after the stop: stopped=%v, %d directories recorded; want stopped and the 2 listed", st.stopped, len(st.shards))
	}
	// The next process's trim goes on, and finishes.
	next := open(t, Options{Dir: dir, MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
	load(t, next, testKey{"trigger", 2}, computeSmall)
	waitFor(t, func() bool { return !next.trimming.Load() })
	if st := next.Stats(); st.Trims == 0 {
		t.Errorf("stats %+v: the next store did not trim", st)
	}
	if !exists(filepath.Join(c.root, trimFile)) {
		t.Error("the next trim did not write trim.txt")
	}
	return d
}

// TestCloseFinishesTrimOverBudget: a trim that found the namespace over its budget is not
// stopped by Close, which waits for it: a short run that stored past the budget does not
// leave the namespace over it.
func TestCloseFinishesTrimOverBudget(t *testing.T) {
	dir := t.TempDir()
	const budget = 1 << 20
	filler := open(t, Options{Dir: dir, MemoryBytes: -1, CompressionLevel: -1})
	fillDir(t, filler, "big", 600, 64) // 2.4 MiB of blocks: over twice the budget
	filler.ledger(600 * 4096)          // as the stores that wrote them would have
	c := open(t, Options{Dir: dir, MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
	inTrim := make(chan struct{})
	var steps atomic.Int32
	c.trimStep = func() {
		if steps.Add(1) == 3 {
			close(inTrim)
			<-c.stopTrim // Close says stop while the trim is in its third directory
		}
	}
	load(t, c, testKey{"trigger", 1}, computeSmall)
	<-inTrim
	c.Close()
	if c.trimming.Load() {
		t.Fatal("Close returned while the trim of a namespace over budget ran")
	}
	if st := c.Stats(); st.Trims != 1 {
		t.Errorf("stats %+v: the trim over budget did not finish", st)
	}
	if got := usageOfFiles(t, c.root, true); got > budget {
		t.Fatalf("after Close the namespace takes %d bytes; budget %d", got, budget)
	}
}

// TestStoppedTrimsConverge: Caches that each store one value and close while their trim is
// in its first directories (as short-lived processes do), three at a time, trim a namespace
// three times over its budget down to it: each stopped trim's progress is kept for the next,
// whichever Cache runs it.
func TestStoppedTrimsConverge(t *testing.T) {
	dir := t.TempDir()
	const budget = 1 << 20
	filler := open(t, Options{Dir: dir, Version: "v1", MemoryBytes: -1, CompressionLevel: -1})
	fillDir(t, filler, "big", 800, 64) // 3.2 MiB of blocks
	root := filepath.Join(dir, "test")
	var runs, stopped atomic.Int32
	var mu sync.Mutex
	var closes []time.Duration
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := 0; i < 150 && (i%8 != 0 || usageOfFiles(t, root, true) > budget+budget/4); i++ {
				c, err := Open(Options{Dir: dir, Namespace: "test", Version: "v1", MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
				if err != nil {
					t.Error(err)
					return
				}
				var steps atomic.Int32
				c.trimStep = func() {
					if steps.Add(1) > 16 { // 16 directories: the rest of its life
						<-c.stopTrim
					}
				}
				if _, err := Load(t.Context(), c, testKey{"run", w*1000 + i}, computeSmall); err != nil {
					t.Error(err)
				}
				waitFor(t, func() bool { return steps.Load() > 16 || !c.trimming.Load() })
				trimming := steps.Load() > 16 // this run's trim holds the lock, in its 17th directory
				start := time.Now()
				c.Close()
				if trimming {
					mu.Lock()
					closes = append(closes, time.Since(start))
					mu.Unlock()
				}
				runs.Add(1)
				if c.Stats().Trims == 0 {
					stopped.Add(1)
				}
			}
		})
	}
	wg.Wait()
	got := usageOfFiles(t, root, true)
	if len(closes) == 0 {
		t.Fatal("no run closed while its trim was running")
	}
	slices.Sort(closes)
	median := closes[len(closes)/2]
	t.Logf("%d runs, %d of them without a trim done: %d KiB, budget %d KiB; Close during a trim took %v (median of %d), %v (max)",
		runs.Load(), stopped.Load(), got>>10, budget>>10, median, len(closes), closes[len(closes)-1])
	if got > budget+budget/4 {
		t.Fatalf("stopped trims did not converge: the namespace takes %d bytes; budget %d", got, budget)
	}
	// What is left is readable: every entry file left is one the layout knows.
	if us, err := Usage(dir, "test"); err != nil || len(us) != 1 || us[0].TempFiles != 0 {
		t.Fatalf("Usage = %+v, %v", us, err)
	}
	if _, err := os.Stat(filepath.Join(root, lockFile)); !os.IsNotExist(err) {
		t.Errorf("the trim lock is still held: %v", err)
	}
}
