package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestNewVersionFirstRunEvictsAboutWhatItStores: the first short run of a new build (another
// Version, as every development build of a program using the executable's hash is) in a
// namespace at its budget evicts about what it stored, and leaves the namespace within it:
// the shard directory it made, which no trim recorded, is listed before the quick eviction
// (which had no bound without it, evicted nothing, and left the namespace to a listing that
// evicted to 90%: 245 to 258 of 2048 entries for one store).
func TestNewVersionFirstRunEvictsAboutWhatItStores(t *testing.T) {
	for _, size := range []int{100, 16 << 10, 64 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			f := newQuickFixture(t, 2048)
			o := f.opts
			o.Version = "a new build"
			c := open(t, o)
			storeSized(t, c, "new build", 0, size)
			c.Close()
			f.withinBudget(t, "after Close")
			limit := quickMin + (size+4095)/4096 + 2
			if got := f.gone(t); got > limit {
				t.Fatalf("%d of %d entries evicted for a store of %d bytes; limit %d", got, f.n, size, limit)
			}
		})
	}
}

// TestStoresLeftToLockHolderEvictAboutWhatTheyStore: stores of another Cache (another process)
// made while this one's trim holds the lock, whose own trims find it held and leave them to
// the holder, are evicted by the holder's next round about as they were stored: its quick
// eviction may remove what the ledger it takes says was stored by everyone, not only by its
// own Cache (which allowed a sixty-fourth of the budget, and made the round list the
// namespace and evict 14 to 17% of it).
func TestStoresLeftToLockHolderEvictAboutWhatTheyStore(t *testing.T) {
	for _, k := range []int{1, 3, 6} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			f := newQuickFixture(t, 2048)
			a, b := f.open(t), f.open(t)
			var once sync.Once
			stepped := make(chan struct{})
			a.trimStep = func() {
				once.Do(func() {
					for i := range k {
						storeSized(t, b, "b", i, 64<<10)
					}
					close(stepped)
				})
			}
			storeSized(t, a, "a", 0, 64<<10)
			<-stepped
			a.Close() // its trim looks again after unlocking: B's stores past the room
			f.withinBudget(t, "after A's Close")
			stored := 17 * (k + 1)
			if got, limit := f.gone(t), stored+quickMin+4; got > limit {
				t.Fatalf("%d entries evicted for %d blocks stored; limit %d", got, stored, limit)
			}
			b.Close()
		})
	}
}

// TestStoresDuringEveryRoundStayInBudget: a Cache (another process) that stores during each
// round of another's trim (a busy namespace) finds the lock held at each store; the holder
// looks again after each round, for as long as its rounds evict what the other stored (it
// stopped after four, leaving what was stored during the last rounds: 456 KiB over the
// budget once both closed, with stores of 256 KiB).
func TestStoresDuringEveryRoundStayInBudget(t *testing.T) {
	f := newQuickFixture(t, 1024)
	a, b := f.open(t), f.open(t)
	var mu sync.Mutex
	var bStores atomic.Int32
	a.trimStep = func() {
		mu.Lock()
		defer mu.Unlock()
		// Once per round, after it took the ledger, which B's store starts again.
		if fileSize(filepath.Join(f.root, storedFile)) == 0 && bStores.Load() < 100 {
			storeSized(t, b, "b", int(bStores.Add(1)), 256<<10)
		}
	}
	storeSized(t, a, "a", 0, 64<<10)
	for quiet := 0; quiet < 20; {
		time.Sleep(10 * time.Millisecond)
		if a.trimming.Load() || b.trimming.Load() {
			quiet = 0
		} else {
			quiet++
		}
	}
	mu.Lock()
	a.trimStep = nil
	mu.Unlock()
	b.Close()
	a.Close()
	t.Logf("B stored %d entries during A's trims", bStores.Load())
	f.withinBudget(t, "after both Close")
}

