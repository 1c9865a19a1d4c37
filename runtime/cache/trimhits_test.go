package cache

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// hitFixture makes n entries of 100 bytes used 48 hours ago (entry i i seconds later than
// entry 0), trimmed once, and returns the Cache c (budget: 95% of what the namespace takes)
// whose trim the test runs, a second Cache on the same namespace for hits, and the shard
// directory names in listing order.
func hitFixture(t *testing.T, n int) (c, hitter *Cache, names []string, budget int64) {
	t.Helper()
	dir := t.TempDir()
	filler := open(t, Options{Dir: dir, Version: "v1", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	fillDir(t, filler, "e", n, 100)
	base := time.Now().Add(-48 * time.Hour)
	for i := range n {
		mt := base.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(entryFile(filler, testKey{"e", i}), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	ageDirs(t, filler)
	if err := filler.Trim(); err != nil {
		t.Fatal(err)
	}
	filler.Close()
	budget = usageOfFiles(t, filler.versionDir, true) * 95 / 100
	c = open(t, Options{Dir: dir, Version: "v1", MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
	hitter = open(t, Options{Dir: dir, Version: "v1", MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
	f, err := os.Open(c.versionDir)
	if err != nil {
		t.Fatal(err)
	}
	names, err = f.Readdirnames(-1)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	names = slices.DeleteFunc(names, func(s string) bool { return !isShardDir(s) })
	return c, hitter, names, budget
}

func hitEntry(t *testing.T, hitter *Cache, i int) {
	load(t, hitter, testKey{"e", i}, func(context.Context, testKey) (testValue, error) {
		return valueFor(testKey{"e", 0}, 100), nil
	})
}

// TestHitsDuringTrimStillEvict: a build that hits (almost) every entry while a trim lists the
// namespace. Every entry outside the last shard directory listed is hit after its directory
// was listed: each goes back in line at its new time, and the trim still brings the
// namespace within its budget, evicting the entries used least recently, hits included.
func TestHitsDuringTrimStillEvict(t *testing.T) {
	const n = 2000
	c, hitter, names, budget := hitFixture(t, n)
	last := names[len(names)-1]
	steps, hits := 0, 0
	c.trimStep = func() {
		if steps++; steps == len(names) {
			for i := range n {
				if filepath.Base(filepath.Dir(entryFile(c, testKey{"e", i}))) != last {
					hitEntry(t, hitter, i)
					hits++
				}
			}
		}
	}
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	if hits == 0 || hitter.Stats().DiskHits != uint64(hits) {
		t.Fatalf("%d hits, stats %+v", hits, hitter.Stats())
	}
	got := usageOfFiles(t, c.versionDir, true)
	t.Logf("budget %d, after the trim %d (%.3fx), %d evicted", budget, got, float64(got)/float64(budget), c.Stats().Trimmed)
	// Within 90% by the trim's count; usageOfFiles also counts version.txt and the version
	// directory (8 KiB), which the trim does not: the whole budget is a safe line.
	if got > budget {
		t.Fatalf("after a trim that evicted (%d files) the namespace takes %d bytes, %.3fx its budget %d (want within 90%% of it)",
			c.Stats().Trimmed, got, float64(got)/float64(budget), budget)
	}
}

// TestHitsDuringTrimKeepOrderOfUse: a build hits every entry while a trim lists the
// namespace. Entries whose directories were already listed (set A) are hit first, at T1;
// 20 ms later the rest (set B), whose directories are listed after, at T2. The trim finds A
// used since their listing, at T1, and B at T2: every entry it evicts was used no later than
// every entry it keeps, so A goes before B.
func TestHitsDuringTrimKeepOrderOfUse(t *testing.T) {
	const n = 2000
	c, hitter, names, _ := hitFixture(t, n)
	half := len(names) / 2
	listed := map[string]bool{}
	for _, s := range names[:half] {
		listed[s] = true
	}
	inA := func(i int) bool { return listed[filepath.Base(filepath.Dir(entryFile(c, testKey{"e", i})))] }
	steps := 0
	var t1, t2 time.Time
	c.trimStep = func() {
		if steps++; steps == half+1 { // names[:half] listed, the rest not yet
			for i := range n {
				if inA(i) {
					hitEntry(t, hitter, i)
				}
			}
			t1 = time.Now()
			time.Sleep(20 * time.Millisecond)
			t2 = time.Now()
			for i := range n {
				if !inA(i) {
					hitEntry(t, hitter, i)
				}
			}
		}
	}
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	if hitter.Stats().DiskHits != n {
		t.Fatalf("stats %+v: want %d disk hits", hitter.Stats(), n)
	}
	evictedB, keptA, evictedA := 0, 0, 0
	for i := range n {
		gone := !exists(entryFile(c, testKey{"e", i}))
		switch {
		case inA(i) && gone:
			evictedA++
		case inA(i):
			keptA++
		case gone:
			evictedB++
		}
	}
	t.Logf("A (hit by %v): %d kept, %d evicted; B (hit from %v): %d evicted; %d trimmed",
		t1.Format("15:04:05.000"), keptA, evictedA, t2.Format("15:04:05.000"), evictedB, c.Stats().Trimmed)
	if evictedB > 0 && keptA > 0 {
		t.Fatalf("the trim evicted %d entries last used after %v and kept %d entries last used before it", evictedB, t2.Format("15:04:05.000"), keptA)
	}
}

// TestHitDuringTrimKeepsEntry: an entry that another process hits while a trim lists the
// namespace, after its directory was listed, is no longer among the least recently used:
// the trim keeps it, and evicts the entries used two days ago instead.
func TestHitDuringTrimKeepsEntry(t *testing.T) {
	const n = 2000
	c, hitter, names, _ := hitFixture(t, n)
	// Before the last directory is listed, every other one is: the least recently used
	// entry outside the last one is hit.
	last := names[len(names)-1]
	hit, steps := -1, 0
	c.trimStep = func() {
		if steps++; steps == len(names) {
			for hit = 0; filepath.Base(filepath.Dir(entryFile(c, testKey{"e", hit}))) == last; hit++ {
			}
			hitEntry(t, hitter, hit)
		}
	}
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	if hit < 0 || hitter.Stats().DiskHits != 1 {
		t.Fatalf("stats %+v: the entry was not hit during the trim", hitter.Stats())
	}
	if c.Stats().Trimmed == 0 || exists(entryFile(c, testKey{"e", hit + 1})) {
		t.Fatalf("stats %+v: the trim did not evict the least recently used entries", c.Stats())
	}
	if !exists(entryFile(c, testKey{"e", hit})) {
		t.Fatalf("the entry hit during the trim was evicted, with entries used two days ago kept (%d evicted)", c.Stats().Trimmed)
	}
}
