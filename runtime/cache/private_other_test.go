//go:build !unix

package cache

// fdLimitChild stands for the test of a low limit on open files, which needs Unix.
func fdLimitChild(dir string) error { return nil }
