package cache

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestUnreadShardIsNotGone: a shard directory the trim cannot open (here the program is at
// its limit of open files for a moment) keeps its recorded size, and the trim does not stop
// without it: taking it for gone, Close stopped a trim of a namespace over its budget.
func TestUnreadShardIsNotGone(t *testing.T) {
	const budget = 4 << 20
	f := newStopFixture(t, budget, 1, 100) // 2 MiB, recorded
	// The first shard directory in the trim's order holds 2.5 MiB more, recorded too.
	d, err := os.Open(f.vdir)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := d.Readdirnames(-1) // in the order the trim finds them
	d.Close()
	var first string
	for _, n := range names {
		if isShardDir(n) {
			first = n
			break
		}
	}
	if err := os.WriteFile(filepath.Join(f.vdir, first, first+strings.Repeat("f", entryNameLen-2)), make([]byte, 5<<19), 0o600); err != nil {
		t.Fatal(err)
	}
	big := open(t, Options{Dir: f.dir, Version: "v1", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	ageDirs(t, big)
	if err := big.Trim(); err != nil {
		t.Fatal(err)
	}
	big.Close()
	f.setTrimTime(t, "1000\n")
	f.grow(t, 100, true) // every directory changed, and the ledger knows: 5.5 MiB in all

	c := f.open(t)
	var held []int
	step := 0
	var old syscall.Rlimit
	release := func() {
		for _, fd := range held {
			syscall.Close(fd)
		}
		held = nil
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	}
	c.trimStep = func() {
		if step++; step == 2 {
			release() // a moment only
		}
		if step != 1 {
			return
		}
		// At the limit of open files while the trim opens its first directory.
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Error(err)
			return
		}
		old = lim
		lim.Cur = 256
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Error(err)
			return
		}
		for {
			fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				break
			}
			held = append(held, fd)
		}
	}
	c.stopping.Store(true) // as Close does
	triggerTrim(t, c, 0)
	c.Close()
	if step == 1 {
		release()
	}
	if got := usageOfFiles(t, f.root, true); got > budget+budget/4 {
		t.Fatalf("after Close the namespace takes %d bytes (%.2fx its budget); stats %+v", got, float64(got)/budget, c.Stats())
	}
}
