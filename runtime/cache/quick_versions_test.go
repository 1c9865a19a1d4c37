package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFoldKeepsOtherVersionsRecords: a namespace holding two versions (the program was
// upgraded within the last two hours, so the previous version's directory is still kept
// and trimmed with the current one; their entries interleave in LRU order), and short runs
// of the current one only, each storing 16 KiB and closing at once, so that Close stops
// their trims. Evictions change both versions' shard directories; a stopped trim must not
// add what was stored in shard number i to the other version's directory of that number
// as well (the ledger says the number, not the version): its records would grow at every
// stopped trim, and the namespace, within its budget, drain run after run.
func TestFoldKeepsOtherVersionsRecords(t *testing.T) {
	dir := t.TempDir()
	const n = 1024
	base := time.Now().Add(-time.Duration(2*n+3600) * time.Second)
	var keep string
	for vi, v := range []string{"a", "b"} {
		c, err := Open(Options{Dir: dir, Namespace: "q", Version: v, MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
		if err != nil {
			t.Fatal(err)
		}
		fillDir(t, c, "fill"+v, n, 64)
		for i := range n {
			m := base.Add(time.Duration(2*i+vi) * time.Second)
			os.Chtimes(entryFile(c, testKey{"fill" + v, i}), m, m)
		}
		ageDirs(t, c)
		if v == "a" {
			keep = filepath.Base(c.versionDir)
		}
		c.Close()
	}
	root := filepath.Join(dir, "q")
	var sizer *trimRun
	for range 2 {
		sizer = &trimRun{root: root, keep: keep, maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now(), thorough: true}
		if _, err := trimNamespace(sizer); err != nil {
			t.Fatal(err)
		}
	}
	budget := sizer.total() + 16<<10
	opts := Options{Dir: dir, Namespace: "q", Version: "a", MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1}
	first := open(t, opts)
	if err := first.Trim(); err != nil {
		t.Fatal(err)
	}
	first.Close()
	t.Logf("budget %d, namespace %d", budget, usageOfFiles(t, root, true))

	const runs = 120
	for run := range runs {
		c := open(t, opts)
		storeSized(t, c, "run", run, 16<<10) // 5 blocks
		c.Close()
		then := time.Now().Add(-time.Minute) // as if the runs were minutes apart
		for _, d := range shardDirsOf(t, root) {
			os.Chtimes(d, then, then)
		}
		if run%20 == 19 {
			u := usageOfFiles(t, root, true)
			t.Logf("run %d: namespace %d bytes (budget %d, %d under)", run, u, budget, budget-u)
		}
	}
	u := usageOfFiles(t, root, true)
	// What trimstate.txt says of version b's directories, into which nothing was stored,
	// against what they hold.
	st, _ := readState(root)
	var recB, realB int64
	for _, d := range shardDirsOf(t, root) {
		vid, sh := filepath.Base(filepath.Dir(d)), filepath.Base(d)
		if vid == keep {
			continue
		}
		if s, ok := st.shards[vid+"/"+sh]; ok {
			recB += s.alloc
			des, _ := os.ReadDir(d)
			for _, de := range des {
				if fi, err := de.Info(); err == nil {
					realB += allocated(fi)
				}
			}
		}
	}
	t.Logf("version b: recorded %d bytes, holds %d (overstated by %d)", recB, realB, recB-realB)
	// Stores and evictions balance: the namespace should stay about full, within
	// MaxBytes/64 and a few stores of its budget.
	if floor := budget - budget/64 - 4*5*4096 - layoutSlack; u < floor {
		t.Fatalf("after %d short runs storing 16 KiB each the namespace takes %d bytes, %d under its budget %d (%d KiB below MaxBytes/64 and 4 stores of it); version b's records overstate it by %d bytes",
			runs, u, budget-u, budget, (floor-u)/1024, recB-realB)
	}
}
