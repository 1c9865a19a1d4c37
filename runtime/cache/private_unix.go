//go:build unix

package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// checkPrivate reports why fi, the Lstat of a directory, cannot hold this user's cache: it
// is not a directory (a symbolic link, for one), another user owns it, or others may write
// in it (then they could plant entries).
func checkPrivate(fi fs.FileInfo) error {
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", fi.Name())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: owner unknown", fi.Name())
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("%s belongs to user %d, not to this user (%d)", fi.Name(), st.Uid, uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s may be written by other users (mode %v)", fi.Name(), fi.Mode().Perm())
	}
	return nil
}

// checkAncestors reports why a directory above d (d's parent, its parent, up to the root)
// would let another user replace d: one owned by a user other than this one or root, or one
// in which others may write (by the bits of mask: 0o022 for group and others, 0o002 for
// others) without the sticky bit (which, as on /tmp, keeps them from renaming what they do
// not own). Checking d alone would not do: whoever can write its parent can swap d for a
// directory of their own while a process runs. The path is checked as written, and, for
// each symbolic link on it, as the link resolves: the directory holding a link can swap the
// link, and the link's target has ancestors of its own.
func checkAncestors(d string, mask fs.FileMode) error {
	return checkChain(filepath.Dir(d), mask, true)
}

// checkChain checks p and every directory above it for checkAncestors; links says whether
// symbolic links are followed (the resolved path has none).
func checkChain(p string, mask fs.FileMode, links bool) error {
	uid := os.Geteuid()
	for {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%s: owner unknown", p)
		}
		switch {
		case int(st.Uid) != uid && st.Uid != 0:
			return fmt.Errorf("%s belongs to user %d, who could replace what it holds", p, st.Uid)
		case fi.Mode()&fs.ModeSymlink != 0:
			if !links {
				return fmt.Errorf("%s is a symbolic link", p)
			}
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return err
			}
			if err := checkChain(target, mask, false); err != nil {
				return fmt.Errorf("%s, through the symbolic link %s: %w", target, p, err)
			}
		case fi.Mode().Perm()&mask != 0 && fi.Mode()&fs.ModeSticky == 0:
			return fmt.Errorf("%s may be written by other users (mode %v, no sticky bit), who could replace what it holds", p, fi.Mode().Perm())
		}
		up := filepath.Dir(p)
		if up == p {
			return nil
		}
		p = up
	}
}

// isSparse reports whether the file system holds less than half of a file's bytes: a file
// with holes, which the cache never writes. (Linux hits check the fstat of the descriptor
// they read instead: see entryfile_linux.go.)
//
//lint:ignore U1000 used on the other Unix systems (entryfile_other.go)
func isSparse(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Blocks*512 < fi.Size()/2
}

// processGone reports whether no process pid exists.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// openFileSlots returns how many files a Cache may have open at once: maxOpenFiles, or an
// eighth of the limit on open files (RLIMIT_NOFILE) when that is lower.
func openFileSlots() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= 8*maxOpenFiles {
		return maxOpenFiles
	}
	return max(1, int(lim.Cur/8))
}

// isNotDir reports whether err says a part of a path is not a directory.
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }

// userTag names the current user in the fallback directory's name.
func userTag() string { return fmt.Sprint(os.Geteuid()) }

// openEntry opens a file of the layout for reading without blocking (a FIFO planted at an
// entry's path would otherwise hang the open, and every Load of that key) and without
// following a symbolic link. The caller checks that
// what it opened is a regular file.
func openEntry(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) {
		// A symbolic link: the cache writes none, and following it would read (or, in
		// the admin command, show) a file anywhere.
		return nil, errMalformed
	}
	return f, err
}

// isNoSpace reports whether err says the file system is full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// allocated returns the bytes the file system allocated for a file: what it costs against
// the disk budget (a 100-byte file takes a 4 KiB block on most file systems).
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > fi.Size() {
		return st.Blocks * 512
	}
	return fi.Size()
}

// openAppend opens the namespace's ledger for appending, without following a symbolic link
// or blocking on a FIFO.
func openAppend(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0o600)
}

// openWrite opens the file name of the layout for writing in place, creating it; not
// through a link, and without blocking on a FIFO.
func openWrite(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0o600)
}

// ownedByMe reports whether this user owns the file fi describes.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// lockDir takes an exclusive lock of the directory dir, shared by the processes that take
// it, and returns what releases it; without the lock (the directory cannot be opened, a
// file system without locks) it returns at once, and the caller goes on unlocked.
func lockDir(dir string) (unlock func()) {
	d, err := os.Open(dir)
	if err != nil {
		return func() {}
	}
	if syscall.Flock(int(d.Fd()), syscall.LOCK_EX) != nil {
		d.Close()
		return func() {}
	}
	return func() { d.Close() } // closing releases the lock
}

// lockOpen takes a lock of the open file f, exclusive or shared, waiting for it for wait at
// most, and reports whether it holds it, and whether another held it all that time (not on
// a file system without locks, where it holds none either); closing f releases it.
func lockOpen(f *os.File, exclusive bool, wait time.Duration) (held, timedOut bool) {
	how := syscall.LOCK_SH | syscall.LOCK_NB
	if exclusive {
		how = syscall.LOCK_EX | syscall.LOCK_NB
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return false, false
	}
	deadline := time.Now().Add(wait)
	for pause := 50 * time.Microsecond; ; pause = min(2*pause, 5*time.Millisecond) {
		var lerr error
		if err := rc.Control(func(fd uintptr) { lerr = syscall.Flock(int(fd), how) }); err != nil {
			return false, false
		}
		switch {
		case lerr == nil:
			return true, false
		case lerr != syscall.EWOULDBLOCK && lerr != syscall.EINTR:
			return false, false
		case time.Now().After(deadline):
			return false, true
		}
		time.Sleep(pause)
	}
}
