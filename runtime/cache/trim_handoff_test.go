package cache

import (
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
// looks again after each round, but for a few rounds only, and its last ends past the
// budget by what was stored during it. The Cache that stored it, whose trims found the
// lock held, trims at its Close: the namespace is within its budget once both closed (it
// stayed 28 to 45 KiB over it).
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
			storeSized(t, b, "b", int(bStores.Add(1)), 64<<10)
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

// TestCloseWaitsForLockToTrimItsStores: a Cache whose stores passed the room while another
// process held the trim lock waits at Close for the lock (for CloseTimeout at most) and
// trims: the holder, which may end its rounds before it sees them, is not relied on.
func TestCloseWaitsForLockToTrimItsStores(t *testing.T) {
	for _, tc := range []struct {
		name    string
		release time.Duration // when the holder unlocks; 0: never
	}{
		{"released", 150 * time.Millisecond},
		{"held past CloseTimeout", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newQuickFixture(t, 1024)
			lock := filepath.Join(f.root, lockFile)
			host, _ := os.Hostname()
			// A live process of this machine holds it: this one.
			if err := os.WriteFile(lock, fmt.Appendf(nil, "%d %s\n", os.Getpid(), host), 0o600); err != nil {
				t.Fatal(err)
			}
			o := f.opts
			o.CloseTimeout = 400 * time.Millisecond
			c := open(t, o)
			for i := range 3 {
				storeSized(t, c, "held", i, 64<<10)
			}
			if tc.release > 0 {
				time.AfterFunc(tc.release, func() { os.Remove(lock) })
			}
			took := closeTimed(c)
			if tc.release == 0 {
				if took < o.CloseTimeout || took > o.CloseTimeout+time.Second {
					t.Fatalf("Close took %v with the lock held throughout; CloseTimeout %v", took, o.CloseTimeout)
				}
				if !pastRoom(f.root, f.budget) {
					t.Fatal("the namespace is within its room though nothing could trim it")
				}
				return
			}
			if took < tc.release {
				t.Fatalf("Close returned after %v, before the lock was released (%v)", took, tc.release)
			}
			f.withinBudget(t, "after Close")
			if got, limit := f.gone(t), 3*17+quickMin+4; got > limit {
				t.Fatalf("%d entries evicted for 51 blocks stored; limit %d", got, limit)
			}
		})
	}
}
