//go:build !unix

package cache

import (
	"fmt"
	"io/fs"
	"os"
)

// checkPrivate reports why fi, the Lstat of a directory, cannot hold this user's cache. On
// systems without Unix ownership (Windows gives every user a temporary directory of their
// own) it checks only that it is a directory.
func checkPrivate(fi fs.FileInfo) error {
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", fi.Name())
	}
	return nil
}

// userTag names the current user in the fallback directory's name.
func userTag() string {
	if u := os.Getenv("USERNAME"); u != "" {
		return u
	}
	return "user"
}
