package cache

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A quickFixture is a namespace of n entries of a 4 KiB block each, entry i last used i
// seconds after the others before it (so the least recently used order is known), trimmed
// and recorded, with a budget that it just fits: the next store takes it over.
type quickFixture struct {
	dir, root string
	n         int
	budget    int64
	opts      Options
	names     []string // entry i's file
	base      time.Time
}

func newQuickFixture(t *testing.T, n int) *quickFixture {
	t.Helper()
	dir := t.TempDir()
	c, err := Open(Options{Dir: dir, Namespace: "q", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	if err != nil {
		t.Fatal(err)
	}
	fillDir(t, c, "fill", n, 64)
	f := &quickFixture{dir: dir, root: c.root, n: n, base: time.Now().Add(-time.Duration(n+3600) * time.Second)}
	for i := range n {
		name := entryFile(c, testKey{"fill", i})
		m := f.base.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(name, m, m); err != nil {
			t.Fatal(err)
		}
		f.names = append(f.names, name)
	}
	ageDirs(t, c)
	c.Close()
	var sizer *trimRun
	for range 2 { // the second counts the state that the first writes
		sizer = &trimRun{root: c.root, keep: filepath.Base(c.versionDir), maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now(), thorough: true}
		if _, err := trimNamespace(sizer); err != nil {
			t.Fatal(err)
		}
	}
	f.budget = sizer.total() + 16<<10
	f.opts = Options{Dir: dir, Namespace: "q", MaxBytes: f.budget, MemoryBytes: -1, CompressionLevel: -1}
	first := f.open(t)
	if err := first.Trim(); err != nil {
		t.Fatal(err)
	}
	first.Close()
	if got := f.gone(t); got != 0 {
		t.Fatalf("the first trim evicted %d entries", got)
	}
	return f
}

func (f *quickFixture) open(t *testing.T) *Cache {
	t.Helper()
	return open(t, f.opts)
}

// gone returns how many of the entries are gone, and fails the test unless those are the
// least recently used: entries 0 to k-1, and no other.
func (f *quickFixture) gone(t *testing.T) int {
	t.Helper()
	k := 0
	for k < f.n && !exists(f.names[k]) {
		k++
	}
	for i := k; i < f.n; i++ {
		if !exists(f.names[i]) {
			t.Fatalf("entry %d is gone while entry %d, used earlier, stays", i, k)
		}
	}
	return k
}

// layoutSlack is what the namespace takes on disk that no trim counts: its directory, the
// version directory and its version.txt.
const layoutSlack = 3 * 4096

// TestShortRunsEvictWhatTheyStore: runs that each store past the budget and close evict
// about what they stored, the least recently used entries first, without listing the
// namespace, and leave it within its budget; Close then waits for those removals only.
func TestShortRunsEvictWhatTheyStore(t *testing.T) {
	f := newQuickFixture(t, 2048)
	const size = 64 << 10 // 16 entries' worth
	var lists atomic.Int32
	evicted := 0
	for run := range 8 {
		c := f.open(t)
		c.trimStep = func() { lists.Add(1) }
		load(t, c, testKey{"run", run}, func(_ context.Context, k testKey) (testValue, error) { return valueFor(k, size), nil })
		d := closeTimed(c)
		got := f.gone(t)
		t.Logf("run %d: Close %v, %d entries gone, stats %+v", run, d, got, c.Stats())
		if u := usageOfFiles(t, f.root, true); u > f.budget+layoutSlack {
			t.Fatalf("run %d: the namespace takes %d bytes after Close, budget %d", run, u, f.budget)
		}
		if got-evicted < 12 || got-evicted > 24 { // 17 blocks, less the 4 of headroom in the first run
			t.Fatalf("run %d evicted %d entries for a store of 16 entries' worth", run, got-evicted)
		}
		evicted = got
	}
	if n := lists.Load(); n > 64 { // those the runs changed, before Close stops the trims
		t.Fatalf("the runs listed %d shard directories", n)
	}
}

// TestQuickEvictSkipsUsedEntries: an entry that the state keeps among the least recently used
// but that was used since (a hit of another process) is not evicted; the next oldest goes.
func TestQuickEvictSkipsUsedEntries(t *testing.T) {
	f := newQuickFixture(t, 1024)
	now := time.Now()
	for i := 0; i < 40; i += 2 { // every other one of the oldest forty is used again
		os.Chtimes(f.names[i], now, now)
	}
	c := f.open(t)
	load(t, c, testKey{"run", 0}, func(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 64<<10), nil })
	c.Close()
	for i := 0; i < 40; i += 2 {
		if !exists(f.names[i]) {
			t.Fatalf("entry %d, used since the last trim, was evicted", i)
		}
	}
	n := 0
	for i := 1; i < 40; i += 2 {
		if !exists(f.names[i]) {
			n++
		}
	}
	if n < 12 { // 17 blocks stored, 4 of them in the headroom
		t.Fatalf("%d of the unused oldest entries were evicted, want 12 or more", n)
	}
	if u := usageOfFiles(t, f.root, true); u > f.budget+layoutSlack {
		t.Fatalf("the namespace takes %d bytes after Close, budget %d", u, f.budget)
	}
}

// TestQuickEvictBounded: a state that says a shard directory that did not change holds far
// more than it does (a damaged or planted trimstate.txt) makes the bound huge; the evictions
// that follow a store remove at most about what the Cache stored, and the rest of the trim
// sizes the namespace by listing it and removes nothing more.
func TestQuickEvictBounded(t *testing.T) {
	f := newQuickFixture(t, 1024)
	editState(t, f.root, func(i int, line string) string {
		if fs := strings.Fields(line); len(fs) == 8 && strings.HasSuffix(fs[0], "/00") {
			fs[5] = "1000000000000"
			return strings.Join(fs, " ")
		}
		return line
	})
	c := f.open(t)
	load(t, c, testKey{"run", 0}, func(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 4<<10), nil })
	c.Close()
	limit := int(2*4096+f.budget/64)/4096 + 2
	if got := f.gone(t); got > limit {
		t.Fatalf("%d entries evicted; the store was of 2 blocks, the limit %d entries", got, limit)
	}
}

