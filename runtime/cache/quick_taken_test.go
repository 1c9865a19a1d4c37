package cache

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestTakenLedgerNameBlocked: a directory (with a file in it) at stored.txt.tmp0, the first
// name under which a trim takes the ledger, does not keep trims from taking it: stored.txt
// does not grow without end, and short runs do not each wait for a trim that cannot stop.
func TestTakenLedgerNameBlocked(t *testing.T) {
	f := newQuickFixture(t, 2048)
	taken := filepath.Join(f.root, storedFile+".tmp0")
	if err := os.Mkdir(taken, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(taken, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var lists atomic.Int32
	var full int
	var slowest time.Duration
	const runs = 60
	for run := range runs {
		c := f.open(t)
		before := lists.Load()
		c.trimStep = func() { lists.Add(1) }
		storeSized(t, c, "run", run, 64<<10)
		d := closeTimed(c)
		if l := lists.Load() - before; l >= 200 {
			full++
			slowest = max(slowest, d)
		}
		if run%10 == 9 {
			t.Logf("run %d: Close %v, stored.txt %d bytes, %d runs so far listed the whole namespace", run, d, fileSize(filepath.Join(f.root, storedFile)), full)
		}
	}
	if n := fileSize(filepath.Join(f.root, storedFile)); full > 5 {
		t.Fatalf("with a directory at %s: stored.txt is never taken (grew to %d bytes over %d runs of 68 blocks), and %d of the %d short runs listed every shard directory in a trim that cannot stop (slowest Close %v)",
			filepath.Base(taken), n, runs, full, runs, slowest)
	}
}
