//go:build !linux

package cache

import (
	"os"
	"time"
)

// readShard lists the directory dir and stats the names that want accepts, without following
// links, calling found for each regular file with its size, the bytes it takes on disk and
// its mtime. It returns how many names dir holds, or -1 when it cannot be opened.
func readShard(dir string, want func(name string) bool, found func(name string, size, alloc int64, mtime time.Time)) (int, error) {
	f, err := os.Open(dir)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	// Readdir stats each name relative to the directory where it can.
	fis, err := f.Readdir(-1)
	for _, fi := range fis {
		if want(fi.Name()) && fi.Mode().IsRegular() {
			found(fi.Name(), fi.Size(), allocated(fi), fi.ModTime())
		}
	}
	return len(fis), err
}
