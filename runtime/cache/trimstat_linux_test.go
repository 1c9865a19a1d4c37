package cache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStatAt: statAt stats a name relative to a directory as unix.Fstatat does without
// following links: a file's size, a link as a link, a missing name as ENOENT, and a name as
// long as a name can be.
func TestStatAt(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 255)
	for name, size := range map[string]int{"file": 5, long: 7} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("file", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	d, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)
	var buf [256]byte
	for i := range buf {
		buf[i] = 'y' // what an earlier, longer name left in the buffer
	}
	var st unix.Stat_t
	check := func(name string, mode uint32, size int64) {
		t.Helper()
		if err := statAt(d, name, buf[:], &st); err != nil {
			t.Fatalf("statAt(%.10q): %v", name, err)
		}
		if st.Mode&unix.S_IFMT != mode || mode == unix.S_IFREG && st.Size != size {
			t.Errorf("statAt(%.10q): mode %o size %d, want %o and %d", name, st.Mode&unix.S_IFMT, st.Size, mode, size)
		}
	}
	check(long, unix.S_IFREG, 7)
	check("file", unix.S_IFREG, 5)
	check("link", unix.S_IFLNK, 0)
	if err := statAt(d, "missing", buf[:], &st); err != unix.ENOENT {
		t.Errorf("statAt of a missing name: %v, want ENOENT", err)
	}
	if err := statAt(d, long+"z", buf[:], &st); err != unix.ENAMETOOLONG {
		t.Errorf("statAt of a name of 256 bytes: %v, want ENAMETOOLONG", err)
	}
}
