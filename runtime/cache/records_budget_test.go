package cache

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// typedKey is a key type per T: each instantiation has its own record file.
type typedKey[T any] struct {
	Name string
	Opt  int
}

func (k typedKey[T]) HashKey(h *keyhash.Hasher) {
	h.Begin("cache.typedKey", 0x1, 0x2, 0x3, 0x4)
	h.String("Name", k.Name)
	h.Int("Opt", k.Opt)
	h.End()
}

// storeTyped stores a value of size bytes under typedKey[T]{"typed", i}.
func storeTyped[T any](t *testing.T, c *Cache, i, size int) {
	t.Helper()
	_, err := Load(context.Background(), c, typedKey[T]{"typed", i}, func(_ context.Context, k typedKey[T]) (testValue, error) {
		return valueFor(testKey(k), size), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// typedStores stores under 16 key types: 16 record files.
var typedStores = []func(*testing.T, *Cache, int, int){
	storeTyped[int8], storeTyped[int16], storeTyped[int32], storeTyped[int64],
	storeTyped[uint8], storeTyped[uint16], storeTyped[uint32], storeTyped[uint64],
	storeTyped[float32], storeTyped[float64], storeTyped[string], storeTyped[bool],
	storeTyped[[1]byte], storeTyped[[2]byte], storeTyped[[3]byte], storeTyped[[4]byte],
}

// wideKey is a key of many long leaves: its record takes about 7 KiB, more than the block
// of its entry.
type wideKey struct {
	Name string
	Opt  int
}

func (k wideKey) HashKey(h *keyhash.Hasher) {
	h.Begin("cache.wideKey", 0x5, 0x6, 0x7, 0x8)
	h.String("Name", k.Name)
	h.Int("Opt", k.Opt)
	for j := range 80 {
		h.String("F"+strconv.Itoa(j), strings.Repeat(strconv.Itoa(k.Opt+j), 60)[:60])
	}
	h.End()
}

// wideStores stores 8 values of a block each under wideKeys, whose records take more.
func wideStores(t *testing.T, c *Cache) {
	for i := range 8 {
		_, err := Load(context.Background(), c, wideKey{"wide", i}, func(_ context.Context, k wideKey) (testValue, error) {
			return valueFor(testKey(k), 64), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// explainerUsage returns what the miss explainer's files in root take on disk, and how many
// there are.
func explainerUsage(t *testing.T, root string) (n int64, files int) {
	t.Helper()
	des, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if fi, err := os.Lstat(filepath.Join(root, de.Name())); err == nil && isExplainFile(de.Name()) {
			n += allocated(fi)
			files++
		}
	}
	return n, files
}

// TestRecordsStayInBudget: the miss explainer's files count against the budget as entries
// do, also what they grow by after the last trim: stores whose entries fit in the room that
// trim left, but whose records do not (new key types, each a file; keys of many fields,
// each a record larger than its entry), start a trim, and Close leaves the namespace
// within its budget.
func TestRecordsStayInBudget(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first int // what the first run stores past the budget
		store func(t *testing.T, c *Cache)
	}{
		{"new key types", 64, func(t *testing.T, c *Cache) {
			for i, store := range typedStores {
				store(t, c, i, 64)
			}
		}},
		{"keys of many fields", 20 << 10, wideStores},
		// Something in the ledger's place that cannot be removed: each append of
		// records, which it cannot count, starts a trim.
		{"ledger not a file", 20 << 10, func(t *testing.T, c *Cache) {
			// The last run's records, appended after its trim, are in the ledger.
			name := filepath.Join(c.root, recordedFile)
			if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(name, "x"), 0o700); err != nil {
				t.Fatal(err)
			}
			wideStores(t, c)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newQuickFixture(t, 1024)
			c := f.open(t)
			storeSized(t, c, "run", 0, tc.first) // past the budget: a trim leaves room
			c.Close()
			f.withinBudget(t, "setup, after the first run")
			gone := f.gone(t)
			c = f.open(t)
			tc.store(t, c)
			c.Close()
			ex, files := explainerUsage(t, f.root)
			t.Logf("%d more entries gone; explainer's files %d take %d; stats %+v", f.gone(t)-gone, files, ex, c.Stats())
			f.withinBudget(t, "after Close")
		})
	}
}

// TestRecordFilesCostNoHeadroom: explainer files are counted as what they take, nothing
// more: stores into a namespace that holds many of them (full, or empty as planted) evict
// no more than stores into one that holds none.
func TestRecordFilesCostNoHeadroom(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int // of each of the 200 files
		// runs of a block each, after the files, that take the namespace past its
		// budget at most once: at most quickMin+1 entries go.
		runs func(f *quickFixture, usage int64) int
	}{
		// The fixture's 16 KiB of room, passed once.
		{"empty", 0, func(*quickFixture, int64) int { return 10 }},
		// A thorough trim made room for the files: runs that leave 32 KiB of it.
		{"full", 4096, func(f *quickFixture, u int64) int { return int((f.budget - u - 32<<10) / (2 * 4096)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newQuickFixture(t, 1024)
			for i := range 200 {
				name := filepath.Join(f.root, recordPrefix+strconv.FormatUint(uint64(0x1000000000000000+i), 16)+".rec")
				if err := os.WriteFile(name, make([]byte, tc.size), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.size > 0 {
				c := f.open(t)
				if err := c.Trim(); err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
			gone := f.gone(t)
			u := usageOfFiles(t, f.root, true)
			if u > f.budget+layoutSlack {
				t.Fatalf("setup: %d bytes, budget %d", u, f.budget)
			}
			runs := tc.runs(f, u)
			for r := range runs {
				c := f.open(t)
				storeSized(t, c, "one", r, 64)
				c.Close()
			}
			after := usageOfFiles(t, f.root, true)
			if got := f.gone(t) - gone; got > quickMin+1 {
				t.Fatalf("%d runs of a block each, into a namespace %d bytes under its budget, evicted %d entries (%d bytes under after)", runs, f.budget-u, got, f.budget-after)
			}
		})
	}
}

// TestAppendRotatingReportsGrowth: an append says what it took on disk, in blocks, so that
// the ledger of the explainer's files (recordedFile) counts it.
func TestAppendRotatingReportsGrowth(t *testing.T) {
	name := filepath.Join(t.TempDir(), recordPrefix+"1.rec")
	const limit = 64 << 10
	var total int64
	for i := range 40 {
		_, grew := appendRotating(name, make([]byte, 1000), limit)
		if grew%4096 != 0 || grew < 0 || grew > 4096 {
			t.Fatalf("append %d: grew %d", i, grew)
		}
		total += grew
	}
	var now int64
	for _, n := range []string{name, olderHalf(name)} {
		if fi, err := os.Lstat(n); err == nil {
			now += allocated(fi)
		}
	}
	// A rotation replaces the older half without counting what it frees: at least what
	// the two halves take.
	if total < now {
		t.Fatalf("appends reported %d bytes, the files take %d", total, now)
	}
	if total > 40000+8192 {
		t.Fatalf("appends of 40000 bytes reported %d", total)
	}
}

// TestCloseTrimsWhatItWaitedFor: a computation that its caller gave up on, which Close
// waits for, stores past the budget while Close waits; the trim its store would start does
// not (Close began), and Close trims the namespace itself once the computation is done.
func TestCloseTrimsWhatItWaitedFor(t *testing.T) {
	f := newQuickFixture(t, 512)
	c := f.open(t)
	release := make(chan struct{})
	loadGivenUp(t, c, "late", func(_ context.Context, k testKey) (testValue, error) {
		<-release
		return valueFor(k, 256<<10), nil // 64 blocks, far past the 16 KiB of room
	})
	closed := closeBegun(c)
	close(release)
	<-closed
	if st := c.Stats(); st.Stores != 1 {
		t.Fatalf("the computation did not store: %+v", st)
	}
	f.withinBudget(t, "after Close")
}

// TestTrimDirLooksAgain: a run that stores past the budget while TrimDir trims the namespace
// (in a directory that trim has listed already) finds the lock held and leaves the work to
// TrimDir, which looks at the room again after unlocking.
func TestTrimDirLooksAgain(t *testing.T) {
	f := newQuickFixture(t, 1024)
	des, err := os.ReadDir(filepath.Dir(filepath.Dir(f.names[0])))
	if err != nil {
		t.Fatal(err)
	}
	var shards int32
	for _, de := range des {
		if de.IsDir() && isShardDir(de.Name()) {
			shards++
		}
	}
	var steps atomic.Int32
	reached, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := trimDirNamespace(f.root, f.budget, DefaultMaxAge, func() {
			if steps.Add(1) == shards { // before the last shard directory (ff)
				close(reached)
				<-release
			}
		})
		done <- err
	}()
	<-reached
	c := f.open(t)
	i := 0
	for filepath.Base(filepath.Dir(entryFile(c, testKey{"run", i}))) == "ff" {
		i++
	}
	storeSized(t, c, "run", i, 64<<10)
	c.Close()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.withinBudget(t, "after the run and TrimDir")
}

// TestManyExplainerFilesSizedOnce: the eviction that a store past the budget starts sizes
// the explainer's files once, not at every look at its bound (after each entry it removes):
// a namespace may hold thousands of them, and Close waits for the eviction.
func TestManyExplainerFilesSizedOnce(t *testing.T) {
	f := newQuickFixture(t, 1024)
	const n = 500
	for i := range n {
		name := filepath.Join(f.root, recordPrefix+strconv.FormatUint(uint64(0x1000000000000000+i), 16)+".rec")
		if err := os.WriteFile(name, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	budget := sizeNamespace(t, f) + 16<<10
	// Stores past that budget by a Cache of a larger one, which starts no trim.
	o := f.opts
	o.MaxBytes = 1 << 40
	c := open(t, o)
	storeSized(t, c, "run", 0, 128<<10)
	c.Close()
	tr := &trimRun{root: f.root, keep: filepath.Base(c.versionDir), maxBytes: budget, maxAge: DefaultMaxAge, now: time.Now(),
		quickLimit: 128<<10 + budget/64}
	if _, err := trimNamespace(tr); err != nil {
		t.Fatal(err)
	}
	if tr.res.Files < 16 {
		t.Fatalf("the trim removed %d files for 16 blocks past the budget", tr.res.Files)
	}
	if tr.othersSizings > 2 {
		t.Fatalf("%d explainer files sized %d times by a trim that removed %d files", n, tr.othersSizings, tr.res.Files)
	}
}

// sizeNamespace returns what the namespace of f takes as a trim counts it.
func sizeNamespace(t *testing.T, f *quickFixture) int64 {
	t.Helper()
	c := f.open(t)
	keep := filepath.Base(c.versionDir)
	c.Close()
	var sizer *trimRun
	for range 2 { // the second counts the state the first writes
		sizer = &trimRun{root: f.root, keep: keep, maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now(), thorough: true}
		if _, err := trimNamespace(sizer); err != nil {
			t.Fatal(err)
		}
	}
	return sizer.total()
}

// TestCloseTimeoutStillTrims: Close that gives up on a computation that never returns
// (CloseTimeout) still runs the trim that another one, which stored past the budget while
// Close waited, would have started: it does not need the one that hangs.
func TestCloseTimeoutStillTrims(t *testing.T) {
	f := newQuickFixture(t, 512)
	o := f.opts
	o.CloseTimeout = 300 * time.Millisecond
	c := open(t, o)
	releaseA, never := make(chan struct{}), make(chan struct{})
	defer close(never)
	loadGivenUp(t, c, "late", func(_ context.Context, k testKey) (testValue, error) {
		<-releaseA
		return valueFor(k, 256<<10), nil
	})
	loadGivenUp(t, c, "hung", func(_ context.Context, k testKey) (testValue, error) {
		<-never
		return valueFor(k, 64), nil
	})
	closed := closeBegun(c)
	close(releaseA)
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close hung")
	}
	if st := c.Stats(); st.Stores != 1 {
		t.Fatalf("setup: the late computation did not store: %+v", st)
	}
	f.withinBudget(t, "after Close")
}

// TestCloseTimeoutLateComputationNotStored: a computation that Close gave up on at
// CloseTimeout, which returns while Close waits for the remote tier's uploads, stores
// nothing: Close closes the disk tier before its last look for a trim to run, so that
// nothing it did not count lands after.
func TestCloseTimeoutLateComputationNotStored(t *testing.T) {
	f := newQuickFixture(t, 512)
	r := newFakeRemote()
	o := f.opts
	o.CloseTimeout = 300 * time.Millisecond
	o.RemoteCloseTimeout = 20 * time.Second
	o.Remote, o.RemoteKeys, o.Logger = r, []RemoteKey{teamKey}, quiet
	c := open(t, o)
	releaseLate, releaseHung := make(chan struct{}), make(chan struct{})
	var timedOut, hooked atomic.Bool
	r.putErr = func(context.Context, string, []byte) error {
		if !hooked.CompareAndSwap(false, true) {
			return nil
		}
		// The upload of the first store holds Close in the remote's close, after it timed
		// out and ran its trim; the hung computation returns meanwhile.
		for !timedOut.Load() || c.trimming.Load() {
			time.Sleep(time.Millisecond)
		}
		close(releaseHung)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			c.flightMu.Lock()
			n := len(c.flights)
			c.flightMu.Unlock()
			if n == 0 {
				break
			}
		}
		return nil
	}
	loadGivenUp(t, c, "late", func(_ context.Context, k testKey) (testValue, error) {
		<-releaseLate
		return valueFor(k, 256<<10), nil
	})
	loadGivenUp(t, c, "hung", func(_ context.Context, k testKey) (testValue, error) {
		<-releaseHung
		return valueFor(k, 600<<10), nil
	})
	closed := closeBegun(c)
	close(releaseLate)
	time.Sleep(o.CloseTimeout + 50*time.Millisecond)
	timedOut.Store(true)
	select {
	case <-closed:
	case <-time.After(60 * time.Second):
		t.Fatal("Close hung")
	}
	if st := c.Stats(); st.Stores != 1 {
		t.Fatalf("%d stores: the computation that returned after CloseTimeout stored", st.Stores)
	}
	f.withinBudget(t, "after Close")
}

// loadGivenUp loads {key, 0} through c with compute, its caller giving up as soon as
// compute starts: the computation goes on, and Close waits for it.
func loadGivenUp(t *testing.T, c *Cache, key string, compute func(context.Context, testKey) (testValue, error)) {
	t.Helper()
	started := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, err := Load(ctx, c, testKey{key, 0}, func(ctx context.Context, k testKey) (testValue, error) {
		close(started)
		return compute(ctx, k)
	})
	if err == nil {
		t.Fatalf("Load of %s did not give up", key)
	}
}

// closeBegun starts c.Close and returns once Close has begun (it waits for what runs),
// with a channel closed when Close returns.
func closeBegun(c *Cache) <-chan struct{} {
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	for {
		c.flightMu.Lock()
		closing := c.closed
		c.flightMu.Unlock()
		if closing {
			return closed
		}
		time.Sleep(time.Millisecond)
	}
}

// withinBudget fails the test unless the namespace of f takes at most its budget on disk
// (and the layout's directories that no trim counts).
func (f *quickFixture) withinBudget(t *testing.T, when string) {
	t.Helper()
	if u := usageOfFiles(t, f.root, true); u > f.budget+layoutSlack {
		t.Fatalf("%s: the namespace takes %d bytes, budget %d (+%d of layout): over by %d", when, u, f.budget, layoutSlack, u-f.budget-layoutSlack)
	}
}
