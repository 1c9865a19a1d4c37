//go:build !linux

package cache

// fullDiskChild stands for the test of a full disk, which needs Linux.
func fullDiskChild(dir string) error { return nil }
