//go:build unix

package cache

import "syscall"

// syncFS writes the file systems' dirty data out, so that what a benchmark filled is not
// still being written back while the next one measures.
func syncFS() { syscall.Sync() }
