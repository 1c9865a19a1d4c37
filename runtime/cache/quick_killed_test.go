package cache

import (
	"os"
	"path/filepath"
	"testing"
)

// TestKilledTrimsStateTempCounted: a trim killed while it writes trimstate.txt leaves
// trimstate.txt.tmp<digits>, as large as the state (here about 210 KB for 256 shard
// directories and their candidates), which is removed once an hour old: until then the
// trims count it, and short runs at the budget leave the namespace within it.
func TestKilledTrimsStateTempCounted(t *testing.T) {
	f := newQuickFixture(t, 2048)
	b, err := os.ReadFile(filepath.Join(f.root, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	// What the killed trim left: its new state, written, not renamed.
	left := filepath.Join(f.root, stateFile+".tmp2718281828")
	if err := os.WriteFile(left, b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("trimstate.txt is %d bytes; the killed trim's temporary file stays", len(b))
	for run := range 6 {
		c := f.open(t)
		storeSized(t, c, "run", run, 64<<10)
		c.Close()
		if u := usageOfFiles(t, f.root, true); u > f.budget+layoutSlack {
			t.Fatalf("run %d: the namespace takes %d bytes after Close, budget %d (over by %d; the killed trim's %s, %d bytes, exists %v)",
				run, u, f.budget, u-f.budget-layoutSlack, filepath.Base(left), len(b), exists(left))
		}
	}
}
