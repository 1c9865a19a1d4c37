package cache

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	if n := lists.Load(); n > 8 {
		t.Fatalf("the runs listed %d shard directories; their stores were in 8", n)
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

// TestStoppedTrimGivesBackUnlisted: a trim that Close stopped gives back the ledger's bytes of
// the shard directories it did not list, and not those of the ones it listed (their stores
// are in what it found).
func TestStoppedTrimGivesBackUnlisted(t *testing.T) {
	f := newStopFixture(t, 64<<20, 2, 100)
	for i := range 256 {
		appendStored(f.root, byte(i), 1)
	}
	f.grow(t, 100, false)
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
	for i := range 256 {
		s := st.shards[fmt.Sprintf("%s/%02x", filepath.Base(f.vdir), i)]
		listed := s.listed >= since
		if listed && back[byte(i)] != 0 || !listed && back[byte(i)] == 0 {
			t.Fatalf("shard %02x: listed %v, %d bytes given back", i, listed, back[byte(i)])
		}
	}
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
