package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// A Miss explains why a Load computed: the key, and what differs from the closest key of
// its type stored before (by any process sharing the directory).
type Miss struct {
	Time    time.Time
	KeyType string         // the key's Go type, as %T prints it: compiler.Options
	Digest  keyhash.Digest // the key's digest
	// Reason is one line: the fields that changed from the closest stored key, by their
	// path as CACHEGEN_TRACE writes it ("Options.OptLevel 2 → 1, Options.Flags["-g"]
	// added (closest entry stored 3m ago)"), or "no entry of this key type yet", "same
	// key, stored by another program version", "same key, stored for another value type
	// or schema", "same key, entry was damaged", "same key, entry was evicted", or, for a
	// Cache without a disk tier, "no disk tier: ...".
	Reason string
}

// String formats m as CACHEGEN_EXPLAIN prints it.
func (m Miss) String() string {
	return fmt.Sprintf("cachegen: miss %s %s…: %s", m.KeyType, m.Digest.String()[:12], m.Reason)
}

// explainEnv is the environment variable that prints every miss, explained, to stderr.
const explainEnv = "CACHEGEN_EXPLAIN"

// The files of the miss explainer, in a namespace directory: one record file per key type
// (the leaves of the keys stored lately), and the log of recent misses.
const (
	recordPrefix = "explain-"
	missesFile   = "misses.txt"
	// maxRecordFile bounds a record file and its older half together (and one record):
	// the records of about 60 keys of 4 KiB. Each rotation renames the file over its
	// older half, a dear operation on some file systems (ext4 writes the renamed file out
	// at once), so a half holds many records.
	maxRecordFile  = 256 << 10
	maxMissesFile  = 64 << 10
	maxLeaves      = 1024    // leaves recorded per key; a larger key is recorded in part
	maxRecordBytes = 8 << 10 // and no more than about this
)

// isExplainFile reports whether name is a file of the explainer: a record file,
// explain-<16 hex>.rec, the log of misses, and their older halves (.old); and the text
// records of earlier versions (.txt), trimmed and cleared as well.
func isExplainFile(name string) bool {
	if name == missesFile || name == olderHalf(missesFile) {
		return true
	}
	hexPart, ok := strings.CutPrefix(name, recordPrefix)
	if !ok || len(hexPart) != 16+4 {
		return false
	}
	ext := hexPart[16:]
	return (ext == ".rec" || ext == ".old" || ext == ".txt") && isHex(hexPart[:16], 16)
}

// keyTypeOf names K for records (an identity with package paths, hashed into the record
// file's name) and for messages (as %T prints it).
func keyTypeOf[K any]() (id, shown string) {
	t := reflect.TypeFor[K]()
	return typeIdentity(t), t.String()
}

// typeIdentity names t with the paths of its packages: *example.com/a/k.Opts, not *k.Opts,
// which another package k would share.
func typeIdentity(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name()
		}
		return t.PkgPath() + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + typeIdentity(t.Elem())
	case reflect.Slice:
		return "[]" + typeIdentity(t.Elem())
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), typeIdentity(t.Elem()))
	case reflect.Map:
		return "map[" + typeIdentity(t.Key()) + "]" + typeIdentity(t.Elem())
	}
	return describeType(t)
}

func (c *Cache) recordFile(typeID string) string {
	sum := sha256.Sum256([]byte(typeID))
	return filepath.Join(c.root, recordPrefix+hex.EncodeToString(sum[:8])+".rec")
}

// readRecords returns the records of a record file, oldest first, with those of this Cache's
// stores that the background writer has not appended yet, taken from memory: a miss explained
// in this process sees every store before it without waiting for a write.
func (c *Cache) readRecords(name string) []record {
	// The queued frames first, the file after: a frame leaves the queue only once it is
	// in the file, so none is missed (one may be seen twice, which changes no explanation).
	frames := c.records.queued(name, c.recordLimit()/2)
	release := c.ioSlot()
	recs := c.recIndex.read(name)
	release()
	for _, f := range frames {
		r, _ := parseRecordsTail(f)
		recs = append(recs, r...)
	}
	return recs
}