// TestDuplicateStoresLeftToHolderEvictWhatTheNamespaceGrew: several runs that compute and
// store the same entries at once (which the cache allows: each stores it) while another's
// trim holds the lock append each store to the ledger, though the namespace holds each
// entry once. The holder's next round evicts about what the namespace grew by, not what
// the ledger says: its second pass sizes the directories that changed by listing them.
func TestDuplicateStoresLeftToHolderEvictWhatTheNamespaceGrew(t *testing.T) {
	const runs, keys, size = 4, 8, 64 << 10 // 17 blocks each
	f := newQuickFixture(t, 2048)
	holder := f.open(t)
	var once sync.Once
	reached, release := make(chan struct{}), make(chan struct{})
	holder.trimStep = func() {
		once.Do(func() {
			close(reached)
			<-release
		})
	}
	storeSized(t, holder, "holder", 0, 64<<10)
	<-reached
	cs := make([]*Cache, runs)
	for i := range cs {
		cs[i] = f.open(t)
	}
	for k := range keys {
		var barrier, wg sync.WaitGroup
		barrier.Add(runs)
		for _, c := range cs {
			wg.Go(func() {
				load(t, c, testKey{"same", k}, func(ctx context.Context, key testKey) (testValue, error) {
					if ctx.Value(checkingKey{}) == nil {
						barrier.Done()
						barrier.Wait() // every run computes it: none finds another's file
					}
					return valueFor(key, size), nil
				})
			})
		}
		wg.Wait()
	}
	for _, c := range cs {
		c.Close()
	}
	close(release)
	holder.Close()
	f.withinBudget(t, "after every Close")
	grew := (keys + 1) * 17
	if got, limit := f.gone(t), grew+quickMin+8; got > limit {
		t.Fatalf("%d entries evicted for a growth of %d blocks (the ledger said %d); limit %d", got, grew, runs*keys*17+17, limit)
	}
}

