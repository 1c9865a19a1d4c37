package cache

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// smallEntry is the file size up to which a hit reads an entry file whole, with one read, and
// copies its payload out; a larger one has its header read and checked first, then its
// payload read into a buffer of its own.
const smallEntry = 64 << 10

// readEntry returns the msgp encoding stored in the entry file of ek, or an error:
// errMalformed for a file that is not a valid entry of ek and vt (counted as Corrupt by the
// caller), an error satisfying errNotExist for a missing one, another error for a failed read.
// A hit whose file was last modified more than mtimeInterval ago refreshes its mtime, which
// trimming uses as the access time.
func (c *Cache) readEntry(ek *entryKey, vt *valueType) ([]byte, error) {
	var pathBuf [256]byte
	path := c.appendEntryPath(pathBuf[:0], ek)
	c.diskMu.RLock()
	defer c.diskMu.RUnlock()
	if c.diskClosed {
		return nil, os.ErrNotExist // closed: a miss
	}
	defer c.ioSlot()()
	// openEntryFile checks, on the descriptor, that it is a regular file of this user's:
	// the cache writes its entries as this user, so one of another user's is planted (the
	// directory was removed and made again by someone else while this Cache was open, say),
	// whatever it holds.
	f, st, err := openEntryFile(path)
	if err != nil {
		return nil, err
	}
	defer f.close()
	size, hl := st.size, int64(headerSize+len(vt.name))
	if size < hl || size > headerSize+maxTypeLen+c.opts.MaxEntryBytes+c.opts.MaxEntryBytes/8+1024 {
		return nil, errMalformed
	}
	var raw []byte
	if size <= smallEntry {
		// Into a buffer of the pool, one byte more than the file: a file that grew (in
		// the same read) is not one of ours. decode copies the payload out.
		bp := smallBuffers.Get().(*[smallEntry + 1]byte)
		defer smallBuffers.Put(bp)
		b := bp[:size+1]
		n, err := f.readFull(b, int(size))
		if err != nil {
			return nil, fmt.Errorf("cache: reading entry: %w", err)
		}
		if int64(n) != size {
			return nil, errMalformed
		}
		rawSize, err := checkHead(b[:n], ek, vt.name, size, c.opts.MaxEntryBytes)
		if err != nil {
			return nil, err
		}
		if raw, err = checkDecode(&c.codec, b[:hl], b[hl:n], rawSize, false); err != nil {
			return nil, err
		}
	} else {
		// The header first: a file that is not an entry of this key, or lies about its
		// sizes, costs no buffer of its size. Nor does a sparse one, which the cache
		// never writes.
		var buf [headerSize + 256]byte
		head := buf[:]
		if hl > int64(len(buf)) {
			head = make([]byte, hl)
		}
		head = head[:hl]
		if n, err := f.readFull(head, len(head)); err != nil {
			return nil, fmt.Errorf("cache: reading entry: %w", err)
		} else if int64(n) != hl {
			return nil, errMalformed
		}
		rawSize, err := checkHead(head, ek, vt.name, size, c.opts.MaxEntryBytes)
		if err != nil {
			return nil, err
		}
		if st.sparse {
			return nil, errMalformed
		}
		payload := make([]byte, size-hl+1)
		n, err := f.readFull(payload, int(size-hl))
		if err != nil {
			return nil, fmt.Errorf("cache: reading entry: %w", err)
		}
		if int64(n) != size-hl {
			return nil, errMalformed
		}
		if raw, err = checkDecode(&c.codec, head, payload[:n], rawSize, true); err != nil {
			return nil, err
		}
	}
	if now := c.now(); now.Sub(st.mtime) > mtimeInterval || st.mtime.After(now.Add(mtimeInterval)) {
		os.Chtimes(string(path[:len(path)-1]), now, now) // best effort: a read-only cache still serves hits
	}
	return raw, nil
}

// smallBuffers are the buffers into which hits read small entry files.
var smallBuffers = sync.Pool{New: func() any { return new([smallEntry + 1]byte) }}

// appendEntryPath appends to b the path of ek's entry file (as entryPath makes it) followed
// by a NUL byte, as a system call takes it, without allocating when b has room.
func (c *Cache) appendEntryPath(b []byte, ek *entryKey) []byte {
	b = append(b, c.versionDir...)
	b = append(b, filepath.Separator)
	b = hex.AppendEncode(b, ek[:1])
	b = append(b, filepath.Separator)
	b = hex.AppendEncode(b, ek[:])
	return append(b, 0)
}

// entryStat is what a hit needs to know of an entry file it opened.
type entryStat struct {
	size   int64
	mtime  time.Time
	sparse bool // the file system holds less than half of its bytes (see isSparse)
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
	hl := headerSize + len(vt.name)
	return checkDecode(&c.codec, entry[:hl], entry[hl:], rawSize, false)
}

