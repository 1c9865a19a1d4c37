package cache

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// readEntry returns the msgp encoding stored in the entry file of ek, or an error:
// errMalformed for a file that is not a valid entry of ek and vt (counted as Corrupt by the
// caller), an error satisfying errNotExist for a missing one, another error for a failed read.
// A hit whose file was last modified more than mtimeInterval ago refreshes its mtime, which
// trimming uses as the access time.
func (c *Cache) readEntry(ek *entryKey, vt *valueType) ([]byte, error) {
	name := c.entryPath(ek)
	c.diskMu.RLock()
	defer c.diskMu.RUnlock()
	if c.diskClosed {
		return nil, os.ErrNotExist // closed: a miss
	}
	defer c.ioSlot()()
	f, fi, err := openRegular(name)
	if err == errMalformed {
		return nil, err // a FIFO, a device, a directory: not an entry
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !ownedByMe(fi) {
		// The cache writes its entries as this user: one of another user's is planted
		// (the directory was removed and made again by someone else while this Cache
		// was open, say), whatever it holds.
		return nil, errMalformed
	}
	size := fi.Size()
	if size < headerSize || size > headerSize+maxTypeLen+c.opts.MaxEntryBytes+c.opts.MaxEntryBytes/8+1024 {
		return nil, errMalformed
	}
	// The header first: a file that is not an entry of this key, or lies about its sizes,
	// costs no buffer of its size. Nor does a sparse one, which the cache never writes.
	head := make([]byte, min(int64(headerSize+len(vt.name)), size))
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, errMalformed
	}
	rawSize, err := checkHead(head, ek, vt.name, size, c.opts.MaxEntryBytes)
	if err != nil {
		return nil, err
	}
	if size > 64<<10 && isSparse(fi) {
		return nil, errMalformed
	}
	b := make([]byte, size+1)
	copy(b, head)
	n, err := io.ReadFull(f, b[len(head):])
	switch {
	case err == io.ErrUnexpectedEOF: // expected: the file has size bytes
	case err == nil: // the file grew: not one of ours, entry files never change
		return nil, errMalformed
	default:
		return nil, fmt.Errorf("cache: reading entry: %w", err)
	}
	b = b[:len(head)+n]
	dec, err := c.decoder()
	if rawSize > largeEntry && err == nil && b[codecOffset] == codecZstd {
		// A codec of its own, dropped after use (see largeDecoder).
		if dec, err = c.largeDecoder(); err == nil {
			defer dec.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cache: creating zstd decoder: %w", err)
	}
	raw, err := decodeEntry(dec, b, ek, vt.name, c.opts.MaxEntryBytes)
	if err != nil {
		return nil, err
	}
	if now := c.now(); now.Sub(fi.ModTime()) > mtimeInterval || fi.ModTime().After(now.Add(mtimeInterval)) {
		os.Chtimes(name, now, now) // best effort: a read-only cache still serves hits
	}
	return raw, nil
}

// openRegular opens a file of the layout for reading without blocking (a FIFO planted there
// would hang a plain open) and returns it with its information; anything but a regular file
// is errMalformed.
func openRegular(name string) (*os.File, os.FileInfo, error) {
	f, err := openEntry(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cache: reading %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, errMalformed
	}
	return f, fi, nil
}

// recheck checks the cache directory and the namespace, making the missing directories down
// to it one at a time: at Open, and again before a store makes the layout again under the
// namespace (a directory that went, to a cleaner of /tmp or cachegen cache clear, may have
// been made again by another user meanwhile).
func (c *Cache) recheck() error {
	dir := filepath.Dir(c.root)
	err := checkOwnDirs(dir, c.root, c.versionDir, false)
	if err == nil {
		err = makePrivateDirs(c.root)
	}
	if err == nil {
		err = checkOwnDirs(dir, c.root, c.versionDir, false)
	}
	return err
}

// retag writes the namespace's cache tag and version.txt again when they are gone: Clear
// (cachegen cache clear) ran while this Cache was open, and stores are filling the
// namespace again, which the admin command must still recognise.
func (c *Cache) retag() {
	if _, err := os.Lstat(filepath.Join(c.root, tagFile)); errNotExist(err) {
		c.initDir()
		tagDir(c.root)
	}
}

// ioSlot waits for one of the process's slots for open files (see openFileSlots) and
// returns the function that frees it. Every file a Cache opens takes one, so that many
// concurrent Loads cannot use up the process's descriptors.
func (c *Cache) ioSlot() (release func()) {
	fileSlots.acquire()
	return fileSlots.release
}

// fileSlots bounds the files that the Caches of this process have open at once. It is the
// package's one piece of state shared by Caches, because the limit it keeps under is the
// process's: a bound per Cache would let a program with many Caches run out.
var fileSlots = newSlots(maxOpenFiles)

// slots is a counting semaphore whose size can change (each Open sets it from the current
// limit on open files).
type slots struct {
	mu          sync.Mutex
	cond        sync.Cond
	used, limit int
}

func newSlots(n int) *slots {
	s := &slots{limit: n}
	s.cond.L = &s.mu
	return s
}

func (s *slots) setLimit(n int) {
	s.mu.Lock()
	s.limit = n
	s.mu.Unlock()
	s.cond.Broadcast()
}

func (s *slots) acquire() {
	s.mu.Lock()
	for s.used >= s.limit {
		s.cond.Wait()
	}
	s.used++
	s.mu.Unlock()
}

func (s *slots) release() {
	s.mu.Lock()
	s.used--
	s.mu.Unlock()
	s.cond.Signal()
}

// ensureDir creates the directory path of the layout under the namespace directory root
// (mode 0700) with its parents. Something that is not a directory where the layout has one
// (a file, a link, a FIFO: the cache makes none of them there) would fail every store under
// it, and is removed first; nothing at or above root is touched.
func ensureDir(root, path string) error {
	for range 3 {
		err := os.MkdirAll(path, 0o700)
		if err == nil && realDirs(root, path) {
			return nil
		}
		removed := false
		for p := path; !removed && strings.HasPrefix(p, root+string(filepath.Separator)); p = filepath.Dir(p) {
			if fi, lerr := os.Lstat(p); lerr == nil && !fi.IsDir() {
				if rerr := os.Remove(p); rerr != nil {
					return rerr
				}
				removed = true
			}
		}
		if !removed {
			if err == nil {
				err = fmt.Errorf("%s is not a directory", path)
			}
			return err
		}
	}
	return fmt.Errorf("%s keeps being replaced", path)
}

// realDirs reports whether every directory from below root down to path is a directory
// and not a symbolic link to one (which MkdirAll accepts).
func realDirs(root, path string) bool {
	for p := path; strings.HasPrefix(p, root+string(filepath.Separator)); p = filepath.Dir(p) {
		if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// errClosed and errTooLarge are why writeEntry stored nothing, without a failure: the Cache
// was closed meanwhile, or the entry could not fit in the budget.
var (
	errClosed   = errors.New("cache: closed")
	errTooLarge = errors.New("cache: entry larger than the budget")
)

// decodeRemote checks entry, the bytes of an entry file of ek fetched from the remote tier
// (its tag checked), as readEntry checks a file, and returns the msgp encoding it holds:
// errMalformed for an entry that is not a valid entry of ek and vt, errClosed after Close.
func (c *Cache) decodeRemote(entry []byte, ek *entryKey, vt *valueType) ([]byte, error) {
	c.diskMu.RLock()
	defer c.diskMu.RUnlock()
	if c.diskClosed {
		return nil, errClosed // the decoder is released
	}
	rawSize, err := checkHead(entry, ek, vt.name, int64(len(entry)), c.opts.MaxEntryBytes)
	if err != nil {
		return nil, err
	}
	dec, err := c.decoder()
	if rawSize > largeEntry && err == nil && entry[codecOffset] == codecZstd {
		if dec, err = c.largeDecoder(); err == nil {
			defer dec.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cache: creating zstd decoder: %w", err)
	}
	return decodeEntry(dec, entry, ek, vt.name, c.opts.MaxEntryBytes)
}

// writeEntry stores raw, the msgp encoding of a value of type vt, as the entry file of ek.
func (c *Cache) writeEntry(ek *entryKey, vt *valueType, raw []byte) error {
	_, err := c.writeEntryData(ek, vt, raw, true)
	return err
}

// writeEntryData encodes raw, the msgp encoding of a value of type vt, as the entry file of
// ek, stores it when store is set, and returns the file's bytes (also when they are
// errTooLarge for the disk budget, or store failed), or nil with errClosed.
func (c *Cache) writeEntryData(ek *entryKey, vt *valueType, raw []byte, store bool) ([]byte, error) {
	c.diskMu.RLock()
	defer c.diskMu.RUnlock()
	if c.diskClosed {
		return nil, errClosed // closed while the value was computed: not stored
	}
	data, err := c.encodeLocked(ek, vt, raw)
	if err != nil || !store {
		return data, err
	}
	return data, c.storeLocked(ek, data)
}

// storeEntry stores data, the bytes of an entry file of ek checked by decodeEntry (an entry
// of the remote tier), as the entry file of ek.
func (c *Cache) storeEntry(ek *entryKey, data []byte) error {
	c.diskMu.RLock()
	defer c.diskMu.RUnlock()
	if c.diskClosed {
		return errClosed
	}
	return c.storeLocked(ek, data)
}

// encodeLocked returns the entry file of raw, compressed with the Cache's encoder; the caller
// holds diskMu for reading, and the Cache is not closed.
func (c *Cache) encodeLocked(ek *entryKey, vt *valueType, raw []byte) ([]byte, error) {
	enc, err := c.encoder()
	if len(raw) > largeEntry && err == nil && enc != nil {
		// A codec of its own, dropped after use (see largeEncoder).
		if enc, err = c.largeEncoder(); err == nil {
			defer enc.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cache: creating zstd encoder: %w", err)
	}
	return encodeEntry(enc, ek, vt.name, raw), nil
}

// storeLocked writes data as the entry file of ek; the caller holds diskMu for reading, and
// the Cache is not closed.
func (c *Cache) storeLocked(ek *entryKey, data []byte) error {
	if int64(len(data)) > c.opts.MaxBytes/10*9 {
		// It could not stay: the next trim would remove it, and every miss would write
		// it again. Such a value is kept in memory only.
		return errTooLarge
	}
	name := c.entryPath(ek)
	var err error
	defer c.ioSlot()()
	err = c.writeFile(name, data, c.opts.Sync)
	// The shard directory is missing: create it and retry. A trim may remove it again,
	// empty, before the file is in it: a few tries.
	for try := 0; try < 3 && (errNotExist(err) || isNotDir(err)); try++ {
		if err = c.recheck(); err != nil {
			c.diskOff.Store(true)
			return err
		}
		if err = ensureDir(c.root, filepath.Dir(name)); err == nil {
			c.retag()
			err = c.writeFile(name, data, c.opts.Sync)
		}
	}
	if err != nil {
		// Something that is not a file stands at the entry's path (a directory cannot be
		// renamed over): it is not one of ours, and would fail every store. Remove it, but
		// never what a directory holds: the cache writes nothing there.
		if fi, lerr := os.Lstat(name); lerr == nil && !fi.Mode().IsRegular() {
			if os.Remove(name) == nil {
				err = c.writeFile(name, data, c.opts.Sync)
			}
		}
	}
	if err != nil {
		if isNoSpace(err) {
			c.trimSoon() // a full disk: make room for the next stores
		}
		return fmt.Errorf("cache: storing entry: %w", err)
	}
	c.stats.stores.Add(1)
	c.stats.storedBytes.Add(uint64(len(data)))
	c.written.Add(int64(len(data)))
	return nil
}

// writeFileAtomic writes data to name through a temporary file in the same directory that is
// renamed into place, so that readers see either the old file or the complete new one. The
// temporary file is name + ".tmp" + random digits; trimming removes those that a crashed
// writer left behind.
func writeFileAtomic(name string, data []byte, sync bool) error {
	f, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