// TestStoredLedgerNamesShards: a store appends to stored.txt a byte per KiB that names its
// shard directory, and a trim that stopped gives back only what was stored in the
// directories it did not list.
func TestStoredLedgerNamesShards(t *testing.T) {
	root := t.TempDir()
	appendStored(root, 0x3a, 3)
	appendStored(root, 0xff, 2)
	b, err := os.ReadFile(filepath.Join(root, storedFile))
	if err != nil || !bytes.Equal(b, []byte{0x3a, 0x3a, 0x3a, 0xff, 0xff}) {
		t.Fatalf("stored.txt = %x, %v", b, err)
	}
	tr := &trimRun{root: root, maxBytes: 1 << 30}
	by, lost, ok := tr.takeStored()
	if !ok || lost != 0 || by[0x3a] != 3 || by[0xff] != 2 || tr.grownBy[0x3a] != 3*ledgerUnit {
		t.Fatalf("takeStored = %v, %d, %v", by, lost, ok)
	}
	if exists(filepath.Join(root, storedFile)) {
		t.Fatal("the taken ledger stays")
	}
}

// TestStoppedTrimFoldsUnlisted: a trim that Close stopped gives back none of the ledger's
// bytes of the shard directories it listed (their stores are in what it found), and adds
// those of the ones it did not list to their records, which it marks changed: the next
// trims count the stores since, and list them.
func TestStoppedTrimFoldsUnlisted(t *testing.T) {
	f := newStopFixture(t, 64<<20, 2, 100)
	for i := range 256 {
		appendStored(f.root, byte(i), 1)
	}
	f.grow(t, 100, false)
	before, _ := readState(f.root)
	since := time.Now().UnixNano()
	c := f.open(t)
	reached, _ := slowTrims(c, 5)
	triggerTrim(t, c, 0)
	<-reached
	c.Close()
	if st := c.Stats(); st.TrimsStopped != 1 {
		t.Fatalf("stats %+v: want the trim stopped", st)
	}
	st, _ := readState(f.root)
	b, _ := os.ReadFile(filepath.Join(f.root, storedFile))
	back := map[byte]int{}
	for _, x := range b {
		back[x]++
	}
	mk := memKeyOf[testValue](c, testKey{"trigger", 0})
	trigger := c.entryKey(&mk)
	folded := 0
	for i := range 256 {
		key := fmt.Sprintf("%s/%02x", filepath.Base(f.vdir), i)
		s, was := st.shards[key], before.shards[key]
		listed := s.listed >= since
		if i == int(trigger[0]) {
			continue // the trigger's store, after the trim took the ledger, is in the new one
		}
		switch {
		case back[byte(i)] != 0:
			t.Fatalf("shard %02x: listed %v, %d bytes given back", i, listed, back[byte(i)])
		case !listed && (s.alloc != was.alloc+ledgerUnit || s.dirMod != 0):
			t.Fatalf("shard %02x, not listed: alloc %d (was %d), dirMod %d", i, s.alloc, was.alloc, s.dirMod)
		case !listed:
			folded++
		}
	}
	if folded < 200 {
		t.Fatalf("%d records folded: the trim listed more than it was meant to", folded)
	}
}