// writeEntry stores raw, the msgp encoding of a value of type vt, as the entry file of ek.
func (c *Cache) writeEntry(ek *entryKey, vt *valueType, raw []byte) error {
	_, _, err := c.writeEntryData(ek, vt, raw, true)
	return err
}

// writeEntryData encodes raw, the msgp encoding of a value of type vt, as the entry file of
// ek, stores it when store is set, and returns the file's bytes (also when they are
// errTooLarge for the disk budget, or store failed) and its size, or nil with errClosed.
// The bytes are made only when they are wanted, for an upload (store not set, or a
// writable remote tier): a large entry stored raw is written from raw itself, after its
// header. The size is what the store added to the namespace, which the ledger counts: the
// file's, header and compression included, and a block for a shard directory it created.
func (c *Cache) writeEntryData(ek *entryKey, vt *valueType, raw []byte, store bool) (data []byte, size int64, err error) {
	c.diskMu.RLock()
	defer c.diskMu.RUnlock()
	if c.diskClosed {
		return nil, 0, errClosed // closed while the value was computed: not stored
	}
	e, err := c.codec.encode(ek, vt.name, raw)
	if err != nil {
		return nil, 0, err
	}
	if !store || (c.remote != nil && c.remote.writable.Load()) {
		data = e.bytes()
	}
	if !store {
		return data, int64(len(e.head) + len(e.payload)), nil
	}
	size, err = c.storeLocked(ek, e)
	if err == nil {
		c.afterStore(size, ek[0])
	}
	return data, size, err
}

// storeEntry stores data, the bytes of an entry file of ek checked by decodeEntry (an entry
// of the remote tier), as the entry file of ek, and counts the store (afterStore).
func (c *Cache) storeEntry(ek *entryKey, data []byte) error {
	c.diskMu.RLock()
	defer c.diskMu.RUnlock()
	if c.diskClosed {
		return errClosed
	}
	grown, err := c.storeLocked(ek, entryParts{payload: data, whole: data})
	if err == nil {
		c.afterStore(grown, ek[0])
	}
	return err
}

// storeLocked writes e as the entry file of ek, and returns what that added to the
// namespace, for its ledger: the file, and a block for a shard directory it had to create.
// The caller holds diskMu for reading, and the Cache is not closed; it counts the store
// (afterStore) before it releases diskMu, so that Close, which closes the disk tier before
// its last look for a trim to run, sees every store made before.
func (c *Cache) storeLocked(ek *entryKey, e entryParts) (grown int64, err error) {
	defer e.finish() // a failed write may not have waited for the checksum
	size := int64(len(e.head) + len(e.payload))
	if size > c.opts.MaxBytes/10*9 {
		// It could not stay: the next trim would remove it, and every miss would write
		// it again. Such a value is kept in memory only.
		return 0, errTooLarge
	}
	grown = size
	name := c.entryPath(ek)
	defer c.ioSlot()()
	err = c.writeFile(name, &e, c.opts.Sync)
	// The shard directory is missing: create it and retry. A trim may remove it again,
	// empty, before the file is in it: a few tries.
	for try := 0; try < 3 && (errNotExist(err) || isNotDir(err)); try++ {
		if err = c.recheck(); err != nil {
			c.diskOff.Store(true)
			return 0, err
		}
		if err = ensureDir(c.root, filepath.Dir(name)); err == nil {
			// A new shard directory takes a block that no trim recorded.
			grown = size + 4096
			c.retag()
			err = c.writeFile(name, &e, c.opts.Sync)
		}
	}
	if err != nil {
		// Something that is not a file stands at the entry's path (a directory cannot be
		// renamed over): it is not one of ours, and would fail every store. Remove it, but
		// never what a directory holds: the cache writes nothing there.
		if fi, lerr := os.Lstat(name); lerr == nil && !fi.Mode().IsRegular() {
			if os.Remove(name) == nil {
				err = c.writeFile(name, &e, c.opts.Sync)
			}
		}
	}
	if err != nil {
		if isNoSpace(err) {
			c.trimSoon() // a full disk: make room for the next stores
		}
		return 0, fmt.Errorf("cache: storing entry: %w", err)
	}
	c.stats.stores.Add(1)
	c.stats.storedBytes.Add(uint64(size))
	c.written.Add((grown + 4095) &^ 4095) // in the blocks it takes, as evictions free them
	return grown, nil
}

// writeFileAtomic writes data to name through a temporary file in the same directory that is
// renamed into place, so that readers see either the old file or the complete new one. The
// temporary file is name + ".tmp" + random digits; trimming removes those that a crashed
// writer left behind.
func writeFileAtomic(name string, data []byte, sync bool) error {
	return replaceFile(name, sync, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// replaceFile makes the file name what write writes to a temporary file in the same
// directory, which is synced if sync and then renamed into place; on any error the temporary
// file is removed and name is left as it was.
func replaceFile(name string, sync bool, write func(f *os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = write(f)
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
