package cache

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseFinishesTrim: Close waits for a running trim, here one held in its third shard
// directory for a while, of a namespace over its budget: a short run that stored past the
// budget does not leave the namespace over it.
func TestCloseFinishesTrim(t *testing.T) {
	dir := t.TempDir()
	const budget = 1 << 20
	filler := open(t, Options{Dir: dir, MemoryBytes: -1, CompressionLevel: -1})
	fillDir(t, filler, "big", 600, 64) // 2.4 MiB of blocks: over twice the budget
	appendLedger(filler.root, 600*4)   // as the stores that wrote them would have
	c := open(t, Options{Dir: dir, MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
	inTrim := make(chan struct{})
	var steps atomic.Int32
	c.trimStep = func() {
		if steps.Add(1) == 3 {
			close(inTrim)
			time.Sleep(50 * time.Millisecond) // a slow directory
		}
	}
	load(t, c, testKey{"trigger", 1}, computeSmall)
	<-inTrim
	c.Close()
	if c.trimming.Load() {
		t.Fatal("Close returned while the trim ran")
	}
	if st := c.Stats(); st.Trims != 1 {
		t.Errorf("stats %+v: the trim did not finish", st)
	}
	if got := usageOfFiles(t, c.root, true); got > budget {
		t.Fatalf("after Close the namespace takes %d bytes; budget %d", got, budget)
	}
}

// TestBackgroundTrimPanicIsAnError: a background trim that panics is an error of the cache
// (logged, counted), not the end of the program, and the Cache goes on.
func TestBackgroundTrimPanicIsAnError(t *testing.T) {
	dir := t.TempDir()
	filler := open(t, Options{Dir: dir, MemoryBytes: -1, CompressionLevel: -1})
	fillDir(t, filler, "big", 300, 64)
	appendLedger(filler.root, 300*4)
	c := open(t, Options{Dir: dir, MaxBytes: 1 << 20, MemoryBytes: -1, CompressionLevel: -1})
	c.trimStep = func() { panic("a bug in the trim") }
	load(t, c, testKey{"trigger", 1}, computeSmall)
	c.Close()
	if st := c.Stats(); st.Errors == 0 {
		t.Fatalf("stats %+v: the trim's panic was not counted", st)
	}
	c2 := open(t, Options{Dir: dir, MaxBytes: 1 << 20, MemoryBytes: -1, CompressionLevel: -1})
	if err := c2.Trim(); err != nil {
		t.Fatal(err) // trim.lock was released
	}
}

// TestUnfinishedTrimGivesLedgerBack: a trim that does not get to its end (here it panics in
// its first shard directory) gives back the ledger it took: the namespace's growth since the
// last trim stays known to the next one, which would otherwise take the stale sizes of
// trimstate.txt for the whole namespace.
func TestUnfinishedTrimGivesLedgerBack(t *testing.T) {
	dir := t.TempDir()
	filler := open(t, Options{Dir: dir, MemoryBytes: -1, CompressionLevel: -1})
	fillDir(t, filler, "big", 50, 64)
	const seeded = 300 * 4
	appendLedger(filler.root, 300*4)
	c := open(t, Options{Dir: dir, MaxBytes: 1 << 30, MemoryBytes: -1, CompressionLevel: -1, Logger: slog.New(slog.DiscardHandler)})
	c.trimStep = func() { panic("a bug in the trim") }
	c.startTrim(func() bool { return true })
	waitFor(t, func() bool { return !c.trimming.Load() })
	if st := c.Stats(); st.Errors != 1 {
		t.Fatalf("stats %+v: the trim did not panic", st)
	}
	if got := ledgerSize(c.root); got < seeded {
		t.Fatalf("the ledger holds %d bytes after the trim panicked; it held %d", got, seeded)
	}
}

// TestHugeLedgerGivenBackBounded: a ledger far past the budget (here a sparse file of
// 256 MiB, as a damaged one could be) is given back by a trim that does not get to its end
// as what matters of it, past the budget, not byte for byte.
func TestHugeLedgerGivenBackBounded(t *testing.T) {
	dir := t.TempDir()
	const budget = 1 << 20
	c := open(t, Options{Dir: dir, MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1, Logger: slog.New(slog.DiscardHandler)})
	load(t, c, testKey{"k", 1}, computeSmall)
	waitFor(t, func() bool { return !c.trimming.Load() })
	if err := os.WriteFile(filepath.Join(c.root, ledgerFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(c.root, ledgerFile), 256<<20); err != nil {
		t.Fatal(err)
	}
	c.trimStep = func() { panic("a bug in the trim") }
	c.startTrim(func() bool { return true })
	waitFor(t, func() bool { return !c.trimming.Load() })
	if st := c.Stats(); st.Errors != 1 {
		t.Fatalf("stats %+v: the trim did not panic", st)
	}
	if got := ledgerSize(c.root); got*ledgerUnit <= budget || got > 2*budget/ledgerUnit {
		t.Fatalf("the ledger holds %d bytes after the trim; want just past the budget's %d", got, budget/ledgerUnit)
	}
}