// TestShortRunsLedgerStaysSmall: in a run of short runs at the budget, each trim stopped by
// Close, what was stored in the directories no trim listed goes into their records rather
// than back into the ledger: stored.txt does not grow with the runs.
func TestShortRunsLedgerStaysSmall(t *testing.T) {
	f := newQuickFixture(t, 2048)
	var most int64
	for run := range 40 {
		c := f.open(t)
		load(t, c, testKey{"run", run}, func(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 16<<10), nil })
		c.Close()
		then := time.Now().Add(-time.Minute) // as if the runs were minutes apart
		for _, d := range shardDirsOf(t, f.root) {
			os.Chtimes(d, then, then)
		}
		most = max(most, fileSize(filepath.Join(f.root, storedFile)))
	}
	f.gone(t)
	if most > 5*20 { // runs between trims: quickMin entries of room make about three
		t.Fatalf("stored.txt grew to %d bytes over 40 runs of 20 KiB stores", most)
	}
	if u := usageOfFiles(t, f.root, true); u > f.budget+layoutSlack {
		t.Fatalf("the namespace takes %d bytes, budget %d", u, f.budget)
	}
}

// shardDirsOf returns the shard directories of every version of the namespace root.
func shardDirsOf(t *testing.T, root string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(root, "*", "[0-9a-f][0-9a-f]"))
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// TestRemovedShardRecordedEmpty: a shard directory that a trim removed (or did not find) is
// recorded empty, so that one made again by a store is bounded by the ledger, and a trim
// after it can still stop.
func TestRemovedShardRecordedEmpty(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MaxBytes: 1 << 30, MemoryBytes: -1, CompressionLevel: -1})
	load(t, c, testKey{"a", 1}, computeSmall)
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	st, _ := readState(c.root)
	vid := filepath.Base(c.versionDir)
	if len(st.shards) != 256 {
		t.Fatalf("%d shard directories recorded, want all 256", len(st.shards))
	}
	tr := &trimRun{root: c.root, maxBytes: 1 << 30, now: time.Now()}
	tr.state, tr.saved = readState(c.root)
	if err := tr.listRoot(); err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.bound(); !ok {
		t.Fatalf("no bound with every shard directory of %s recorded", vid)
	}
}