// TestDamagedLedgerEvictsAboutWhatWasStored: a ledger that says far more was stored in a
// directory that changed than was (damaged: here zeros, half the budget, as a crash may
// leave a file that was appended to) does not make a store evict more than about what it
// stored: the quick eviction removes at most what its Cache stored and a sixty-fourth of
// the budget, and the listing of the directory that follows sizes it.
func TestDamagedLedgerEvictsAboutWhatWasStored(t *testing.T) {
	f := newQuickFixture(t, 1024)
	shard := filepath.Dir(f.names[len(f.names)-1]) // changed since its record: an entry replaced
	now := time.Now()
	if err := os.Chtimes(shard, now, now); err != nil {
		t.Fatal(err)
	}
	var idx byte
	fmt.Sscanf(filepath.Base(shard), "%02x", &idx)
	damaged := make([]byte, f.budget/ledgerUnit/2)
	for i := range damaged {
		damaged[i] = idx
	}
	if err := os.WriteFile(filepath.Join(f.root, storedFile), damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	c := f.open(t)
	storeSized(t, c, "run", 0, 100)
	c.Close()
	limit := int(4096+f.budget/64)/4096 + quickMin + 2
	if got := f.gone(t); got > limit {
		t.Fatalf("%d of %d entries evicted for a store of one block (a damaged ledger); limit %d", got, f.n, limit)
	}
}

// TestCloseDoesNotWaitForAnothersLock: a run that stored a little into a namespace far
// within its budget closes at once, whatever another process's trim lock says (here one of
// another machine that crashed mid-trim, which stays for ten minutes): what it stored is
// counted by the next trim, of any process.
func TestCloseDoesNotWaitForAnothersLock(t *testing.T) {
	o := smallNamespace(t)
	root := filepath.Join(o.Dir, o.Namespace)
	if err := os.WriteFile(filepath.Join(root, lockFile), []byte("4242 another-host\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(root, roomFile))
	o.CloseTimeout = 3 * time.Second
	c := open(t, o)
	storeSized(t, c, "one", 0, 1000)
	if took := closeTimed(c); took > time.Second {
		t.Fatalf("Close of a run that stored 1 KB took %v", took)
	}
}

// smallNamespace opens a Cache on a fresh namespace of a 64 MiB budget, stores a few small
// entries, trims and closes it: a namespace far within its budget, with room.txt written.
func smallNamespace(t *testing.T) Options {
	t.Helper()
	o := Options{Dir: t.TempDir(), Namespace: "small", MaxBytes: 64 << 20, MemoryBytes: -1, CompressionLevel: -1}
	c := open(t, o)
	for i := range 4 {
		storeSized(t, c, "seed", i, 1000)
	}
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	return o
}

// holderWithWriter opens A and B on a namespace at its budget; A stores past it and its
// background trim takes the lock (each directory it lists takes 200us more); then B, a
// long-lived process, stores 64 KiB entries for storeFor, each of its trims finding A's
// lock held (or taking it between A's rounds). It returns A, B and what reports how many
// B stored once it stopped.
func holderWithWriter(t *testing.T, closeTimeout, storeFor time.Duration) (a, b *Cache, stored <-chan int) {
	f := newQuickFixture(t, 1024)
	o := f.opts
	o.CloseTimeout = closeTimeout
	a, b = open(t, o), f.open(t)
	reached := make(chan struct{})
	var once atomic.Bool
	a.trimStep = func() {
		if once.CompareAndSwap(false, true) {
			close(reached)
		}
		time.Sleep(200 * time.Microsecond)
	}
	storeSized(t, a, "a", 0, 64<<10)
	<-reached
	var stop atomic.Bool
	done := make(chan int, 1)
	go func() {
		i := 0
		for !stop.Load() {
			storeSized(t, b, "b", i, 64<<10)
			i++
		}
		done <- i
	}()
	time.AfterFunc(storeFor, func() { stop.Store(true) })
	t.Cleanup(func() { stop.Store(true) })
	return a, b, done
}

// TestClosingHolderStopsLookingAgain: a Cache whose trim holds the lock while another
// process stores past the budget without pause looks again while it is open, but once its
// Close began for four rounds at most: its Close does not wait for as long as the other
// stores (it waited 4 to 5 s, for as long as it did), and once Close returned it trims no
// more (it went on to 44 trims).
func TestClosingHolderStopsLookingAgain(t *testing.T) {
	t.Run("Close", func(t *testing.T) {
		a, b, stored := holderWithWriter(t, time.Minute, 4*time.Second)
		time.Sleep(20 * time.Millisecond)
		took := closeTimed(a)
		<-stored
		b.Close()
		// Four rounds in each of the three trims a Cache's trim looks again with, each
		// evicting what the other stored during the last.
		if n := a.Stats().Trims; took > 2500*time.Millisecond || n > 12 {
			t.Fatalf("Close took %v while another Cache stored (for 4 s); %d trims", took, n)
		}
	})
	t.Run("after CloseTimeout", func(t *testing.T) {
		a, b, stored := holderWithWriter(t, 300*time.Millisecond, 3*time.Second)
		time.Sleep(20 * time.Millisecond)
		closeTimed(a)
		time.Sleep(time.Second)
		later := a.Stats().Trims
		<-stored
		b.Close()
		if later > 12 {
			t.Fatalf("the closed Cache ran %d trims", later)
		}
	})
}

// TestTrimReturnsWhileAnotherStores: Cache.Trim, while another process stores past the
// budget without pause, returns after its thorough round and three more at most: it does
// not run for as long as the other stores (it ran 4 to 5 s, 16 to 50 rounds).
func TestTrimReturnsWhileAnotherStores(t *testing.T) {
	f := newQuickFixture(t, 1024)
	a, b := f.open(t), f.open(t)
	a.trimStep = func() { time.Sleep(200 * time.Microsecond) }
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; !stop.Load(); i++ {
			storeSized(t, b, "b", i, 64<<10)
		}
	}()
	time.AfterFunc(3*time.Second, func() { stop.Store(true) })
	t.Cleanup(func() { stop.Store(true) })
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := a.Trim(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	<-done
	b.Close()
	a.Close()
	if took > 2*time.Second {
		t.Fatalf("Trim took %v while another Cache stored (for 3 s): %d rounds", took, a.Stats().Trims)
	}
}
