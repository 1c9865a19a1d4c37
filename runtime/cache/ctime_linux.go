package cache

import (
	"io/fs"
	"syscall"
)

// changeTime returns when fi's file last changed, contents or metadata (its ctime), which
// no one can set back: a file rewritten in place, or a new file under a reused number,
// has another.
func changeTime(fi fs.FileInfo) (int64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int64(st.Ctim.Sec)*1e9 + int64(st.Ctim.Nsec), true
}