// A recordIndex keeps the records a Cache parsed from record files, by file: a file is only
// ever appended to, or renamed to its older half, so a miss reads and parses only the frames
// appended since the last miss of its key type, not the whole file.
type recordIndex struct {
	mu    sync.Mutex
	files map[string][]*parsedFile // by record file: the files of its two halves read last
}

// A parsedFile is what was parsed of one file: the records of its first off bytes.
type parsedFile struct {
	fi   os.FileInfo // the file's identity (os.SameFile), size and time when read
	head [12]byte    // its first bytes (a frame's header): a file number can be reused
	off  int64
	recs []record
}

// read returns the records of the record file name and its older half, oldest first.
func (x *recordIndex) read(name string) []record {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.files == nil {
		x.files = map[string][]*parsedFile{}
	}
	known := x.files[name]
	var recs []record
	// Both halves are looked at: an append that raced with another process's rotation
	// lands in the older one, and a trim may remove it. The newer is read first (see
	// readRotating).
	newer := readParsed(name, known)
	older := readParsed(olderHalf(name), known)
	if newer != nil && older != nil && os.SameFile(newer.fi, older.fi) {
		newer = nil // rotated between the two reads
	}
	var now []*parsedFile
	for _, pf := range [2]*parsedFile{older, newer} {
		if pf != nil {
			now = append(now, pf)
			recs = append(recs, pf.recs...)
		}
	}
	x.files[name] = now
	return recs
}

// appended takes in the frames this process appended to the record file name, which then
// had the information fi: when the file is one the index read up to where the frames start,
// no other process wrote between, and the frames are the file's new end. The file may have
// become the older half since; the index follows it by identity.
func (x *recordIndex) appended(name string, frames []byte, fi os.FileInfo) {
	x.mu.Lock()
	defer x.mu.Unlock()
	recs, end := parseRecordsTail(frames)
	if end != len(frames) || len(frames) < 12 {
		return // not whole frames: the next read parses them from the file
	}
	for i, k := range x.files[name] {
		if os.SameFile(k.fi, fi) && k.off+int64(len(frames)) == fi.Size() && k.off >= int64(len(k.head)) && headIs(name, fi, k.head) {
			x.files[name][i] = &parsedFile{fi: fi, head: k.head, off: fi.Size(), recs: append(slices.Clip(k.recs), recs...)}
			return
		}
	}
	if fi.Size() == int64(len(frames)) {
		// A file these frames began (after a rotation): it holds them and nothing else.
		pf := &parsedFile{fi: fi, off: fi.Size(), recs: recs}
		copy(pf.head[:], frames)
		if x.files == nil {
			x.files = map[string][]*parsedFile{}
		}
		// The file before it is now the older half, and the one before that is gone.
		known := x.files[name]
		x.files[name] = append(slices.Clone(known[max(0, len(known)-1):]), pf)
	}
}

// headIs reports whether the file fi, at name or at its older half, begins with head: its
// identity and size alone do not tell it from a file that replaced it under a reused number.
func headIs(name string, fi os.FileInfo, head [12]byte) bool {
	for _, n := range [2]string{name, olderHalf(name)} {
		f, now, err := openRegular(n)
		if err != nil {
			continue
		}
		var h [12]byte
		k, _ := f.ReadAt(h[:], 0)
		f.Close()
		if os.SameFile(now, fi) {
			return k == len(h) && h == head
		}
	}
	return false
}

