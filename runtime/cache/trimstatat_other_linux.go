//go:build linux && !amd64 && !arm64

package cache

import "golang.org/x/sys/unix"

// statAt stats name relative to the directory dirfd, without following a link, into st.
func statAt(dirfd int, name string, _ []byte, st *unix.Stat_t) error {
	return unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
}
