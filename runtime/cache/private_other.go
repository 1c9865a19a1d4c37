//go:build !unix

package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// checkPrivate reports why fi, the Lstat of a directory, cannot hold this user's cache. On
// systems without Unix ownership (Windows gives every user a temporary directory of their
// own) it checks only that it is a directory.
func checkPrivate(fi fs.FileInfo) error {
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", fi.Name())
	}
	return nil
}

// checkAncestors reports why a directory above d would let another user replace d; without
// Unix ownership there is nothing to check.
func checkAncestors(d string, mask fs.FileMode) error { return nil }

// isSparse reports whether a file has holes; without the block count, it cannot tell.
func isSparse(fi fs.FileInfo) bool { return false }

// processGone reports whether no process pid exists; here it cannot tell.
func processGone(pid int) bool { return false }

// openFileSlots returns how many files a Cache may have open at once.
func openFileSlots() int { return maxOpenFiles }

// isNotDir reports whether err says a part of a path is not a directory.
func isNotDir(err error) bool { return false }

// userTag names the current user in the fallback directory's name.
func userTag() string {
	if u := os.Getenv("USERNAME"); u != "" {
		return u
	}
	return "user"
}

// openEntry opens an entry file for reading. The caller checks that it is a regular file.
func openEntry(name string) (*os.File, error) {
	if fi, err := os.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return nil, errMalformed
	}
	return os.Open(name)
}

// isNoSpace reports whether err says the file system is full.
func isNoSpace(err error) bool { return errors.Is(err, syscall.Errno(112)) } // ERROR_DISK_FULL

// allocated returns the bytes a file costs against the disk budget: its size, rounded up to
// the 4 KiB cluster of most file systems.
func allocated(fi fs.FileInfo) int64 { return (fi.Size() + 4095) &^ 4095 }

// openAppend opens the namespace's ledger for appending.
func openAppend(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// openWrite opens the file name of the layout for writing in place, creating it; not
// through a link, and without blocking on a FIFO.
func openWrite(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o600)
}

// ownedByMe reports whether this user owns the file fi describes; without Unix ownership it
// cannot tell, and says yes.
func ownedByMe(fi fs.FileInfo) bool { return true }

// lockDir would take an exclusive lock of the directory dir; without Unix's flock it takes
// none, and the caller goes on unlocked.
func lockDir(dir string) (unlock func()) { return func() {} }

// lockOpen would take a lock of the open file f; without Unix's flock it takes none, and
// reports that it holds none.
func lockOpen(f *os.File, exclusive bool, wait time.Duration) (held, timedOut bool) {
	return false, false
}