// readParsed brings up to date the parsed file of name, among known (the older half may be
// the newer one that was renamed), and returns it; nil if name cannot be read. A file is
// the one read before if it has its identity and its first bytes, and has not shrunk (its
// size and modification time alone would not do: a file rewritten in place may keep both).
// Where the system gives a file's change time, which cannot be set back, a file with the
// same identity, size and change time is known unchanged without being opened.
func readParsed(name string, known []*parsedFile) *parsedFile {
	if fi, err := os.Lstat(name); err == nil {
		for _, k := range known {
			if k.unchangedAs(fi) {
				return k // unchanged since it was read: one system call
			}
		}
	}
	f, fi, err := openRegular(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	size := fi.Size()
	var head [12]byte
	n, _ := f.ReadAt(head[:], 0)
	var pf *parsedFile
	for _, k := range known {
		if os.SameFile(k.fi, fi) && size >= k.off && k.off >= int64(len(head)) && n == len(head) && head == k.head {
			pf = k
			break
		}
	}
	if pf == nil {
		pf = &parsedFile{head: head}
	}
	if size-pf.off > maxRecordFile {
		// Not a file appendRotating keeps: read its last frames only.
		pf = &parsedFile{head: head, off: size - maxRecordFile}
	}
	if size == pf.off {
		return &parsedFile{fi: fi, head: pf.head, off: pf.off, recs: pf.recs}
	}
	b := make([]byte, size-pf.off)
	n, err = f.ReadAt(b, pf.off)
	b = b[:n]
	if err != nil && n == 0 {
		return nil
	}
	recs, end := parseRecordsTail(b)
	// A copy: appends would alias the records of an earlier read.
	return &parsedFile{fi: fi, head: head, off: pf.off + int64(end), recs: append(slices.Clip(pf.recs), recs...)}
}

// unchangedAs reports whether fi, a file's information now, shows the file pf was parsed
// from, unchanged since: the same identity, size and change time. Without change times
// (where the system gives none) nothing is known unchanged.
func (pf *parsedFile) unchangedAs(fi os.FileInfo) bool {
	ct, ok := changeTime(fi)
	kt, _ := changeTime(pf.fi)
	return ok && kt == ct && os.SameFile(pf.fi, fi) && fi.Size() == pf.off
}

// appendRecord records a stored key in its type's record file, bounded by maxRecordFile:
// through the background writer, which appends the records of many stores at once.
func (c *Cache) appendRecord(name string, d keyhash.Digest, vt *valueType, kr keyRecord) {
	version := filepath.Base(c.versionDir)
	size := 80 + len(version) + len(vt.name) + 8*len(kr.hashes) + len(kr.leaves)
	c.queueRecord(name, appendRecordFrame(make([]byte, 0, size), d, c.now(), version, vt.name, kr))
}

// A recordQueue holds what the explainer writes in the background: the records that
// stores made and the lines of the log of misses, until the writer appends them to their
// files. A record is a hint: when the queue holds maxPendingRecords bytes of records, the
// oldest of a file make room for a new one.
type recordQueue struct {
	mu      sync.Mutex
	pending map[string][][]byte // record file → frames, oldest first
	writing map[string][][]byte // the frames the writer is appending now
	misses  []byte              // lines for the log of misses
	bytes   int                 // the bytes of the frames pending
	running bool                // a writer runs
	// added counts what was queued, written what the writer is done with (the counts
	// of the batches it finished); progress is closed, and replaced, at each batch done.
	added, written uint64
	progress       chan struct{}
	// hurry, made when a writer starts to linger, is closed to end it (see recordLinger):
	// by Flush and Close, which wait for the writer. hurried says that Close did, and
	// that the writer no longer lingers.
	hurry   chan struct{}
	hurried bool
	linger  time.Duration // recordLinger; tests change it
}

// recordLinger is how long the writer, after an append, waits for more to append: a record
// file's append costs more than making the record (opening the file, and every few dozen
// records renaming the file over its older half), so the stores made meanwhile share the
// next append. The first record after a quiet spell is appended at once, as a program that
// exits without Close would otherwise lose it; what is queued is seen at once by the
// explanations of this process (readRecords), and by other processes recordLinger later at
// most.
const recordLinger = 5 * time.Millisecond

const (
	maxPendingRecords = 1 << 20
	// maxPendingMisses bounds the lines of the log of misses queued, apart from the
	// records: a queue full of records does not drop them.
	maxPendingMisses = 64 << 10
)

// queueRecord queues frame for the record file name. When the queue is full, the oldest
// frames of that file make room: the newest records are the ones an explanation wants.
func (c *Cache) queueRecord(name string, frame []byte) {
	c.queueWrite(func(q *recordQueue) bool {
		frames := q.pending[name]
		for len(frames) > 0 && q.bytes+len(frame) > maxPendingRecords {
			q.bytes -= len(frames[0])
			frames = frames[1:]
		}
		if q.bytes+len(frame) > maxPendingRecords {
			return false
		}
		if q.pending == nil {
			q.pending = make(map[string][][]byte)
		}
		q.pending[name] = append(frames, frame)
		q.bytes += len(frame)
		return true
	})
}

// queueMiss queues a line for the log of misses; when the queue is full, the oldest lines
// make room.
func (c *Cache) queueMiss(line []byte) {
	c.queueWrite(func(q *recordQueue) bool {
		for len(q.misses) > 0 && len(q.misses)+len(line) > maxPendingMisses {
			i := bytes.IndexByte(q.misses, '\n') + 1
			if i == 0 {
				i = len(q.misses)
			}
			q.misses = q.misses[i:]
		}
		if len(line) > maxPendingMisses {
			return false
		}
		q.misses = append(q.misses, line...)
		return true
	})
}

// queueWrite adds to the queue with add, which reports whether it did, and starts the
// writer if none runs.
func (c *Cache) queueWrite(add func(*recordQueue) bool) {
	q := &c.records
	q.mu.Lock()
	if !add(q) {
		q.mu.Unlock()
		return
	}
	q.added++
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if !start {
		return
	}
	if !c.begin() {
		// Closing: what Close has not yet released is written now (writeRecords drops
		// it once Close has).
		c.writeRecords()
		return
	}
	go func() {
		defer c.wg.Done()
		c.writeRecords()
	}()
}

// lingerLocked, with q.mu held, waits for recordLinger (q.linger) or until hurried, and
// returns with q.mu held.
func (q *recordQueue) lingerLocked() {
	if q.hurried || q.linger <= 0 {
		return
	}
	hurry := make(chan struct{})
	q.hurry = hurry
	t := time.NewTimer(q.linger)
	q.mu.Unlock()
	select {
	case <-t.C:
	case <-hurry:
		t.Stop()
	}
	q.mu.Lock()
	if q.hurry == hurry {
		q.hurry = nil
	}
}

// hurryLocked ends the linger of a running writer; with q.mu held.
func (q *recordQueue) hurryLocked() {
	if q.hurry != nil {
		close(q.hurry)
		q.hurry = nil
	}
}

// close makes the writer append what is queued now, and no longer linger: the Cache is
// closing, and Close waits for the writer.
func (q *recordQueue) close() {
	q.mu.Lock()
	q.hurried = true
	q.hurryLocked()
	q.mu.Unlock()
}

// queued returns the frames queued or being written for the record file name, oldest
// first: the newest of them that fit in max bytes (at least one), as the writer would
// append them.
func (q *recordQueue) queued(name string, max int64) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	frames := append(slices.Clip(q.writing[name]), q.pending[name]...)
	if len(frames) == 0 {
		return nil
	}
	i, size := len(frames)-1, int64(len(frames[len(frames)-1]))
	for i > 0 && size+int64(len(frames[i-1])) <= max {
		i--
		size += int64(len(frames[i]))
	}
	return frames[i:]
}

