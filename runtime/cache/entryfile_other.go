//go:build !linux

package cache

import (
	"errors"
	"io"
	"os"
)

// An entryReader is an entry file open for reading.
type entryReader struct{ f *os.File }

// openEntryFile opens the entry file at path (NUL-terminated, as appendEntryPath makes it)
// for reading (see openRegular) and checks that it is a regular file that this user owns:
// anything else is errMalformed.
func openEntryFile(path []byte) (entryReader, entryStat, error) {
	f, fi, err := openRegular(string(path[:len(path)-1]))
	if err != nil {
		return entryReader{}, entryStat{}, err
	}
	if !ownedByMe(fi) {
		f.Close()
		return entryReader{}, entryStat{}, errMalformed
	}
	return entryReader{f}, entryStat{size: fi.Size(), mtime: fi.ModTime(), sparse: isSparse(fi)}, nil
}

// readFull reads into b until it holds want bytes or the file ends, and returns how many
// bytes it read.
func (r entryReader) readFull(b []byte, want int) (int, error) {
	n := 0
	for n < want {
		m, err := r.f.Read(b[n:])
		n += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// close closes the file.
func (r entryReader) close() { r.f.Close() }

// writeEntryAtomic writes e, an entry file's contents, to name through a temporary file in
// the same directory that is renamed into place (see writeFileAtomic). A checksum taken in the
// background is written last, into the header written first.
func writeEntryAtomic(name string, e *entryParts, sync bool) error {
	return replaceFile(name, sync, func(f *os.File) error {
		var err error
		if e.whole != nil {
			_, err = f.Write(e.whole)
		} else if _, err = f.Write(e.head); err == nil {
			_, err = f.Write(e.payload)
		}
		if err == nil && e.finish() {
			_, err = f.WriteAt(e.head[crcOffset:crcOffset+4], crcOffset)
		}
		return err
	})
}