// TestStateCandidatesDamaged: candidates that do not fit their shard directory's line (out of
// order, too many, of another shard, a line that says more entries than it keeps without
// saying from when) drop the directory's record: the next trim lists it.
func TestStateCandidatesDamaged(t *testing.T) {
	const vid = "0123456789abcdef"
	name := func(shard string, i int) string { return fmt.Sprintf("%s%062x", shard, i) }
	for _, tc := range []struct {
		name  string
		lines []string
		keep  bool
	}{
		{"good", []string{vid + "/ab 1 1 2 0 8192 5 0", "+" + name("ab", 1) + " 5 4096", "+" + name("ab", 2) + " 6 4096"}, true},
		{"more, with rest", []string{vid + "/ab 1 1 3 0 8192 5 6", "+" + name("ab", 1) + " 5 4096", "+" + name("ab", 2) + " 6 4096"}, true},
		{"more, no rest", []string{vid + "/ab 1 1 3 0 8192 5 0", "+" + name("ab", 1) + " 5 4096", "+" + name("ab", 2) + " 6 4096"}, false},
		{"out of order", []string{vid + "/ab 1 1 2 0 8192 5 0", "+" + name("ab", 1) + " 6 4096", "+" + name("ab", 2) + " 5 4096"}, false},
		{"other shard", []string{vid + "/ab 1 1 1 0 4096 5 0", "+" + name("cd", 1) + " 5 4096"}, false},
		{"fewer files", []string{vid + "/ab 1 1 0 0 0 5 0", "+" + name("ab", 1) + " 5 4096"}, false},
		{"bad number", []string{vid + "/ab 1 1 1 0 4096 5 0", "+" + name("ab", 1) + " x 4096"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.WriteFile(filepath.Join(root, stateFile), []byte(stateHeader+"\n"+strings.Join(tc.lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			st, _ := readState(root)
			if _, ok := st.shards[vid+"/ab"]; ok != tc.keep {
				t.Fatalf("record kept %v, want %v: %+v", ok, tc.keep, st.shards)
			}
		})
	}
}

// TestQuickEvictLeavesOldVersionToRemoval: a version directory unused for hours, which the
// trim removes whole (last), does not make the evictions that follow a store remove entries
// of the current version, which is within its budget: what the old one holds goes with it.
func TestQuickEvictLeavesOldVersionToRemoval(t *testing.T) {
	f := newQuickFixture(t, 1024)
	old := open(t, Options{Dir: f.dir, Namespace: "q", Version: "old", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	fillDir(t, old, "old", 128, 64)
	ageDirs(t, old)
	old.Close()
	// A trim records it while it is in use.
	rec := &trimRun{root: f.root, keep: filepath.Base(old.versionDir), maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now(), thorough: true}
	if _, err := trimNamespace(rec); err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-3 * time.Hour)
	for _, p := range []string{filepath.Join(old.versionDir, versionFile), old.versionDir} {
		os.Chtimes(p, then, then)
	}
	if err := os.WriteFile(filepath.Join(f.root, trimFile), []byte("1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.opts.MaxBytes += 64 << 10 // the records of the old version's directories in trimstate.txt
	c := f.open(t)
	load(t, c, testKey{"small", 0}, computeSmall)
	c.Close()
	if got := f.gone(t); got > 0 {
		t.Fatalf("%d entries of the current version evicted; stats %+v", got, c.Stats())
	}
}

// storeSized stores one value of size bytes through c under key {prefix, i}.
func storeSized(t *testing.T, c *Cache, prefix string, i, size int) {
	t.Helper()
	load(t, c, testKey{prefix, i}, func(_ context.Context, k testKey) (testValue, error) { return valueFor(k, size), nil })
}

// TestConcurrentShortRunsStayInBudget: short runs of several processes (Caches sharing only
// the files) that store past the budget at the same moment and close leave the namespace
// within it: a store whose trim found the lock held is evicted by the holder, which looks
// again after unlocking, also when Close stopped its trim.
func TestConcurrentShortRunsStayInBudget(t *testing.T) {
	f := newQuickFixture(t, 2048)
	for iter := range 40 {
		var wg sync.WaitGroup
		cs := make([]*Cache, 3)
		for i := range cs {
			cs[i] = f.open(t)
		}
		for i, c := range cs {
			wg.Go(func() {
				storeSized(t, c, "conc", iter*len(cs)+i, 64<<10)
				c.Close()
			})
		}
		wg.Wait()
		if u := usageOfFiles(t, f.root, true); u > f.budget+layoutSlack {
			t.Fatalf("iteration %d: the namespace takes %d bytes after every Close returned, budget %d", iter, u, f.budget)
		}
	}
	f.gone(t)
}

// TestQuickEvictCountsFiles: candidates whose recorded size is wrong (here 0: a damaged
// trimstate.txt) do not make the evictions that follow a store remove more than about what
// it stored: what an eviction frees is what the file took.
func TestQuickEvictCountsFiles(t *testing.T) {
	f := newQuickFixture(t, 1024)
	editState(t, f.root, func(i int, line string) string {
		if strings.HasPrefix(line, "+") {
			fs := strings.Fields(line)
			fs[2] = "0"
			return strings.Join(fs, " ")
		}
		return line
	})
	c := f.open(t)
	storeSized(t, c, "run", 0, 64<<10)
	c.Close()
	limit := int((17*4096+f.budget/64)/4096) + 2
	if got := f.gone(t); got > limit {
		t.Fatalf("%d entries evicted for a store of 17 blocks; limit %d entries", got, limit)
	}
}

// newRoomFixture returns a quickFixture of 1024 entries whose room.txt plant made (from
// nothing), and room.txt's path.
func newRoomFixture(t *testing.T, plant func(name string) error) (*quickFixture, string) {
	t.Helper()
	f := newQuickFixture(t, 1024)
	room := filepath.Join(f.root, roomFile)
	if err := os.Remove(room); err != nil {
		t.Fatal(err)
	}
	if err := plant(room); err != nil {
		t.Fatal(err)
	}
	return f, room
}

// TestRoomDamagedStillTrims: room.txt missing (a trim that could not bound the namespace,
// an older layout), empty (a trim killed as it wrote it), holding something else than a
// number, or a link: the next store starts a trim, which evicts what the stores took past
// the budget and writes room.txt again.
func TestRoomDamagedStillTrims(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(name string) error
	}{
		{"missing", func(name string) error { return nil }},
		{"empty", func(name string) error { return os.WriteFile(name, nil, 0o600) }},
		{"garbage", func(name string) error { return os.WriteFile(name, []byte("12x\n"), 0o600) }},
		{"negative", func(name string) error { return os.WriteFile(name, []byte("-5\n"), 0o600) }},
		{"link", func(name string) error { return os.Symlink(filepath.Join(filepath.Dir(name), "elsewhere"), name) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, room := newRoomFixture(t, tc.plant)
			c := f.open(t)
			for i := range 8 {
				storeSized(t, c, "room", i, 64<<10)
			}
			c.Close()
			if u := usageOfFiles(t, f.root, true); u > f.budget+layoutSlack {
				t.Fatalf("the namespace takes %d bytes after Close, budget %d", u, f.budget)
			}
			f.gone(t)
			if fi, err := os.Lstat(room); err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("room.txt after the trims: %v, %v", fi, err)
			}
		})
	}
}

// TestRoomOfAnotherBudget: room.txt written by a trim of a larger budget (TrimDir with its
// default 1 GiB, as cachegen cache trim runs it, or a Cache of the namespace with a larger
// MaxBytes), or planted, does not keep the stores of a Cache of a smaller budget from
// starting the trims that keep the namespace within it: room.txt holds the bound, and each
// Cache reads it by its own budget.
func TestRoomOfAnotherBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		trim func(f *quickFixture) error
	}{
		{"TrimDir defaults", func(f *quickFixture) error {
			_, err := TrimDir(f.dir, "q", 0, 0)
			return err
		}},
		{"Cache with a larger MaxBytes", func(f *quickFixture) error {
			o := f.opts
			o.MaxBytes = 1 << 30
			c, err := Open(o)
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Trim()
		}},
		{"planted number", func(f *quickFixture) error {
			return os.WriteFile(filepath.Join(f.root, roomFile), []byte("99999999 0 99999999\n"), 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newQuickFixture(t, 1024)
			if err := tc.trim(f); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(filepath.Join(f.root, roomFile))
			t.Logf("room.txt now %q", b)
			for run := range 6 {
				c := f.open(t)
				storeSized(t, c, "room", run, 64<<10)
				c.Close()
				if u := usageOfFiles(t, f.root, true); u > f.budget+layoutSlack {
					t.Fatalf("run %d: the namespace takes %d bytes after Close, budget %d (over by %d); stats %+v",
						run, u, f.budget, u-f.budget-layoutSlack, c.Stats())
				}
			}
		})
	}
}

// TestRoomOfTakenLedger: room.txt that says how far a ledger that a trim took could grow
// (here that of a trim killed after it took stored.txt, before it removed room.txt) does
// not hold for the new ledger: the next stores start trims (the first takes the dead trim's
// lock over), and short runs leave the namespace within its budget.
func TestRoomOfTakenLedger(t *testing.T) {
	f := newQuickFixture(t, 1024)
	// Steady state of short runs at the budget.
	for run := range 3 {
		c := f.open(t)
		storeSized(t, c, "steady", run, 64<<10)
		c.Close()
	}
	if u := usageOfFiles(t, f.root, true); u > f.budget+layoutSlack {
		t.Fatalf("steady state already over budget: %d > %d", u, f.budget)
	}
	t.Logf("steady state: stored.txt %d bytes, room.txt %d", fileSize(filepath.Join(f.root, storedFile)), roomThreshold(f.root, f.budget, math.MaxInt64))

	// Process P stores 64 KiB, which passes the room; its trim takes stored.txt and P is
	// killed before it evicts anything. The files as P leaves them:
	p := f.open(t)
	fillDir(t, p, "killed", 1, 64<<10) // P's entry, written by its store
	name := filepath.Join(f.root, storedFile)
	appendStored(f.root, 0x5a, 68) // P's ledger bytes ...
	if fileSize(name) <= roomThreshold(f.root, f.budget, math.MaxInt64) {
		t.Fatalf("P's store does not pass the room: stored %d, room %d", fileSize(name), roomThreshold(f.root, f.budget, math.MaxInt64))
	}
	if err := os.Rename(name, name+".tmp0"); err != nil { // ... taken by its trim (takeStored)
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if err := os.WriteFile(filepath.Join(f.root, lockFile), fmt.Appendf(nil, "%d %s\n", dead.Process.Pid, host), 0o600); err != nil {
		t.Fatal(err)
	}
	p.diskOff.Store(true) // P is dead: its Close (by the test's cleanup) must not trim
	t.Logf("after the kill: namespace %d bytes, budget %d", usageOfFiles(t, f.root, true), f.budget)

	for run := range 4 {
		c := f.open(t)
		storeSized(t, c, "after", run, 64<<10)
		c.Close()
		u := usageOfFiles(t, f.root, true)
		t.Logf("run %d: stored.txt %d, room %d, usage %d, stats trims=%d stopped=%d", run,
			fileSize(name), roomThreshold(f.root, f.budget, math.MaxInt64), u, c.Stats().Trims, c.Stats().TrimsStopped)
		if u > f.budget+layoutSlack {
			t.Fatalf("run %d after the killed trim: the namespace takes %d bytes after Close, budget %d (over by %d)",
				run, u, f.budget, u-f.budget-layoutSlack)
		}
	}
}

// TestQuickEvictLargeCandidate: the evictions that follow a store stop before an entry that
// would take them past what the Cache stored plus MaxBytes/64: with a trimstate.txt that
// overstates an unchanged shard directory (the damage of TestQuickEvictBounded), a 36 KiB
// store in a namespace within its budget does not evict a 2 MiB entry.
func TestQuickEvictLargeCandidate(t *testing.T) {
	f := newQuickFixture(t, 1024)
	c := f.open(t)
	big := entryFile(c, testKey{"big", 0})
	fillDir(t, c, "big", 1, 2<<20)
	old := f.base.Add(-time.Hour) // the least recently used entry
	os.Chtimes(big, old, old)
	ageDirs(t, c)
	c.Close()
	// Record it, and give the budget room for it.
	f.opts.MaxBytes += 2<<20 + 1<<20 // and 1 MiB of room: the namespace stays well within it
	f.budget = f.opts.MaxBytes
	c = f.open(t)
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if !exists(big) || f.gone(t) != 0 {
		t.Fatal("the set-up trim evicted")
	}
	before := usageOfFiles(t, f.root, true)
	t.Logf("namespace %d bytes, budget %d", before, f.budget)
	// Damage: one shard directory (not the big entry's) says it holds 1 TB more.
	bigShard := filepath.Base(filepath.Dir(big))
	done := false
	editState(t, f.root, func(i int, line string) string {
		if fs := strings.Fields(line); !done && len(fs) == 8 && !strings.HasSuffix(fs[0], "/"+bigShard) && fs[3] != "0" {
			fs[5] = "1000000000000"
			done = true
			return strings.Join(fs, " ")
		}
		return line
	})
	c = f.open(t)
	// The last trim was over an hour ago: the next store starts the hourly trim.
	if err := os.WriteFile(filepath.Join(f.root, trimFile), []byte("1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	storeSized(t, c, "small", 0, 32<<10) // 9 blocks
	c.Close()
	after := usageOfFiles(t, f.root, true)
	removed := before + 9*4096 - after
	limit := 9*4096 + f.budget/64
	t.Logf("removed about %d bytes; big entry exists %v; %d small entries gone; stats %+v", removed, exists(big), f.gone(t), c.Stats())
	if !exists(big) || removed > limit+8192 {
		t.Fatalf("a 36 KiB store in a namespace 1 MiB within its budget removed %d bytes (the 2 MiB entry gone: %v); limit %d",
			removed, !exists(big), limit)
	}
}

// TestBoundCountsExplainerGrowth: the miss explainer's files grow with every store: the
// bound counts them as they are when the trim sizes them again (before it evicts, and before
// it writes room.txt; what is appended between is in recorded.txt), an older half that a
// rotation made since the listing included.
func TestBoundCountsExplainerGrowth(t *testing.T) {
	root := t.TempDir()
	name := filepath.Join(root, missesFile)
	if err := os.WriteFile(name, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := &trimRun{root: root, maxBytes: 1 << 30, maxAge: DefaultMaxAge, now: time.Now()}
	tr.state, tr.saved = readState(root)
	if err := tr.listRoot(); err != nil {
		t.Fatal(err)
	}
	before, ok := tr.bound()
	if !ok {
		t.Fatal("no bound")
	}
	if err := os.WriteFile(olderHalf(name), make([]byte, 64<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 32<<10))
	f.Close()
	tr.sizeOthers()
	if after, _ := tr.bound(); after-before < 96<<10 {
		t.Fatalf("the bound grew by %d bytes with 96 KiB appended and rotated after the listing", after-before)
	}
}