// writeRecords appends what is queued to its files, recordLinger apart, until nothing is
// left, and records in the namespace's ledger what they grew by (afterRecords). After Close
// released the disk tier, it drops what is queued.
func (c *Cache) writeRecords() {
	q := &c.records
	for {
		q.mu.Lock()
		batch, misses, n := q.pending, q.misses, q.added
		q.pending, q.misses, q.bytes = nil, nil, 0
		q.writing = batch
		if len(batch) == 0 && len(misses) == 0 {
			q.running = false
			q.done(n)
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		c.diskMu.RLock()
		if !c.diskClosed {
			var grew int64
			for name, data := range batch {
				release := c.ioSlot()
				frames := data[0] // most batches hold one record: no copy
				if len(data) > 1 {
					frames = bytes.Join(data, nil)
				}
				grew += c.appendRecords(name, newestFrames(frames, c.recordLimit()/2))
				release()
			}
			if len(misses) > 0 {
				limit := min(maxMissesFile, max(8<<10, c.opts.MaxBytes/128))
				release := c.ioSlot()
				_, n := appendRotating(filepath.Join(c.root, missesFile), newestLines(misses, int(limit/2)), limit)
				grew += n
				release()
			}
			if grew > 0 {
				c.afterRecords(grew)
			}
		}
		c.diskMu.RUnlock()
		q.mu.Lock()
		q.writing = nil
		q.done(n)
		if len(batch) > 0 {
			// What the next stores queue meanwhile shares the next append. Not after a
			// line of the log of misses alone: the record of the miss's store follows.
			q.lingerLocked()
		}
		q.mu.Unlock()
	}
}

// done records, with q.mu held, that what was queued up to the count n is written, and
// wakes those waiting for it.
func (q *recordQueue) done(n uint64) {
	q.written = max(q.written, n)
	if q.progress != nil {
		close(q.progress)
		q.progress = nil
	}
}

// wait waits until the writer is done with everything queued before the call, or ctx is
// done.
func (q *recordQueue) wait(ctx context.Context) error {
	q.mu.Lock()
	target := q.added
	for q.written < target {
		// The writer appends what is queued now rather than after its linger, at every
		// round: it may have started to linger after the batch before this one.
		q.hurryLocked()
		if q.progress == nil {
			q.progress = make(chan struct{})
		}
		progress := q.progress
		q.mu.Unlock()
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		}
		q.mu.Lock()
	}
	q.mu.Unlock()
	return nil
}

