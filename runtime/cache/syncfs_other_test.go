//go:build !unix

package cache

// syncFS does nothing where there is no sync(2).
func syncFS() {}
