//go:build unix

package cache

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// takeAll takes the ledger of the namespace root as a trim does and returns how many bytes
// it said were stored, in every shard directory.
func takeAll(t *testing.T, root string) int64 {
	t.Helper()
	tr := &trimRun{root: root, maxBytes: 1 << 30}
	by, lost, ok := tr.takeStored()
	if !ok || lost != 0 {
		t.Fatalf("takeStored: ok %v, lost %d", ok, lost)
	}
	var n int64
	for _, k := range by {
		n += k
	}
	return n
}

// TestAppendOpenedBeforeTakeGoesToNextLedger: a store that opened the ledger before a trim
// took it (renamed and read it), and appends after, appends to the next ledger, not to the
// one the trim took and removes: otherwise the store is in no ledger and in no listing, and
// the namespace passes its budget uncounted (three short runs at once, on a loaded machine,
// ended 40 to 57 KiB over it).
func TestAppendOpenedBeforeTakeGoesToNextLedger(t *testing.T) {
	root := t.TempDir()
	name := filepath.Join(root, storedFile)
	if appendStored(root, 7, 3) != 3 {
		t.Fatal("appending the first store")
	}
	early := openOwn(name, openAppend)
	if early == nil {
		t.Fatal("opening the ledger")
	}
	defer early.Close()
	if got := takeAll(t, root); got != 3 {
		t.Fatalf("the trim took %d bytes, want 3", got)
	}
	write := func(f *os.File) error { _, err := f.Write([]byte{9, 9, 9, 9, 9}); return err }
	if _, taken := appendTo(early, name, write); !taken {
		t.Fatal("an append to a taken ledger was not refused")
	}
	if got := appendWith(name, write); got != 5 {
		t.Fatalf("the next ledger holds %d bytes after the append, want 5", got)
	}
	if got := takeAll(t, root); got != 5 {
		t.Fatalf("the next trim took %d bytes, want 5", got)
	}
}

// TestTakeWaitsForAppendInProgress: a trim that takes the ledger while a store appends to
// it (the store checked that the ledger is still the namespace's, and writes) reads it once
// the store wrote: what it took holds the store.
func TestTakeWaitsForAppendInProgress(t *testing.T) {
	root := t.TempDir()
	name := filepath.Join(root, storedFile)
	checked, release := make(chan struct{}), make(chan struct{})
	appended := make(chan int64)
	go func() {
		appended <- appendWith(name, func(f *os.File) error {
			close(checked)
			<-release
			_, err := f.Write([]byte{4, 4, 4, 4})
			return err
		})
	}()
	<-checked
	took := make(chan int64)
	go func() {
		tr := &trimRun{root: root, maxBytes: 1 << 30}
		by, _, _ := tr.takeStored()
		took <- by[4]
	}()
	select {
	case n := <-took:
		close(release)
		<-appended
		t.Fatalf("the trim read the ledger (%d bytes) while a store appended to it", n)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if got := <-appended; got != 4 {
		t.Fatalf("the store appended to a ledger of %d bytes, want 4", got)
	}
	if got := <-took; got != 4 {
		t.Fatalf("the trim took %d bytes, want 4", got)
	}
	if _, err := os.Lstat(name); !os.IsNotExist(err) {
		t.Fatalf("a ledger after the take: %v", err)
	}
}

// lockLedger opens the ledger of the namespace root and takes a lock of it, as a process
// stopped while it holds one would (an appender, or a trim reading what it took, suspended
// with ^Z), or another program: closing the file returned releases it.
func lockLedger(t *testing.T, root string, how int) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(root, storedFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestLedgerLockHeldElsewhere: a lock of the ledger held for long (see lockLedger) delays a
// trim that takes the ledger, or a store that appends to it, by ledgerLockWait at most: it
// never blocks them (a trim blocked would hold trim.lock, and every trim of every process
// would find it held). The trim that could not wait for the appends goes on to its end,
// sizing the namespace by listing it; the store appends without the lock.
func TestLedgerLockHeldElsewhere(t *testing.T) {
	for _, tc := range []struct {
		name string
		how  int
		do   func(c *Cache) error
	}{
		{"an appender holds it: Trim", syscall.LOCK_SH, func(c *Cache) error { return c.Trim() }},
		{"a reader holds it: a store", syscall.LOCK_EX, func(c *Cache) error {
			_, err := Load(context.Background(), c, testKey{"blocked", 0}, func(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 1000), nil })
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := smallNamespace(t)
			c := open(t, o)
			storeSized(t, c, "x", 0, 1000) // a ledger to take
			lockLedger(t, c.root, tc.how)
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- tc.do(c) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				if took := time.Since(start); took > ledgerLockWait+time.Second {
					t.Fatalf("it took %v with the ledger locked elsewhere; ledgerLockWait %v", took, ledgerLockWait)
				}
			case <-time.After(ledgerLockWait + 5*time.Second):
				t.Fatal("blocked by a lock of the ledger held elsewhere")
			}
			c.Close()
		})
	}
}
