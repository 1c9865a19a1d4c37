//go:build !unix

package cache

import "os"

// readFloor reads the file at path; without Unix system calls, os.ReadFile stands for them.
func readFloor(path string) ([]byte, error) { return os.ReadFile(path) }
