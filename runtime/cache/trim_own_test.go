package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLayoutDirectoriesCounted: the namespace's directory, which holds a file per key type
// of the explainer and grows with them (a block per hundred names or so, never shrinking),
// and the version directory count against the budget: a namespace that a trim finds within
// it is within it on disk.
func TestLayoutDirectoriesCounted(t *testing.T) {
	f := newQuickFixture(t, 256)
	for i := range 600 {
		name := filepath.Join(f.root, recordPrefix+strconv.FormatUint(uint64(0x1000000000000000+i), 16)+".rec")
		if err := os.WriteFile(name, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	o := f.opts
	o.MaxBytes = sizeNamespace(t, f)
	c := open(t, o)
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	fi, err := os.Lstat(f.root)
	if err != nil {
		t.Fatal(err)
	}
	if allocated(fi) < 3*4096 {
		t.Fatalf("setup: the namespace's directory takes %d bytes", allocated(fi))
	}
	// The whole namespace, its directories included.
	if u := usageOfFiles(t, f.root, true); u > o.MaxBytes {
		t.Fatalf("the namespace takes %d bytes after Trim and Close, budget %d: over by %d", u, o.MaxBytes, u-o.MaxBytes)
	}
}

// TestFirstTrimCountsItsState: the first trim of a namespace (a new one, one filled by a
// Cache of a larger budget, one after Clear) writes a trimstate.txt of tens or hundreds of
// KiB; its eviction and the room it leaves count it, so that Close leaves the namespace
// within its budget, with the state in it.
func TestFirstTrimCountsItsState(t *testing.T) {
	dir := t.TempDir()
	big := open(t, Options{Dir: dir, Namespace: "q", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	fillDir(t, big, "fill", 2048, 64)
	ageDirs(t, big)
	root := big.root
	big.Close()
	for _, name := range []string{stateFile, trimFile, roomFile} {
		if err := os.Remove(filepath.Join(root, name)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	before := usageOfFiles(t, root, true)
	o := Options{Dir: dir, Namespace: "q", MaxBytes: before + 32<<10, MemoryBytes: -1, CompressionLevel: -1}
	c := open(t, o)
	storeSized(t, c, "run", 0, 64)
	c.Close()
	if fileSize(filepath.Join(root, stateFile)) < 64<<10 {
		t.Fatalf("setup: the trim wrote a state of %d bytes", fileSize(filepath.Join(root, stateFile)))
	}
	if u := usageOfFiles(t, root, true); u > o.MaxBytes {
		t.Fatalf("Close returned with the namespace at %d bytes, budget %d: over by %d", u, o.MaxBytes, u-o.MaxBytes)
	}
}

// TestStopBoundCountsOldVersionDirs: a trim that stops before it removes a version no longer
// used keeps that version's directory and version.txt: the bound by which it stops counts
// them.
func TestStopBoundCountsOldVersionDirs(t *testing.T) {
	dir := t.TempDir()
	o0 := Options{Dir: dir, Namespace: "q", Version: "v0", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1}
	c0 := open(t, o0)
	storeN(t, c0, "old", 3, 64)
	c0.Close()
	o1 := o0
	o1.Version = "v1"
	c1 := open(t, o1)
	storeN(t, c1, "new", 40, 64)
	keep := filepath.Base(c1.versionDir)
	root := c1.root
	ageDirs(t, c1)
	c1.Close()
	for range 2 {
		tr := &trimRun{root: root, keep: keep, maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now(), thorough: true}
		if _, err := trimNamespace(tr); err != nil {
			t.Fatal(err)
		}
	}
	v0 := filepath.Join(root, versionID("v0"))
	then := time.Now().Add(-3 * time.Hour) // v0 unused: the next trim removes it
	for _, p := range []string{filepath.Join(v0, versionFile), v0} {
		if err := os.Chtimes(p, then, then); err != nil {
			t.Fatal(err)
		}
	}
	// Ledgers as a stopped trim gives them back, and as records appended meanwhile leave them.
	for _, name := range []string{storedFile, recordedFile} {
		if err := os.WriteFile(filepath.Join(root, name), []byte{0x2a}, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tr := &trimRun{root: root, keep: keep, maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now()}
	tr.state, tr.saved = readState(root)
	if err := tr.listRoot(); err != nil {
		t.Fatal(err)
	}
	n, ok := tr.bound()
	if !ok {
		t.Fatal("no bound")
	}
	if len(tr.olds) != 1 {
		t.Fatalf("setup: %d versions to remove", len(tr.olds))
	}
	if u := usageOfFiles(t, root, true); n < u {
		t.Fatalf("the bound is %d while the namespace takes %d: under by %d", n, u, u-n)
	}
}

// oldVersionNamespace makes a namespace of a version v0 of 4096 entries, unused for three
// hours (the next trim removes it), and v1, in use, of 256, sized and recorded by two trims
// while v0 was in use (so that trimstate.txt keeps v0's entries). It returns the root, v1's
// directory name and v0's directory.
func oldVersionNamespace(t *testing.T) (root, keep, v0 string) {
	t.Helper()
	dir := t.TempDir()
	o0 := Options{Dir: dir, Namespace: "q", Version: "v0", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1}
	c0 := open(t, o0)
	fillDir(t, c0, "old", 4096, 64)
	ageDirs(t, c0)
	c0.Close()
	o1 := o0
	o1.Version = "v1"
	c1 := open(t, o1)
	fillDir(t, c1, "new", 256, 64)
	ageDirs(t, c1)
	keep, root = filepath.Base(c1.versionDir), c1.root
	c1.Close()
	for range 2 {
		tr := &trimRun{root: root, keep: keep, maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now(), thorough: true}
		if _, err := trimNamespace(tr); err != nil {
			t.Fatal(err)
		}
	}
	v0 = filepath.Join(root, versionID("v0"))
	then := time.Now().Add(-3 * time.Hour)
	for _, p := range []string{filepath.Join(v0, versionFile), v0} {
		if err := os.Chtimes(p, then, then); err != nil {
			t.Fatal(err)
		}
	}
	return root, keep, v0
}

// TestOldVersionRemovalKeepsCurrent: the trim that removes an unused version counts the
// state it will write without that version's entries, not the state it found: a namespace
// within its budget once the version is gone keeps every entry of the current one.
func TestOldVersionRemovalKeepsCurrent(t *testing.T) {
	root, keep, _ := oldVersionNamespace(t)
	tr := &trimRun{root: root, keep: keep, maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now()}
	if _, err := trimNamespace(tr); err != nil {
		t.Fatal(err)
	}
	after := usageOfFiles(t, root, true) + 3*4096 // the ledgers and room.txt, counted absent
	root, keep, _ = oldVersionNamespace(t)
	before := usageOfFiles(t, filepath.Join(root, keep), false)
	budget := after + 64<<10
	tr = &trimRun{root: root, keep: keep, maxBytes: budget, maxAge: DefaultMaxAge, now: time.Now()}
	if _, err := trimNamespace(tr); err != nil {
		t.Fatal(err)
	}
	if left := usageOfFiles(t, filepath.Join(root, keep), false); left < before {
		t.Fatalf("the trim evicted %d bytes of the current version from a namespace %d bytes under its budget without the old one", before-left, budget-after)
	}
}

// TestRoomAfterOldVersionRemoved: the room a trim that removed an unused version leaves is
// measured by what the namespace takes after it: neither the state as it was found nor the
// removed version's directories count.
func TestRoomAfterOldVersionRemoved(t *testing.T) {
	root, keep, v0 := oldVersionNamespace(t)
	tr := &trimRun{root: root, keep: keep, maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now()}
	if _, err := trimNamespace(tr); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(v0); !os.IsNotExist(err) {
		t.Fatalf("setup: v0 not removed: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(root, roomFile))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) != 3 {
		t.Fatalf("room.txt %q", b)
	}
	bound, _ := strconv.ParseInt(f[1], 10, 64)
	u := usageOfFiles(t, root, true) + 3*4096 // the ledgers and room.txt, counted absent
	if bound-u > 16<<10 {
		t.Fatalf("room.txt's bound %d overstates the namespace (%d) by %d after the old version went", bound, u, bound-u)
	}
}

// TestTrimKeepsNamespaceWithinBudget: the state as the trim will write it is counted by
// the length of its lines, not by a rough bound: a namespace of eight versions in use, 64
// KiB within its budget, loses nothing to a Trim.
func TestTrimKeepsNamespaceWithinBudget(t *testing.T) {
	dir := t.TempDir()
	var root, keep string
	for i := range 8 {
		c := open(t, Options{Dir: dir, Namespace: "q", Version: fmt.Sprintf("v%d", i), MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
		fillDir(t, c, "fill", 256, 64)
		ageDirs(t, c)
		root, keep = c.root, filepath.Base(c.versionDir)
		c.Close()
	}
	for range 2 {
		tr := &trimRun{root: root, keep: keep, maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now(), thorough: true}
		if _, err := trimNamespace(tr); err != nil {
			t.Fatal(err)
		}
	}
	u := usageOfFiles(t, root, true)
	c := open(t, Options{Dir: dir, Namespace: "q", Version: "v7", MaxBytes: u + 64<<10, MemoryBytes: -1, CompressionLevel: -1})
	if filepath.Base(c.versionDir) != keep {
		t.Fatal("setup: another version")
	}
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if st := c.Stats(); st.Trimmed > 0 {
		t.Fatalf("Trim removed %d files of a namespace 64 KiB under its budget", st.Trimmed)
	}
}

// TestShortRunsEvictAboutWhatTheyStoreWithState: with the state counted, runs at the
// budget still evict about what they stored, each: listing the directories the eviction
// changed must not take the count past the budget, which would list the whole namespace
// and evict a tenth of it.
func TestShortRunsEvictAboutWhatTheyStoreWithState(t *testing.T) {
	f := newQuickFixture(t, 4096)
	const size = 256 << 10 // 64 blocks
	for run := range 12 {
		c := f.open(t)
		storeSized(t, c, "run", run, size)
		c.Close()
		st := c.Stats()
		if st.Trimmed > 64+quickMin {
			t.Fatalf("run %d, storing 64 blocks past the budget, evicted %d files; stats %+v", run, st.Trimmed, st)
		}
		if u := usageOfFiles(t, f.root, true); u > f.budget+layoutSlack {
			t.Fatalf("run %d: %d bytes after Close, budget %d", run, u, f.budget)
		}
	}
}

// TestRunsOfManySmallStoresEvictAboutWhatTheyStore: runs at the budget that store many
// small entries, the next stores landing while the trims they started run (or, serial,
// each waiting for its trim), evict about what they stored, each, and never list the whole
// namespace to evict a tenth of it: stores made during a trim are answered by the next
// round, and listing the directories an eviction changed must not take the count past the
// budget.
func TestRunsOfManySmallStoresEvictAboutWhatTheyStore(t *testing.T) {
	for _, tc := range []struct {
		entries, runs, stores, size int
		serial                      bool
	}{
		{1024, 6, 64, 100, false},
		{4096, 4, 64, 100, false},
		{2048, 4, 64, 100, true},
		{4096, 6, 1, 16 << 10, false},
	} {
		t.Run(fmt.Sprintf("%d/%dx%d/serial=%v", tc.entries, tc.stores, tc.size, tc.serial), func(t *testing.T) {
			f := newQuickFixture(t, tc.entries)
			blocks := tc.stores * ((tc.size + 512 + 4095) / 4096)
			for run := range tc.runs {
				c := f.open(t)
				for i := range tc.stores {
					storeSized(t, c, fmt.Sprintf("run%d", run), i, tc.size)
					for tc.serial && c.trimming.Load() { // the trim this store started
						time.Sleep(time.Millisecond)
					}
				}
				c.Close()
				f.withinBudget(t, fmt.Sprintf("run %d", run))
				if st := c.Stats(); st.Trimmed > uint64(2*blocks+2*quickMin) {
					t.Fatalf("run %d, storing %d blocks, evicted %d files; stats %+v", run, blocks, st.Trimmed, st)
				}
			}
		})
	}
}
