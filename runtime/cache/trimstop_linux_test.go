package cache

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUnreadShardIsNotGone: a shard directory the trim cannot open (here the program is at
// its limit of open files for a moment) keeps its recorded size, and the trim does not stop
// without it: taking it for gone, Close stopped a trim of a namespace over its budget.
func TestUnreadShardIsNotGone(t *testing.T) {
	const budget = 4 << 20
	f := newStopFixture(t, budget, 1, 100) // 2 MiB, recorded
	// The first shard directory in the trim's order holds 2.5 MiB more, recorded too.
	growFirstShard(t, f.vdir, 5<<19)
	big := open(t, Options{Dir: f.dir, Version: "v1", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	ageDirs(t, big)
	if err := big.Trim(); err != nil {
		t.Fatal(err)
	}
	big.Close()
	f.setTrimTime(t, "1000\n")
	f.grow(t, 100, true) // every directory changed, and the ledger knows: 5.5 MiB in all

	c := f.open(t)
	release := func() {}
	step := 0
	c.trimStep = func() {
		switch step++; step {
		case 1: // at the limit of open files while the trim opens its first directory
			release = atFileLimit(t)
		case 2: // a moment only
			release()
		}
	}
	c.stopping.Store(true) // as Close does
	triggerTrim(t, c, 0)
	c.Close()
	release()
	if got := usageOfFiles(t, f.root, true); got > budget+budget/4 {
		t.Fatalf("after Close the namespace takes %d bytes (%.2fx its budget); stats %+v", got, float64(got)/budget, c.Stats())
	}
}

// atFileLimit takes every file this process may still open, under a limit lowered to 256,
// and returns what gives them back and restores the limit.
func atFileLimit(t *testing.T) (release func()) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Error(err)
		return func() {}
	}
	lim := old
	lim.Cur = 256
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Error(err)
		return func() {}
	}
	var held []int
	for {
		fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		held = append(held, fd)
	}
	return func() {
		for _, fd := range held {
			syscall.Close(fd)
		}
		held = nil
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	}
}

// growFirstShard writes an entry of size bytes in the shard directory of vdir that a trim
// lists first.
func growFirstShard(t *testing.T, vdir string, size int) {
	t.Helper()
	first := firstShard(t, vdir)
	if err := os.WriteFile(filepath.Join(vdir, first, first+strings.Repeat("f", entryNameLen-2)), make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
}

// firstShard returns the name of the shard directory of vdir that a trim lists first.
func firstShard(t *testing.T, vdir string) string {
	d, err := os.Open(vdir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1) // in the order the trim finds them
	for _, n := range names {
		if isShardDir(n) {
			return n
		}
	}
	t.Fatal("no shard directory")
	return ""
}

// TestUnreadChangedShardLeavesTheNamespaceDue: a trim that cannot read a shard directory
// that changed since its record (here stores of 5 MiB, in the ledger) does not know what it
// holds: it ends as a failed trim, the ledger given back and trim.txt left, so that the
// namespace stays due and the next trim, which can read it, brings it within its budget.
func TestUnreadChangedShardLeavesTheNamespaceDue(t *testing.T) {
	const budget = 4 << 20
	f := newStopFixture(t, budget, 1, 100) // 2 MiB, recorded
	growFirstShard(t, f.vdir, 5<<20)
	appendLedger(f.root, (5<<20)/ledgerUnit)
	c := f.open(t)
	release := func() {}
	step := 0
	c.trimStep = func() {
		switch step++; step {
		case 1:
			release = atFileLimit(t)
		case 2:
			release()
		}
	}
	err := c.Trim()
	release()
	if err == nil {
		t.Error("Trim could not read a directory, and returned no error")
	}
	if got := f.trimTime(t); got != "1000\n" {
		t.Errorf("trim.txt is %q: the namespace is no longer due", got)
	}
	if n := ledgerSize(f.root) * ledgerUnit; n < budget/4 {
		t.Errorf("the ledger holds %d bytes: the stores it counted were dropped", n)
	}
	c.trimStep = nil
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	if got := usageOfFiles(t, f.root, true); got > budget {
		t.Fatalf("after the next trim the namespace takes %d bytes (%.2fx its budget)", got, float64(got)/budget)
	}
}

// TestUnreadVersionKeepsItsRecords: the shard directories of a version directory that the
// trim cannot open (EMFILE, or here ELOOP) keep their records in trimstate.txt.
func TestUnreadVersionKeepsItsRecords(t *testing.T) {
	root := t.TempDir()
	const vid = "0123456789abcdef"
	if err := os.WriteFile(filepath.Join(root, stateFile), []byte(stateHeader+"\n"+vid+"/ab 1 1 1 0 3000000 1 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(root, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	tr := &trimRun{root: root, maxBytes: 1 << 20, now: time.Now()}
	tr.state, tr.saved = readState(root)
	tr.listVersion(loop, vid, nil)
	if !tr.noStop || !tr.unread {
		t.Errorf("noStop %v, unread %v after a version directory that could not be read", tr.noStop, tr.unread)
	}
	tr.saveState()
	if st, _ := readState(root); st.shards[vid+"/ab"].alloc != 3000000 {
		t.Fatalf("the record of %s/ab was lost: %+v", vid, st.shards)
	}
}