// newestLines returns the newest of the whole lines in b that fit in max bytes (at least the
// last one): a log half that grew past its bound in one append could not be read back.
func newestLines(b []byte, max int) []byte {
	for len(b) > max {
		i := bytes.IndexByte(b, '\n') + 1
		if i == 0 || i == len(b) {
			break
		}
		b = b[i:]
	}
	return b
}

// appendRecords appends frames to the record file name, and tells the record index, so
// that a miss after stores of this process reads no file to see their records. It returns
// what the file grew by on disk (see appendRotating).
func (c *Cache) appendRecords(name string, frames []byte) int64 {
	fi, grew := appendRotating(name, frames, c.recordLimit())
	if fi != nil && c.explains() {
		c.recIndex.appended(name, frames, fi)
	}
	return grew
}

// explains reports whether the Cache explains its misses: only then does it keep an index
// of the records.
func (c *Cache) explains() bool { return c.opts.OnMiss != nil || c.explainStderr }

// recordLimit is what the records of a key type may take: maxRecordFile, or a 64th of the
// namespace's budget when that is less (but room for a few records), so that records never
// crowd out the entries they explain.
func (c *Cache) recordLimit() int64 {
	return min(maxRecordFile, max(2*maxRecordBytes, c.opts.MaxBytes/64))
}

// appendRotating appends data to the file name. Once the file holds half of limit, or when
// data would take it past that, it becomes the older half, olderHalf(name), replacing the
// one before: the two hold at most limit, or limit and one append larger than half of it, and
// no append rewrites a file. It is best effort: an explanation is a
// hint, and an append that races with another process's rotation may land in the older half.
//
// It returns the file's information after the append (and the rotation, if it rotated), nil
// if the append failed or what it appended to cannot be told, and what the append took on
// disk, in whole blocks: what the file it appended to grew by (a rotation, which replaces
// the older half, is not counted as freeing it, and the growth of a file another process
// rotated meanwhile may be counted twice).
func appendRotating(name string, data []byte, limit int64) (os.FileInfo, int64) {
	f, err := openAppend(name)
	if err != nil {
		return nil, 0
	}
	var before int64
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 && fi.Size()+int64(len(data)) > limit/2 {
		// data would take the file past its half: it begins the next file, so that the
		// two hold at most limit when data (a batch of records) is up to half of it.
		f.Close()
		rotate(name, fi)
		if f, err = openAppend(name); err != nil {
			return nil, 0
		}
		if fi, err := f.Stat(); err == nil {
			before = allocated(fi)
		}
	} else if err == nil {
		before = allocated(fi)
	}
	_, err = f.Write(data)
	fi, err2 := f.Stat()
	f.Close()
	if err2 != nil {
		// What it took cannot be told: at most data, in blocks, and one more.
		return nil, (int64(len(data)) + 2*4095) &^ 4095
	}
	grew := max(0, allocated(fi)-before)
	if err != nil {
		return nil, grew
	}
	if fi.Size() >= limit/2 {
		if rotate(name, fi) != nil {
			return nil, grew
		}
		// The file is now the older half, with a new change time.
		if ofi, err := os.Lstat(olderHalf(name)); err == nil && os.SameFile(fi, ofi) {
			return ofi, grew
		}
		return nil, grew
	}
	return fi, grew
}

