//go:build linux && (amd64 || arm64)

package cache

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// statAt stats name relative to the directory dirfd, without following a link, into st. The
// name goes to the system call from buf (at least 256 bytes, NAME_MAX + 1), NUL-terminated:
// unix.Fstatat would copy it into an allocation of its own, one per entry that a trim lists.
// On these architectures unix.Fstatat is this system call (newfstatat into a Stat_t).
func statAt(dirfd int, name string, buf []byte, st *unix.Stat_t) error {
	if len(name) >= len(buf) {
		return unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
	}
	buf[copy(buf, name)] = 0
	for {
		_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(&buf[0])),
			uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
		switch e {
		case 0:
			return nil
		case unix.EINTR:
		default:
			return e
		}
	}
}
