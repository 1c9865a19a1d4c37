package cache

import (
	"io/fs"
	"math/rand/v2"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// An entryReader is an entry file open for reading: a descriptor, used by system calls
// alone (the runtime's poller has nothing to do with a regular file).
type entryReader struct{ fd int }

// openEntryFile opens the entry file at path (NUL-terminated, as appendEntryPath makes it)
// for reading without blocking (a FIFO planted at an entry's path would otherwise hang the
// open, and every Load of that key) and without following a symbolic link (the cache writes
// none, and following it would read a file anywhere), and checks on the descriptor (fstat)
// that it is a regular file that this user owns: anything else is errMalformed. The open is
// made from path's bytes, which costs no copy of them.
func openEntryFile(path []byte) (entryReader, entryStat, error) {
	var fd int
	var errno syscall.Errno
	for {
		r, _, e := syscall.Syscall6(syscall.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(&path[0])),
			syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0, 0, 0)
		if fd, errno = int(r), e; errno != syscall.EINTR {
			break
		}
	}
	switch {
	case errno == syscall.ELOOP:
		return entryReader{}, entryStat{}, errMalformed // a symbolic link
	case errno != 0:
		return entryReader{}, entryStat{}, &fs.PathError{Op: "open", Path: string(path[:len(path)-1]), Err: errno}
	}
	f := entryReader{fd}
	var st syscall.Stat_t
	err := syscall.Fstat(fd, &st)
	for err == syscall.EINTR {
		err = syscall.Fstat(fd, &st)
	}
	if err != nil {
		f.close()
		return entryReader{}, entryStat{}, &fs.PathError{Op: "fstat", Path: string(path[:len(path)-1]), Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || int(st.Uid) != syscall.Geteuid() {
		f.close()
		return entryReader{}, entryStat{}, errMalformed
	}
	return f, entryStat{
		size:   st.Size,
		mtime:  time.Unix(st.Mtim.Unix()),
		sparse: st.Blocks*512 < st.Size/2,
	}, nil
}

// atFDCWD is AT_FDCWD, for openat: a relative path is taken from the working directory.
const atFDCWD = ^uintptr(99) // -100

// readFull reads into b until it holds want bytes or the file ends, and returns how many
// bytes it read. A read that fills less than b, having reached want, is taken for the end of
// the file: a regular file's reads stop short only there, so a file of want bytes costs
// one read.
func (f entryReader) readFull(b []byte, want int) (int, error) {
	n := 0
	for n < want {
		m, err := syscall.Read(f.fd, b[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &fs.PathError{Op: "read", Path: "entry file", Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// close closes the file.
func (f entryReader) close() { syscall.Close(f.fd) }

// writeEntryAtomic writes e, an entry file's contents, to name through a temporary file in
// the same directory (mode 0600, created exclusively) that is renamed into place, so that
// readers see either the old file or the complete new one. The temporary file is name +
// ".tmp" + random digits, as writeFileAtomic names them; trimming removes those that a
// crashed writer left behind. A checksum taken in the background is written last, into the
// header written first. System calls alone: an open, the writes, a close and a rename.
func writeEntryAtomic(name string, e *entryParts, sync bool) error {
	var tmp string
	var fd int
	for try := 0; ; try++ {
		tmp = name + ".tmp" + strconv.FormatUint(uint64(rand.Uint32()), 10)
		err := retryEINTR(func() (err error) {
			fd, err = syscall.Open(tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
			return err
		})
		if err == nil {
			break
		}
		if err != syscall.EEXIST || try == 100 {
			return &fs.PathError{Op: "open", Path: tmp, Err: err}
		}
	}
	var err error
	if e.whole != nil {
		err = writeAll(fd, e.whole)
	} else if err = writeAll(fd, e.head); err == nil {
		err = writeAll(fd, e.payload)
	}
	if err == nil && e.finish() {
		err = retryEINTR(func() error {
			_, err := syscall.Pwrite(fd, e.head[crcOffset:crcOffset+4], crcOffset)
			return err
		})
	}
	if err == nil && sync {
		err = retryEINTR(func() error { return syscall.Fsync(fd) })
	}
	if cerr := syscall.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		syscall.Unlink(tmp)
		return &fs.PathError{Op: "write", Path: tmp, Err: err}
	}
	if err := syscall.Rename(tmp, name); err != nil {
		syscall.Unlink(tmp)
		return &fs.PathError{Op: "rename", Path: tmp, Err: err}
	}
	return nil
}

// writeAll writes b to fd.
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return syscall.EIO
		}
		b = b[n:]
	}
	return nil
}

// retryEINTR calls f until it fails with something other than EINTR.
func retryEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
