package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestLedgerCountsNewShardDirectories: a store that makes its shard directory counts the
// directory's block in the ledger too. A trim running when another process's stores make
// new shard directories (which it did not find when it started, so they are nowhere else
// in its bound) may be stopped by Close only if the namespace, their blocks included, is
// within its budget.
func TestLedgerCountsNewShardDirectories(t *testing.T) { storesDuringTrim(t, true) }

// TestLedgerCountsStoresDuringTrim: the same stores into directories that exist.
func TestLedgerCountsStoresDuringTrim(t *testing.T) { storesDuringTrim(t, false) }

// storesDuringTrim runs a trim of a namespace near its budget, while another process stores
// into 128 shard directories: new ones (newDirs), or ones that exist; the namespace must
// end within its budget after Close.
func storesDuringTrim(t *testing.T, newDirs bool) {
	const budget = 4 << 20
	dir := t.TempDir()
	filler := open(t, Options{Dir: dir, Version: "v1", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	root, vdir := filler.root, filler.versionDir
	data := make([]byte, 4000)
	n := 0
	write := func(s int) {
		sdir := filepath.Join(vdir, fmt.Sprintf("%02x", s))
		if err := os.MkdirAll(sdir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sdir, fmt.Sprintf("%02x%062x", s, n)), data, 0o600); err != nil {
			t.Fatal(err)
		}
		n++
	}
	// Shard directories 00 to 7f only: 4 files each, and 100 more in the first ones.
	for s := range 128 {
		for range 4 {
			write(s)
		}
	}
	for i := range 100 {
		write(i % 128)
	}
	ageDirs(t, filler)
	if err := filler.Trim(); err != nil {
		t.Fatal(err)
	}
	filler.Close()
	// The others are recorded empty.
	st, _ := readState(root)
	full := 0
	for _, s := range st.shards {
		if s.files > 0 {
			full++
		}
	}
	if len(st.shards) != 256 || full != 128 {
		t.Fatalf("%d shard directories recorded, %d with files", len(st.shards), full)
	}
	// Stores of another process since: a file in each directory, in the ledger.
	for s := range 128 {
		write(s)
	}
	then := time.Now().Add(-30 * time.Second)
	for s := range 128 {
		os.Chtimes(filepath.Join(vdir, fmt.Sprintf("%02x", s)), then, then)
	}
	appendLedger(root, 128*4)
	os.WriteFile(filepath.Join(root, trimFile), []byte("1000\n"), 0o600)
	before := usageOfFiles(t, vdir, true)

	c := open(t, Options{Dir: dir, Version: "v1", MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1})
	reached, steps := slowTrims(c, 5)
	triggerTrim(t, c, 0)
	<-reached
	// Another process stores one small value into each shard directory 80 to ff, which
	// do not exist yet.
	w := open(t, Options{Dir: dir, Version: "v1", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	made := map[string]bool{}
	for i := 0; len(made) < 128 && i < 100000; i++ {
		k := testKey{"new", i}
		sh := filepath.Base(filepath.Dir(entryFile(w, k)))
		if v, _ := strconv.ParseUint(sh, 16, 8); (v < 0x80) == newDirs || made[sh] {
			continue
		}
		made[sh] = true
		load(t, w, k, computeSmall)
	}
	w.Close()
	c.Close()
	got := usageOfFiles(t, vdir, true)
	t.Logf("before %d; after Close %d (%.3fx the budget); the trim listed %d directories; stats %+v",
		before, got, float64(got)/budget, steps.Load(), c.Stats())
	if c.Stats().TrimsStopped == 1 && got > budget {
		t.Fatalf("Close stopped the trim, and the namespace takes %d bytes, %.3fx its budget: the %d new shard directories are not in the bound",
			got, float64(got)/budget, len(made))
	}
}

// TestLedgerCountsStoresBeforeOnMiss: a store counts its entry file in the ledger as soon as
// the file is on disk, not after the miss's explanation (Options.OnMiss, the program's
// callback, which may be slow): a trim that Close asks to stop meanwhile must bound the
// namespace with those stores.
func TestLedgerCountsStoresBeforeOnMiss(t *testing.T) {
	const budget = 4 << 20
	f := newStopFixture(t, budget, 1, 100) // 2 MiB, recorded
	f.grow(t, 100, true)                   // 1 MiB more, in the ledger: every directory changed
	c := f.open(t)
	reached, _ := slowTrims(c, 5)
	triggerTrim(t, c, 0)
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatal("the trim did not start")
	}

	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	w := open(t, Options{Dir: f.dir, Version: "v1", MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1,
		OnMiss: func(Miss) { <-release }})
	const n, size = 8, 256 << 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Load(context.Background(), w, testKey{"slow", i}, func(_ context.Context, k testKey) (testValue, error) {
				return valueFor(k, size), nil
			})
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.Stats().Stores < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if w.Stats().Stores < n {
		t.Fatalf("stats %+v", w.Stats())
	}
	ledger := ledgerSize(f.root)
	c.Close()
	got := usageOfFiles(t, f.vdir, true)
	unblock()
	wg.Wait()
	w.Close()
	t.Logf("once the slow OnMiss returned and the writer closed: %d bytes, writer stats %+v", usageOfFiles(t, f.vdir, true), w.Stats())
	msg := fmt.Sprintf("%d stores of %d KiB on disk, ledger %d KiB; after Close the namespace takes %d bytes (%.3fx the budget), stats %+v",
		n, size>>10, ledger, got, float64(got)/budget, c.Stats())
	t.Log(msg)
	if got > budget {
		t.Fatal("over the budget after Close: " + msg)
	}
}

// TestLedgerCountsEntryFiles: the ledger counts what a store's entry file takes, header
// included: values whose msgp encoding fits in a 4 KiB block make files of two blocks, and a
// ledger that counted the values would let Close stop a trim of a namespace they took over
// its budget (by the ledger, within it).
func TestLedgerCountsEntryFiles(t *testing.T) {
	const budget = 4 << 20
	f := newStopFixture(t, budget, 1, 100) // 2 MiB, recorded
	size := 0
	for s := 3900; s < 4096 && size == 0; s++ {
		v := valueFor(testKey{"w", 0}, s)
		if raw, _ := v.MarshalMsg(nil); len(raw) <= 4096 && len(raw) > 4096-40 {
			size = s
		}
	}
	// Stores of another process that started no trim (trim.txt is recent, and its budget
	// is far): 400 files of two blocks, 3.2 MiB, counted 1.6 MiB if by their values.
	f.setTrimTime(t, fmt.Sprintln(time.Now().Unix()))
	w := open(t, Options{Dir: f.dir, Version: "v1", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	storeN(t, w, "w", 400, size)
	w.Close()
	if fi, err := os.Stat(entryFile(w, testKey{"w", 0})); err != nil || allocated(fi) != 8192 {
		t.Fatalf("an entry file takes %v bytes (%v), want 8192", allocated(fi), err)
	}
	f.setTrimTime(t, "1000\n")
	c := f.open(t)
	reached, _ := slowTrims(c, 5)
	triggerTrim(t, c, 0)
	<-reached
	c.Close()
	if got := usageOfFiles(t, f.vdir, true); got > budget {
		t.Fatalf("after Close the namespace takes %d bytes (%.2fx its budget); stats %+v", got, float64(got)/budget, c.Stats())
	}
}