// rotate makes the file name, which fi describes, the older half, replacing the one
// before, unless name is no longer that file: of several processes that found the file
// full at once, one rotates it, and the others do not rotate the file that follows it (the
// check and the rename are made under a lock of the directory, where the system has one).
// One rename, so that a reader always finds the records in one half or the other. When
// something the cache did not make is in the way of the older half (a directory), the
// records go rather than the bound.
func rotate(name string, fi os.FileInfo) error {
	// Between the check and the rename, another process could rotate the file and a third
	// begin the next, which this one would then rotate over the newest records.
	defer lockDir(filepath.Dir(name))()
	if now, err := os.Lstat(name); err != nil || !os.SameFile(fi, now) {
		return errRotated
	}
	err := os.Rename(name, olderHalf(name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		os.Remove(name)
	}
	return err
}

// errRotated says that a file was rotated by another process.
var errRotated = errors.New("cache: rotated by another process")

// olderHalf names the older half of a file that appendRotating appends to: its extension
// replaced by .old.
func olderHalf(name string) string {
	return strings.TrimSuffix(name, filepath.Ext(name)) + ".old"
}

// readRotating returns the contents of a file that appendRotating appends to: its older
// half and its newer one, each read up to max bytes. The newer is read first: read second,
// it could be the file that follows a rotation between the two reads, and the older half
// read first the one before that, so that the newest records would be missed. When the
// older half read second is the newer one, rotated meanwhile, it is all there is.
func readRotating(name string, max int64) (older, newer []byte) {
	newer, nfi, _ := readSmallFileUpTo(name, max)
	older, ofi, _ := readSmallFileUpTo(olderHalf(name), max)
	if nfi != nil && ofi != nil && os.SameFile(nfi, ofi) {
		newer = nil
	}
	return older, newer
}

// clean keeps a field of a record on its line.
func clean(s string) string {
	if !strings.ContainsAny(s, "\t\n\r") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// explain returns why the key with digest d, of a Load of value type vt, and record kr
// missed, against the records of its type. damaged says an entry file of this key was found
// and refused.
func (c *Cache) explain(recs []record, d keyhash.Digest, vt *valueType, kr keyRecord, damaged bool) string {
	if damaged {
		return "same key, entry was damaged"
	}
	version := filepath.Base(c.versionDir)
	var evicted, otherVersion, otherValue bool
	for _, r := range recs {
		if r.digest != d {
			continue
		}
		switch {
		case r.version != version:
			otherVersion = true
		case r.value != vt.name:
			otherValue = true
		default:
			evicted = true
		}
	}
	switch {
	case evicted:
		return "same key, entry was evicted"
	case otherValue:
		return "same key, stored for another value type or schema"
	case otherVersion:
		return "same key, stored by another program version"
	case kr.failed:
		return "the key's fields could not be listed (a String method of a field panicked)"
	case len(recs) == 0 || kr.n == 0:
		return "no entry of this key type yet"
	}
	best, score := -1, -1
	for i := range recs {
		if n := recs[i].overlap(kr.hashes); n >= score { // the newest of equals
			best, score = i, n
		}
	}
	r := recs[best]
	changes, sameShape := valueChanges(r.n, r.leaves, kr.n, kr.leaves)
	if !sameShape {
		// The leaves that both keys hold (same path, type and value, hence same hash)
		// cannot be changes: only the others are decoded.
		changes = diffLeaves(decodeLeaves(r.n, r.leaves, kr.hashes), decodeLeaves(kr.n, kr.leaves, r.sortedHashes()), r.partial, kr.partial)
	}
	const shown = 4
	text := strings.Join(changes[:min(len(changes), shown)], ", ")
	if len(changes) > shown {
		text += fmt.Sprintf(", and %d more", len(changes)-shown)
	}
	if text == "" {
		text = "a change beyond the recorded fields"
	}
	if r.version != version {
		text += ", and another program version"
	}
	return fmt.Sprintf("%s (closest entry stored %s ago)", text, age(c.now().Sub(r.time)))
}

// valueChanges compares two lists of n leaves encoded as in a record, old and now: the
// common miss, where an option changed and the key kept its shape. When each leaf of one has
// the path and type of the other's at the same place, it returns the changes of value as
// diffLeaves writes them, and sameShape; otherwise (an entry added or removed, a list that
// does not decode) nothing, and diffLeaves must compare them. The encodings of the leaves
// before a change are the same bytes (each leaf is encoded after the one before it): they
// are skipped at the speed of a comparison of bytes, decoding only their paths.
func valueChanges(nOld int, old []byte, nNow int, now []byte) (changes []string, sameShape bool) {
	if nOld != nNow {
		return nil, false
	}
	var path []byte // the path of the last leaf, the same in both
	same := commonPrefix(old, now)
	for range nOld {
		if same == len(old) && same == len(now) {
			break // the rest is the same bytes: the same leaves
		}
		lo, ok := cutLeaf(old)
		if !ok || lo.pathShared > len(path) {
			return nil, false
		}
		path = append(path[:lo.pathShared], lo.path...)
		if lo.size <= same { // the same bytes in both: the same leaf
			old, now, same = old[lo.size:], now[lo.size:], same-lo.size
			continue
		}
		ln, ok := cutLeaf(now)
		if !ok || ln.pathShared != lo.pathShared || !bytes.Equal(ln.path, lo.path) ||
			ln.typeShared != lo.typeShared || !bytes.Equal(ln.typ, lo.typ) {
			return nil, false
		}
		changes = append(changes, fmt.Sprintf("%s %s → %s", path, lo.value, ln.value))
		old, now = old[lo.size:], now[ln.size:]
		same = commonPrefix(old, now)
	}
	return changes, true
}

// commonPrefix returns how many bytes a and b begin with alike.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if binary.LittleEndian.Uint64(a[i:]) != binary.LittleEndian.Uint64(b[i:]) {
			break
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// diffLeaves lists what changed from old to now, in now's order, then what was removed:
// "P old → new", "P added", "P removed". A side that holds only part of its key's leaves
// (oldPartial, nowPartial) cannot tell what it lacks: what only the other side has is not
// listed. A list's or map's length is not listed when the entries that make the change are.
func diffLeaves(old, now []keyhash.Leaf, oldPartial, nowPartial bool) []string {
	before := make(map[string]keyhash.Leaf, len(old))
	for _, l := range old {
		before[l.Path] = l
	}
	seen := make(map[string]bool, len(now))
	type change struct{ path, text string }
	var out []change
	for _, l := range now {
		seen[l.Path] = true
		switch b, ok := before[l.Path]; {
		case !ok && !oldPartial:
			out = append(out, change{l.Path, l.Path + " added"})
		case ok && b.Type != l.Type: // a field's type changed, its value shown alike or not
			out = append(out, change{l.Path, fmt.Sprintf("%s %s %s → %s %s", l.Path, b.Type, b.Value, l.Type, l.Value)})
		case ok && b.Value != l.Value:
			out = append(out, change{l.Path, fmt.Sprintf("%s %s → %s", l.Path, b.Value, l.Value)})
		}
	}
	for _, l := range old {
		if !seen[l.Path] && !nowPartial {
			out = append(out, change{l.Path, l.Path + " removed"})
		}
	}
	var texts []string
	for i, c := range out {
		inner := false
		for j, d := range out {
			if j != i && strings.HasPrefix(d.path, c.path+"[") {
				inner = true
				break
			}
		}
		if !inner || !strings.Contains(c.text, " len ") {
			texts = append(texts, c.text)
		}
	}
	return texts
}

// age rounds d for a message: 3m, 2h, 5d.
func age(d time.Duration) string {
	switch {
	case d < 0: // a clock behind the one that stored
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// explainMiss explains the miss m of a Load of value type vt, whose key has the record kr,
// against the records of recFile stored before m.Time, and reports it (reportMiss): in
// another goroutine, so that on a machine with a core to spare the explanation costs the
// miss nothing. It returns a function that waits for it and returns what Options.OnMiss
// panicked with, if it did; calls after the first return the same.
func (c *Cache) explainMiss(m Miss, recFile string, vt *valueType, kr *keyRecord, damaged bool) (wait func() *PanicError) {
	done := make(chan *PanicError, 1)
	go func() {
		var p *PanicError
		defer func() { done <- p }() // also when OnMiss calls runtime.Goexit
		defer func() {
			if v := recover(); v != nil {
				p = &PanicError{Value: v, Stack: debug.Stack(), in: "Options.OnMiss"}
			}
		}()
		// Records stored after the miss (by another process, while compute ran) are not
		// what it missed.
		recs := c.readRecords(recFile)
		stored := len(recs)
		recs = slices.DeleteFunc(recs, func(r record) bool { return r.time.After(m.Time) })
		if len(recs) == 0 && stored > 0 && !damaged && !kr.failed {
			// Many stores of the type since the miss began rotated the older records out.
			m.Reason = "no entry of this key type recorded before this miss (the records kept are of later stores)"
		} else {
			m.Reason = c.explain(recs, m.Digest, vt, *kr, damaged)
		}
		c.reportMiss(m)
	}()
	var p *PanicError
	waited := false
	return func() *PanicError {
		if !waited {
			waited = true
			p = <-done
		}
		return p
	}
}

// reportMiss hands m to Options.OnMiss, prints it when CACHEGEN_EXPLAIN=1, and queues it for
// the namespace's log of recent misses.
func (c *Cache) reportMiss(m Miss) {
	if c.opts.OnMiss != nil {
		c.opts.OnMiss(m)
	}
	if c.explainStderr {
		fmt.Fprintln(os.Stderr, m.String())
	}
	if !c.diskOff.Load() {
		// In the background, with the records: Flush and Close wait for it.
		c.queueMiss(fmt.Appendf(nil, "%s\t%s\t%s\t%s\n", m.Time.Format(time.RFC3339), clean(m.KeyType), m.Digest, clean(m.Reason)))
	}
}

// RecentMisses returns the misses explained lately in the namespace of dir (or in every
// namespace when namespace is ""), oldest first, at most n of them (all when n <= 0): the
// log that Loads write when explaining (CACHEGEN_EXPLAIN=1 or Options.OnMiss). A Cache
// writes the log in the background: it holds a Cache's misses once its Flush or Close
// returned.
func RecentMisses(dir, namespace string, n int) ([]Miss, error) {
	if err := checkDir(dir, namespace); err != nil {
		return nil, err
	}
	nss, err := namespaces(dir, namespace)
	if err != nil {
		return nil, err
	}
	var out []Miss
	for _, ns := range nss {
		older, newer := readRotating(filepath.Join(dir, ns, missesFile), maxMissesFile)
		for line := range strings.SplitSeq(string(older)+string(newer), "\n") {
			parts := strings.SplitN(line, "\t", 4)
			if len(parts) != 4 {
				continue
			}
			t, err1 := time.Parse(time.RFC3339, parts[0])
			d, err2 := hex.DecodeString(parts[2])
			if err1 != nil || err2 != nil || len(d) != len(keyhash.Digest{}) {
				continue
			}
			out = append(out, Miss{Time: t, KeyType: parts[1], Digest: keyhash.Digest(d), Reason: parts[3]})
		}
	}
	sortMisses(out)
	if n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}

func sortMisses(m []Miss) {
	slices.SortStableFunc(m, func(a, b Miss) int { return a.Time.Compare(b.Time) })
}
