package cache

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// closeWait is how long Close may take while a trim that it can stop runs: a few
// milliseconds, with margin for a loaded machine and the race detector.
const closeWait = 100 * time.Millisecond

// slowDir is how long each shard directory takes in the trims of the tests below, unless
// Close asked the trim to stop: a trim of 256 directories takes seconds.
const slowDir = 10 * time.Millisecond

// A stopFixture is a namespace whose version "v1" holds files in every one of the 256
// shard directories, each recorded in trimstate.txt by a trim, with a trim.txt so old that
// the next store trims.
type stopFixture struct {
	dir, root, vdir string
	budget          int64
	files           int // files written so far, for their names
}

// newStopFixture makes a stopFixture of perShard files of size bytes per shard directory,
// for Caches of the given budget.
func newStopFixture(t *testing.T, budget int64, perShard, size int) *stopFixture {
	t.Helper()
	dir := t.TempDir()
	filler := open(t, Options{Dir: dir, Version: "v1", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	f := &stopFixture{dir: dir, root: filler.root, vdir: filler.versionDir, budget: budget}
	for range perShard {
		f.add(t, size)
	}
	ageDirs(t, filler)
	if err := filler.Trim(); err != nil {
		t.Fatal(err)
	}
	filler.Close()
	if st, _ := readState(f.root); len(st.shards) != 256 {
		t.Fatalf("%d shard directories recorded, want 256", len(st.shards))
	}
	f.setTrimTime(t, "1000\n")
	return f
}

// add writes a file of size bytes named as an entry into each shard directory.
func (f *stopFixture) add(t *testing.T, size int) {
	t.Helper()
	data := make([]byte, size)
	for s := range 256 {
		sdir := filepath.Join(f.vdir, fmt.Sprintf("%02x", s))
		if err := os.MkdirAll(sdir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sdir, fmt.Sprintf("%02x%062x", s, f.files)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f.files++
}

// grow stores a file of size bytes in every shard directory, dated (with the directories)
// half a minute back, as stores of other processes would have, and with ledger appends to
// the ledger what they would have.
func (f *stopFixture) grow(t *testing.T, size int, ledger bool) {
	t.Helper()
	f.add(t, size)
	then := time.Now().Add(-30 * time.Second)
	for _, sdir := range f.shardDirs(t) {
		os.Chtimes(sdir, then, then)
	}
	if ledger {
		appendLedger(f.root, 256*int64((size+4095)/4096*(4096/ledgerUnit)))
	}
}

func (f *stopFixture) shardDirs(t *testing.T) []string {
	t.Helper()
	des, err := os.ReadDir(f.vdir)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, de := range des {
		if de.IsDir() && isShardDir(de.Name()) {
			dirs = append(dirs, filepath.Join(f.vdir, de.Name()))
		}
	}
	return dirs
}

func (f *stopFixture) setTrimTime(t *testing.T, s string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.root, trimFile), []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (f *stopFixture) trimTime(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, trimFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// open opens a Cache of version v1 of the fixture's namespace, with its budget.
func (f *stopFixture) open(t *testing.T) *Cache {
	t.Helper()
	return open(t, Options{Dir: f.dir, Version: "v1", MaxBytes: f.budget, MemoryBytes: -1, CompressionLevel: -1})
}

// slowTrims makes every shard directory of c's trims take slowDir, unless Close asked the
// trim to stop; the channel returned is closed when a trim reaches its nth directory.
func slowTrims(c *Cache, n int32) (reached <-chan struct{}, steps *atomic.Int32) {
	ch := make(chan struct{})
	steps = new(atomic.Int32)
	c.trimStep = func() {
		if steps.Add(1) == n {
			close(ch)
		}
		for end := time.Now().Add(slowDir); time.Now().Before(end) && !c.stopping.Load(); {
			time.Sleep(time.Millisecond)
		}
	}
	return ch, steps
}

// triggerTrim stores a value of c into a shard directory that exists, which starts a
// background trim (trim.txt is old).
func triggerTrim(t *testing.T, c *Cache, i int) {
	t.Helper()
	for ; !exists(filepath.Dir(entryFile(c, testKey{"trigger", i}))); i++ {
	}
	load(t, c, testKey{"trigger", i}, computeSmall)
}

// closeTimed closes c and returns how long Close took.
func closeTimed(c *Cache) time.Duration {
	start := time.Now()
	c.Close()
	return time.Since(start)
}

// TestCloseStopsTrimWithinBudget: Close stops, within a few milliseconds, a background trim
// of a namespace that the trim can show within its budget: every shard directory recorded,
// their sizes and what the ledger says was stored since well within it, though every
// directory changed (stores of other processes) and must be listed again. The stopped trim
// records the directories it listed (the others keep their records), gives the ledger
// back, leaves trim.txt as it was, and is no error; the next store, of another process,
// trims again and finishes the work.
func TestCloseStopsTrimWithinBudget(t *testing.T) {
	f := newStopFixture(t, 64<<20, 2, 100)
	f.grow(t, 100, true)
	seeded := ledgerSize(f.root)
	c := f.open(t)
	reached, steps := slowTrims(c, 5)
	triggerTrim(t, c, 0)
	<-reached
	d := closeTimed(c)
	t.Logf("Close took %v, the trim listed %d directories", d, steps.Load())
	if d > closeWait {
		t.Errorf("Close took %v during a trim of a namespace within its budget", d)
	}
	if st := c.Stats(); st.TrimsStopped != 1 || st.Trims != 0 || st.Errors != 0 {
		t.Fatalf("stats %+v: want one trim stopped, none finished, no error", st)
	}
	if got := f.trimTime(t); got != "1000\n" {
		t.Errorf("the stopped trim wrote trim.txt %q", got)
	}
	if got := ledgerSize(f.root); got < seeded {
		t.Errorf("the ledger holds %d bytes after the stop; it held %d", got, seeded)
	}
	// The directories it listed are recorded as they are now; the others keep the records
	// of before the stores, as the next trim must list them.
	st, _ := readState(f.root)
	fresh := 0
	for _, sdir := range f.shardDirs(t) {
		s, ok := st.shards[filepath.Base(f.vdir)+"/"+filepath.Base(sdir)]
		fi, err := os.Stat(sdir)
		if !ok || err != nil {
			t.Fatalf("%s: no record after the stop (%v)", sdir, err)
		}
		if s.dirMod == fi.ModTime().UnixNano() {
			fresh++
			if s.files != 3 {
				t.Errorf("%s recorded with %d files, want 3", sdir, s.files)
			}
		}
	}
	if listed := int(steps.Load()); fresh < listed-1 || fresh > listed {
		t.Errorf("%d directories recorded afresh; the trim listed %d", fresh, listed)
	}
	if fresh > 256/2 {
		t.Fatalf("the trim listed %d of 256 directories before it stopped", fresh)
	}

	// Another process's store trims again (the namespace is due), to the end.
	next := f.open(t)
	triggerTrim(t, next, 1000)
	waitFor(t, func() bool { return !next.trimming.Load() })
	if st := next.Stats(); st.Trims != 1 || st.TrimsStopped != 0 || st.Trimmed != 0 {
		t.Fatalf("stats %+v: want the next store's trim to finish, removing nothing", st)
	}
	if f.trimTime(t) == "1000\n" {
		t.Error("the next trim did not write trim.txt")
	}
	if got := ledgerSize(f.root); got >= seeded {
		t.Errorf("the ledger holds %d bytes after the next trim; want it started again", got)
	}
	st, _ = readState(f.root)
	for _, sdir := range f.shardDirs(t) {
		s := st.shards[filepath.Base(f.vdir)+"/"+filepath.Base(sdir)]
		if s.listed < time.Now().Add(-time.Minute).UnixNano() {
			t.Fatalf("%s was not listed by the next trim", sdir)
		}
	}
}

// TestCloseWaitsForTrimItCannotBound: Close waits for a background trim that cannot show
// the namespace within its budget, and the namespace ends within it: a shard directory
// without a record (as a damaged trimstate.txt leaves, or a directory no trim listed yet),
// the recorded sizes and the ledger over the budget (a stopped trim's ledger given back
// counts stores its listing also counted: the finished trim evicts nothing for that), stores
// since the last trim that the ledger says took the namespace over its budget, a listing
// that finds more than recorded and the ledger says (a writer killed between its store and
// its ledger append), stores that a ledger that is not a file could not count, and each
// with the trim's clock two days off either way.
func TestCloseWaitsForTrimItCannotBound(t *testing.T) {
	const budget = 4 << 20 // 256 directories and their first files take 2 MiB
	for _, tc := range []struct {
		name string
		// setup makes the namespace one the trim cannot bound; it reports whether the
		// namespace is over its budget.
		setup func(t *testing.T, f *stopFixture) (over bool)
		at    int32 // the directory of the trim in which Close starts
	}{
		// A quarter of the directories have no record: those the trim has not listed
		// yet when Close starts (it lists them all) have no size.
		{"unrecorded", func(t *testing.T, f *stopFixture) bool {
			f.grow(t, 100, true)
			editState(t, f.root, func(i int, line string) string {
				if i%4 == 1 {
					return ""
				}
				return line
			})
			return false
		}, 5},
		{"damaged state", func(t *testing.T, f *stopFixture) bool {
			f.grow(t, 100, true)
			editState(t, f.root, func(i int, line string) string {
				if i%4 == 1 {
					return line[:len(line)-3] + "x" + line[len(line)-2:] // a damaged digit
				}
				return line
			})
			return false
		}, 5},
		{"ledger over", func(t *testing.T, f *stopFixture) bool {
			f.grow(t, 100, false)
			appendLedger(f.root, (budget/2+64<<10)/ledgerUnit) // stores that the listing also counts
			return false
		}, 5},
		// Stores since the last trim, which the ledger knows of, took the namespace over
		// its budget: the trim must not stop before it lists them.
		{"stores over", func(t *testing.T, f *stopFixture) bool {
			f.grow(t, 12<<10, true)
			return true
		}, 5},
		// Stores that the ledger could not count (it is a directory, with something in
		// it), which took the namespace over its budget.
		{"ledger unwritable", func(t *testing.T, f *stopFixture) bool {
			f.grow(t, 12<<10, false)
			if err := os.MkdirAll(filepath.Join(f.root, ledgerFile, "x"), 0o700); err != nil {
				t.Fatal(err)
			}
			return true
		}, 5},
		// The listing finds 12 KiB more than recorded in each directory: past about 170
		// of them, the namespace is over its budget.
		{"listing over", func(t *testing.T, f *stopFixture) bool {
			f.grow(t, 12<<10, false) // 3 MiB more, of which the ledger knows nothing
			return true
		}, 200},
	} {
		for _, skew := range []time.Duration{0, 48 * time.Hour, -48 * time.Hour} {
			t.Run(fmt.Sprintf("%s/skew=%v", tc.name, skew), func(t *testing.T) {
				f := newStopFixture(t, budget, 1, 100)
				over := tc.setup(t, f)
				c := f.open(t)
				c.now = func() time.Time { return time.Now().Add(skew) }
				reached, _ := slowTrims(c, tc.at)
				triggerTrim(t, c, 0)
				<-reached
				d := closeTimed(c)
				st := c.Stats()
				t.Logf("Close took %v; stats %+v", d, st)
				if st.Trims != 1 || st.TrimsStopped != 0 || st.Errors != 0 {
					t.Fatalf("stats %+v: want the trim finished", st)
				}
				if f.trimTime(t) == "1000\n" {
					t.Error("the trim did not write trim.txt")
				}
				if !over && st.Trimmed != 0 {
					t.Errorf("the trim removed %d files from a namespace within its budget", st.Trimmed)
				}
				if got := usageOfFiles(t, f.vdir, true); got > budget {
					t.Fatalf("after Close the namespace takes %d bytes; budget %d", got, budget)
				}
			})
		}
	}
}

// editState replaces each line of trimstate.txt (the header is line 0) with what edit
// returns for it, removing it for "".
func editState(t *testing.T, root string, edit func(i int, line string) string) {
	t.Helper()
	name := filepath.Join(root, stateFile)
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line = edit(i, line); line != "" {
			keep = append(keep, line)
		}
	}
	if err := os.WriteFile(name, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// countedUsage returns what the namespace root takes on disk as trims count it: shard
// directories and the files in them, the miss explainer's files, and the temporary files of
// version.txt.
func countedUsage(t *testing.T, root string) int64 {
	t.Helper()
	var n int64
	err := filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		parts := strings.Split(rel, string(filepath.Separator))
		switch {
		case len(parts) >= 2 && isVersionDir(parts[0]) && isShardDir(parts[1]),
			len(parts) == 1 && isExplainFile(parts[0]) && fi.Mode().IsRegular(),
			len(parts) == 2 && isTemp(parts[1], func(s string) bool { return s == versionFile }):
			n += allocated(fi)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// oldVersionFixture makes a namespace where version v0, unused for three hours, holds
// perShard files of 100 bytes in each of its 256 shard directories, all recorded, and the
// current version v1 a few entries; trim.txt is old.
func oldVersionFixture(t *testing.T, perShard int) (dir, oldDir string) {
	t.Helper()
	dir = t.TempDir()
	old := open(t, Options{Dir: dir, Version: "v0", MemoryBytes: -1, CompressionLevel: -1})
	load(t, old, testKey{"old", 0}, computeSmall)
	old.Close()
	f := &stopFixture{vdir: old.versionDir}
	for range perShard {
		f.add(t, 100)
	}
	ageDirs(t, old)
	cur := open(t, Options{Dir: dir, Version: "v1", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	for i := range 8 {
		load(t, cur, testKey{"cur", i}, computeSmall)
	}
	ageDirs(t, cur)
	if err := cur.Trim(); err != nil { // records both versions' directories
		t.Fatal(err)
	}
	cur.Close()
	ageVersion(t, old.versionDir, 3*time.Hour)
	f.root = cur.root
	f.setTrimTime(t, "1000\n")
	return dir, old.versionDir
}

// shardCount returns how many shard directories the version directory vdir holds.
func shardCount(t *testing.T, vdir string) int {
	t.Helper()
	if !exists(vdir) {
		return 0
	}
	return len((&stopFixture{vdir: vdir}).shardDirs(t))
}

// TestCloseStopsOldVersionRemoval: removing a large old version directory, which a trim does
// after the budget's work, stops when Close asks while the namespace, what is left of the
// old version included, is within its budget: the directory keeps its version.txt and its
// mtime (it still looks unused) and the records of what is left, and the next trim removes
// the rest.
func TestCloseStopsOldVersionRemoval(t *testing.T) {
	dir, oldDir := oldVersionFixture(t, 2)
	c := open(t, Options{Dir: dir, Version: "v1", MaxBytes: 64 << 20, MemoryBytes: -1, CompressionLevel: -1})
	reached, steps := slowTrims(c, 20)
	triggerTrim(t, c, 0)
	<-reached
	d := closeTimed(c)
	left := shardCount(t, oldDir)
	t.Logf("Close took %v; %d steps, %d of 256 old shard directories left", d, steps.Load(), left)
	if d > closeWait {
		t.Errorf("Close took %v during the removal of an old version", d)
	}
	if st := c.Stats(); st.TrimsStopped != 1 || st.Trims != 0 || st.Errors != 0 {
		t.Fatalf("stats %+v: want one trim stopped", st)
	}
	if left < 256-int(steps.Load()) || left > 256-10 {
		t.Errorf("%d old shard directories left after %d steps", left, steps.Load())
	}
	if !exists(filepath.Join(oldDir, versionFile)) {
		t.Error("the stopped removal removed version.txt")
	}
	if age := time.Since(versionLastUsed(oldDir, time.Now())); age < oldVersionAge {
		t.Errorf("the old version looks used %v ago after the stopped removal", age)
	}
	st, _ := readState(filepath.Dir(oldDir))
	for _, sdir := range (&stopFixture{vdir: oldDir}).shardDirs(t) {
		if _, ok := st.shards[filepath.Base(oldDir)+"/"+filepath.Base(sdir)]; !ok {
			t.Errorf("%s has no record after the stopped removal", sdir)
		}
	}

	next := open(t, Options{Dir: dir, Version: "v1", MaxBytes: 64 << 20, MemoryBytes: -1, CompressionLevel: -1})
	triggerTrim(t, next, 1000)
	waitFor(t, func() bool { return !next.trimming.Load() })
	if st := next.Stats(); st.Trims != 1 || exists(oldDir) {
		t.Fatalf("stats %+v, old version kept=%v: the next trim did not finish the removal", st, exists(oldDir))
	}
}

// TestCloseWaitsForOldVersionOverBudget: what is left of an old version directory being
// removed counts against the budget: while it keeps the namespace over its budget, Close
// waits for the removal, which it stops only once the namespace is within it.
func TestCloseWaitsForOldVersionOverBudget(t *testing.T) {
	dir, oldDir := oldVersionFixture(t, 2) // the old version takes 3 MiB
	const budget = 2 << 20
	c := open(t, Options{Dir: dir, Version: "v1", MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
	reached, steps := slowTrims(c, 20)
	triggerTrim(t, c, 0)
	<-reached
	c.Close()
	st := c.Stats()
	t.Logf("%d steps, %d of 256 old shard directories left; stats %+v", steps.Load(), shardCount(t, oldDir), st)
	// A trim stopped may be followed by another round, when the ledger it gave back
	// leaves the namespace past the room it found.
	if st.Errors != 0 || st.Trims+st.TrimsStopped == 0 {
		t.Fatalf("stats %+v", st)
	}
	if got := countedUsage(t, filepath.Dir(oldDir)); got > budget {
		t.Fatalf("after Close the namespace takes %d bytes; budget %d", got, budget)
	}
}

// TestCloseAfterCrashedTrim: a trim killed after it took the ledger (here, a process whose
// trim hangs, killed) leaves its lock behind; the trim that takes the lock over cannot
// rely on the ledger, and Close waits for it: the stores that only the lost ledger knew of
// took the namespace over its budget, which the recorded sizes do not show.
func TestCloseAfterCrashedTrim(t *testing.T) {
	const budget = 4 << 20
	f := newStopFixture(t, budget, 1, 100)
	f.grow(t, 12<<10, true) // 3 MiB more: over the budget, as the ledger says
	cmd := helperCommand(t, "trimhang", f.dir, 0)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "trimming\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the helper said %q, %v", line, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !exists(filepath.Join(f.root, lockFile)) || ledgerSize(f.root) != 0 {
		t.Fatalf("the killed trim left lock=%v, a ledger of %d bytes", exists(filepath.Join(f.root, lockFile)), ledgerSize(f.root))
	}
	c := f.open(t)
	reached, _ := slowTrims(c, 5)
	triggerTrim(t, c, 0)
	<-reached
	c.Close()
	if st := c.Stats(); st.Trims != 1 || st.TrimsStopped != 0 {
		t.Fatalf("stats %+v: want the trim finished", st)
	}
	if got := usageOfFiles(t, f.vdir, true); got > budget {
		t.Fatalf("after Close the namespace takes %d bytes; budget %d", got, budget)
	}
}

// TestStoppedShortProcessesStayInBudget: short processes, 12 at a time, each storing a few
// values and exiting while its trim is slow, in a namespace that starts half full with
// every shard directory recorded: Close stops the trims it can, and the namespace ends
// within its budget however many it stopped.
func TestStoppedShortProcessesStayInBudget(t *testing.T) {
	const budget = 4 << 20 // as in the helper
	f := newStopFixture(t, budget, 1, 100)
	sem := make(chan struct{}, 12)
	var wg sync.WaitGroup
	var stopped, finished atomic.Int64
	for p := range 60 {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out, err := helperCommand(t, "shortstoreslow", f.dir, p).Output()
			if err != nil {
				t.Errorf("process %d: %v", p, err)
				return
			}
			var s, n int64
			if _, err := fmt.Sscanf(string(out), "stopped %d finished %d", &s, &n); err != nil {
				t.Errorf("process %d said %q", p, out)
			}
			stopped.Add(s)
			finished.Add(n)
		})
	}
	wg.Wait()
	got := usageOfFiles(t, f.root, true)
	t.Logf("%d trims stopped, %d finished; the namespace takes %d bytes (%.2fx its budget)", stopped.Load(), finished.Load(), got, float64(got)/budget)
	if got > budget+budget/4 {
		t.Fatalf("the namespace ended at %d bytes (%.2fx its budget)", got, float64(got)/budget)
	}
	if stopped.Load() == 0 {
		t.Fatal("no trim was stopped")
	}
}

// TestStoppedTrimsMakeProgress: short runs whose trims Close stops, one after the other,
// each list directories that the ones before did not: what a stopped trim listed is
// recorded, and the next trim goes on from there rather than starting again.
func TestStoppedTrimsMakeProgress(t *testing.T) {
	f := newStopFixture(t, 64<<20, 1, 100)
	f.grow(t, 100, true)
	freshRecords := func() int {
		st, _ := readState(f.root)
		n := 0
		for _, sdir := range f.shardDirs(t) {
			fi, err := os.Stat(sdir)
			if err == nil && st.shards[filepath.Base(f.vdir)+"/"+filepath.Base(sdir)].dirMod == fi.ModTime().UnixNano() {
				n++
			}
		}
		return n
	}
	last := freshRecords()
	for run := range 4 {
		c := f.open(t)
		reached, _ := slowTrims(c, 6)
		triggerTrim(t, c, 100*run)
		<-reached
		c.Close()
		if st := c.Stats(); st.TrimsStopped != 1 {
			t.Fatalf("run %d: stats %+v: want the trim stopped", run, st)
		}
		n := freshRecords()
		t.Logf("run %d: %d directories recorded as they are", run, n)
		if n < last+4 {
			t.Fatalf("run %d: %d directories recorded as they are, %d before", run, n, last)
		}
		last = n
	}
}

// TestStopCountsStoresDuringTheTrim: stores made while a trim runs, by this process or by
// others, go to the ledger that started again with the trim; the bound counts them, so that
// Close does not stop a trim of a namespace they took over its budget.
func TestStopCountsStoresDuringTheTrim(t *testing.T) {
	const budget = 4 << 20
	for _, others := range []bool{false, true} {
		t.Run(map[bool]string{false: "own", true: "others"}[others], func(t *testing.T) {
			f := newStopFixture(t, budget, 1, 100) // 2 MiB
			f.grow(t, 100, true)                   // every directory changed: the trim lists all 256
			c := f.open(t)
			reached, _ := slowTrims(c, 5)
			triggerTrim(t, c, 0)
			<-reached
			if others { // short processes, whose trims find the lock held
				for p := range 6 {
					o := f.open(t)
					storeN(t, o, fmt.Sprintf("burst%d", p), 28, 32<<10)
					o.Close()
				}
			} else {
				storeN(t, c, "burst", 170, 32<<10) // about 6 MiB
			}
			c.Close()
			if got := usageOfFiles(t, f.root, true); got > budget+budget/4 {
				t.Fatalf("after Close the namespace takes %d bytes (%.2fx its budget); stats %+v", got, float64(got)/budget, c.Stats())
			}
		})
	}
}

// TestTrimRecordsAsItGoes: a trim that lists many directories records what it found every
// checkpointEvery of them, so that one cut short (Close stops waiting after CloseTimeout,
// the process is killed) leaves its work to the next trim.
func TestTrimRecordsAsItGoes(t *testing.T) {
	f := newStopFixture(t, 1<<30, 1, 100)
	f.grow(t, 100, false) // every directory changed since its record
	before, _ := readState(f.root)
	c := f.open(t)
	var steps atomic.Int32
	recorded := make(chan int, 1)
	c.trimStep = func() {
		if steps.Add(1) == checkpointEvery+2 {
			st, _ := readState(f.root)
			n := 0
			for key, s := range st.shards {
				if s.listed != before.shards[key].listed {
					n++
				}
			}
			recorded <- n
		}
	}
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	if n := <-recorded; n < checkpointEvery {
		t.Fatalf("%d directories recorded after %d were listed; want %d", n, checkpointEvery+1, checkpointEvery)
	}
}
