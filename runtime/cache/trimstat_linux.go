package cache

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// readShard lists the directory dir and stats the names that want accepts, relative to the
// directory and without following links, calling found for each regular file with its size,
// the bytes it takes on disk and its mtime. It returns how many names dir holds, or -1 when
// it cannot be opened. Stat-ing into one Stat_t, from a name in one buffer (statAt), spares
// the FileInfo that Readdir makes per name and the copy of the name that Fstatat makes: a
// trim of a large directory is mostly this loop.
func readShard(dir string, want func(name string) bool, found func(name string, size, alloc int64, mtime time.Time)) (int, error) {
	f, err := os.Open(dir)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	rc, cerr := f.SyscallConn()
	if cerr != nil {
		return len(names), cerr
	}
	var st unix.Stat_t
	var buf [256]byte
	cerr = rc.Control(func(fd uintptr) {
		for _, name := range names {
			if !want(name) || statAt(int(fd), name, buf[:], &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
				continue
			}
			alloc := int64(st.Size)
			if b := int64(st.Blocks) * 512; b > alloc {
				alloc = b
			}
			found(name, int64(st.Size), alloc, time.Unix(st.Mtim.Unix()))
		}
	})
	if err == nil {
		err = cerr
	}
	return len(names), err
}
