// Package unix is a stub of golang.org/x/sys/unix.
package unix

// Getenv is a stub.
func Getenv(key string) (string, bool) { return "", false }

// Utsname is a stub.
type Utsname struct{ Nodename [65]byte }

// Uname is a stub.
func Uname(u *Utsname) error { return nil }

// ByteSliceToString is a stub.
func ByteSliceToString(b []byte) string { return string(b) }
