package cache

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Names of the files of the layout, besides entries.
const (
	trimFile    = "trim.txt"    // in a namespace: Unix time of its last trim
	versionFile = "version.txt" // in a version directory: the version string
	// lockFile, in a namespace, is held (created exclusively) by the process trimming it.
	lockFile = "trim.lock"
	// ledgerFile, in a namespace, is the ledger of an older layout: it grew by a byte per
	// KiB of the entry files (in whole blocks) that any process stored, and is removed by
	// each trim. Trims still take it, as growth of unknown place (and give back into it
	// what they took of that kind); see storedFile.
	ledgerFile = "written.txt"
	ledgerUnit = 1024
	// storedFile, in a namespace, is the ledger: it grows by a byte per KiB of the entry
	// files (in whole blocks) that any process stores, each the number of the shard
	// directory the store wrote in (the first byte of the entry's key), and is taken by each
	// trim. Its size tells every process how much the namespace grew since the last trim,
	// so that many short-lived processes, none of which writes much, still trim it in time;
	// its bytes tell a trim that listed some shard directories and not others which of
	// what was stored it has seen.
	storedFile = "stored.txt"
	// roomFile, in a namespace, holds the size of storedFile when the last trim ended and
	// the bound of the namespace it found then (see trimRun.saveRoom), from which each
	// Cache knows, by its own budget, when its stores take the namespace past it: a store
	// that does starts a trim, which evicts about what was stored. It decides only when a
	// trim starts, never what a trim removes.
	roomFile = "room.txt"
	// recordedFile, in a namespace, is the ledger of the miss explainer's files: it grows by
	// a byte per KiB of the blocks they grew by (records and the log of misses), appended by
	// the writer after each append, and a trim removes it as it starts, since a trim counts
	// those files as they are. With storedFile, it tells each Cache when the namespace's
	// growth since the last trim passes the room that trim left (roomFile).
	recordedFile = "recorded.txt"
)

// Ages of the trim's own files.
const (
	// staleLock is the age from which a trim.lock is taken to be a crashed trim's.
	staleLock = 10 * time.Minute
	// tempGrace is the age from which a temporary file is taken to be a killed writer's
	// when the namespace is over budget (a store takes far less), and removed before
	// entries are.
	tempGrace = 2 * time.Minute
)

// trimDue reports whether a namespace last trimmed at last is due for a trim at now. A time
// more than trimInterval in the future (a clock set back, or skew between machines sharing
// the directory) is due too, as in Go's build cache: otherwise it would never be.
func trimDue(last, now time.Time) bool {
	return now.Sub(last) >= trimInterval || last.After(now.Add(trimInterval))
}

// effective returns the time a file's mtime stands for: an mtime more than mtimeInterval in
// the future is not believed, and counts as the oldest. It is for the trim lock, which
// must not stay held for ever; for the files trimming keeps or removes, see believed.
func effective(mtime, now time.Time) time.Time {
	if mtime.After(now.Add(mtimeInterval)) {
		return time.Time{}
	}
	return mtime
}

// believed returns the time the mtime of the file path stands for in a trim: an mtime more
// than mtimeInterval in the future (a clock set back, or machines sharing the directory
// whose clocks differ) is set to now, from which the file then ages as any other. Taking it
// for the oldest instead would make every trim of the machine whose clock is behind delete
// what the other wrote, however far under budget.
func believed(path string, mtime, now time.Time) time.Time {
	if mtime.After(now.Add(mtimeInterval)) {
		// Not through a link (the cache makes none): Chtimes would follow it.
		if fi, err := os.Lstat(path); err == nil && (fi.Mode().IsRegular() || fi.IsDir()) {
			os.Chtimes(path, now, now)
		}
		return now
	}
	return mtime
}

// isHex reports whether s is n lowercase hexadecimal digits. It looks every byte up in a
// table, without a branch per byte: a trim checks the 64-digit name of every entry it lists,
// and a branch on whether a random digit is a letter is mispredicted about every third time.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	var bad byte
	for i := 0; i < len(s); i++ {
		bad |= notHex[s[i]]
	}
	return bad == 0
}

// notHex is 1 for the bytes that are not lowercase hexadecimal digits.
var notHex = func() (t [256]byte) {
	for i := range t {
		if (i < '0' || i > '9') && (i < 'a' || i > 'f') {
			t[i] = 1
		}
	}
	return t
}()

// isTemp reports whether name is a temporary file of writeFileAtomic for a file named base
// (matched by match): base + ".tmp" + digits.
func isTemp(name string, match func(string) bool) bool {
	base, digits, ok := strings.Cut(name, ".tmp")
	if !ok || digits == "" || !match(base) {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// entryNameLen is the length of an entry file's name: 64 hexadecimal digits.
const entryNameLen = 64

// entryIn returns what tells the name of an entry of the shard directory shard: 64 digits,
// the first two the shard's.
func entryIn(shard string) func(string) bool {
	return func(s string) bool { return isHex(s, entryNameLen) && s[:2] == shard }
}

func isVersionDir(name string) bool { return isHex(name, 16) }
func isShardDir(name string) bool   { return isHex(name, 2) }

// A file of the layout found by scanVersion.
type layoutFile struct {
	path  string
	size  int64 // length
	alloc int64 // bytes allocated on disk: what counts against the budget
	mtime time.Time
	temp  bool
}

// scanVersion lists the entry files and temporary files of a version directory. Files it
// does not recognise are left out.
func scanVersion(vdir string) ([]layoutFile, error) {
	var files []layoutFile
	add := func(dir string, de fs.DirEntry, temp bool) {
		fi, err := de.Info()
		if err != nil || !fi.Mode().IsRegular() {
			return
		}
		files = append(files, layoutFile{filepath.Join(dir, de.Name()), fi.Size(), allocated(fi), fi.ModTime(), temp})
	}
	des, err := os.ReadDir(vdir)
	if err != nil {
		return nil, err
	}
	for _, de := range des {
		name := de.Name()
		if isTemp(name, func(s string) bool { return s == versionFile }) {
			add(vdir, de, true)
			continue
		}
		sdir := filepath.Join(vdir, name)
		if !de.IsDir() || !isShardDir(name) {
			removeLink(sdir, de, isShardDir(name), nil)
			continue
		}
		ents, err := os.ReadDir(sdir)
		if err != nil {
			if errNotExist(err) {
				continue
			}
			return nil, err
		}
		isEntry := entryIn(name)
		for _, e := range ents {
			switch n := e.Name(); {
			case isEntry(n):
				add(sdir, e, false)
			case isTemp(n, isEntry):
				add(sdir, e, true)
			}
		}
	}
	return files, nil
}

// removeLink removes path, a symbolic link named as a directory of the layout (layout
// says so): one the cache never makes, through which stores would land outside the
// namespace, where trimming cannot count them. Stores then make the directory again.
func removeLink(path string, de fs.DirEntry, layout bool, res *TrimResult) {
	if layout && de.Type()&fs.ModeSymlink != 0 && os.Remove(path) == nil && res != nil {
		res.Files++
	}
}

// TrimResult tells what a trim removed.
type TrimResult struct {
	Files int   // files removed: entries, stale temporary files, other versions' files
	Bytes int64 // their total size
}

func (r *TrimResult) add(o TrimResult) {
	r.Files += o.Files
	r.Bytes += o.Bytes
}

func (r *TrimResult) removed(f layoutFile) {
	if err := os.Remove(f.path); err == nil {
		r.Files++
		r.Bytes += f.size
	}
}

// readSmall reads a small file of the layout (trim.txt, version.txt, CACHEDIR.TAG): without
// blocking on a FIFO, and refusing anything but a regular file of at most 4 KiB, so that a
// planted sparse file cannot make a read allocate gigabytes.
func readSmall(name string) ([]byte, error) { return readSmallUpTo(name, 4096) }

// readSmallUpTo reads a regular file of the layout of at most max bytes, without following a
// link or blocking on a FIFO.
func readSmallUpTo(name string, max int64) ([]byte, error) {
	b, _, err := readSmallFileUpTo(name, max)
	return b, err
}

// readSmallFileUpTo is readSmallUpTo, which also returns the information of the file read.
func readSmallFileUpTo(name string, max int64) ([]byte, os.FileInfo, error) {
	return readLockedUpTo(name, max, nil)
}

// readTakenUpTo is readSmallUpTo for a ledger that a trim took (see takeStored): it reads
// it once the appends that opened it before it was taken are done (see appendTo), and
// reports false if it could not wait for them (one may still append to it).
func readTakenUpTo(name string, max int64) ([]byte, bool, error) {
	var whole bool
	b, _, err := readLockedUpTo(name, max, &whole)
	return b, whole, err
}

// readLockedUpTo is readSmallFileUpTo, under an exclusive lock of the file if whole is not
// nil, which it sets to whether no append could be under way as it read.
func readLockedUpTo(name string, max int64, whole *bool) ([]byte, os.FileInfo, error) {
	f, fi, err := openRegular(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if whole != nil {
		held, timedOut := lockOpen(f, true, ledgerLockWait)
		*whole = !timedOut
		if held {
			if fi, err = f.Stat(); err != nil {
				return nil, nil, err
			}
		}
	}
	if fi.Size() > max {
		return nil, nil, fmt.Errorf("cache: %s is not a file of the cache", name)
	}
	b := bytes.NewBuffer(make([]byte, 0, fi.Size()+bytes.MinRead))
	_, err = b.ReadFrom(io.LimitReader(f, max))
	return b.Bytes(), fi, err
}

// lockTrim takes the trim lock of the namespace root: it creates trim.lock exclusively, or
// takes over one older than staleLock (or dated in the future), left by a trim that died. It
// reports false when another process holds the lock, and whether the lock it took was left
// by a trim that did not end (or is not a lock, so that the trim runs unlocked): that trim
// may have taken the ledger with it, which must then not be relied on (see trimRun.bound).
func lockTrim(root string, now time.Time) (unlock func(), ok, tookOver bool, err error) {
	name := filepath.Join(root, lockFile)
	for range 2 {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			host, _ := os.Hostname()
			fmt.Fprintf(f, "%d %s\n", os.Getpid(), host)
			f.Close()
			os.Chtimes(name, now, now)
			return func() { os.Remove(name) }, true, tookOver, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, false, false, err
		}
		fi, serr := os.Lstat(name)
		if serr != nil {
			continue // released meanwhile: try again
		}
		if !fi.Mode().IsRegular() {
			// Not a lock of ours: a link, a FIFO, a directory. It goes if it can without
			// deleting anything it holds; otherwise the trim runs unlocked, which costs at
			// worst a trim done twice, rather than none ever again.
			if os.Remove(name) != nil {
				return func() {}, true, true, nil
			}
			continue
		}
		if age := now.Sub(effective(fi.ModTime(), now)); age < staleLock && !lockerGone(name) {
			return nil, false, false, nil
		}
		os.Remove(name) // a crashed trim's
		tookOver = true
	}
	return nil, false, false, nil
}

// lockerGone reports whether the trim lock name was left by a process of this machine that
// no longer runs (it exited without releasing it, or was killed mid-trim): then it need not
// age for staleLock before it is taken over. A lock of another machine (a shared directory)
// cannot be checked.
func lockerGone(name string) bool {
	b, err := readSmall(name)
	if err != nil {
		return false
	}
	var pid int
	var host string
	if n, _ := fmt.Sscanf(string(b), "%d %s", &pid, &host); n < 1 || pid <= 0 {
		return false
	}
	if me, _ := os.Hostname(); host != me {
		return false
	}
	return processGone(pid)
}

// versionLastUsed returns when a Cache of the version directory vdir last showed that it
// was in use: the modification time of its version.txt, or of the directory itself.
func versionLastUsed(vdir string, now time.Time) time.Time {
	var t time.Time
	for _, name := range []string{filepath.Join(vdir, versionFile), vdir} {
		if fi, err := os.Stat(name); err == nil {
			if m := believed(name, fi.ModTime(), now); m.After(t) {
				t = m
			}
		}
	}
	return t
}

// touchVersion marks the Cache's version as in use, at most once per mtimeInterval, so that
// other versions' trims keep its directory: see oldVersionAge.
func (c *Cache) touchVersion() {
	now := c.now()
	last := c.versionUsed.Load()
	if now.UnixNano()-last < int64(mtimeInterval) || !c.versionUsed.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	if os.Chtimes(filepath.Join(c.versionDir, versionFile), now, now) != nil {
		c.initDir() // removed by another version's trim, or by Clear: best effort
	}
}

// lastTrim returns the time recorded in the trim.txt of the namespace root, or the zero
// time if there is none.
func lastTrim(root string) time.Time {
	b, err := readSmall(filepath.Join(root, trimFile))
	if err != nil {
		return time.Time{}
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// Trim trims the Cache's namespace now: it removes the directories of other versions that
// were not used for two hours, stale temporary files, the entries unused for Options.MaxAge
// and then the least recently used entries until the namespace fits in 90% of
// Options.MaxBytes. Unlike the trims that run on their own, in the background after a store
// at most once per hour across the processes sharing the namespace (or when their stores
// passed the budget or a quarter of it), it lists every entry, not only the directories that
// changed since the last trim, and evicts from what it lists. Close does not stop it. Trim
// does nothing when the disk tier is disabled.
func (c *Cache) Trim() error {
	if c.diskOff.Load() {
		return nil
	}
	return c.trim(true, nil)
}

// trim trims the namespace, listing every shard directory in its first round if thorough
// (see trimNamespace; the rounds after it answer the stores made meanwhile). When stop (if
// not nil) says so, the trim stops early if it can show the namespace within its budget
// without going on (trimRun.stopNow); a trim of a full disk never does.
func (c *Cache) trim(thorough bool, stop func() bool) error {
	// One trim of this Cache at a time: Trim waits for a background one rather than
	// finding the namespace locked by it and doing nothing.
	c.trimMu.Lock()
	defer c.trimMu.Unlock()
	written := c.written.Swap(0)
	full := c.diskFull.Swap(false)
	for round := 0; ; round++ {
		res, err := trimNamespace(&trimRun{
			root: c.root, keep: filepath.Base(c.versionDir), maxBytes: c.opts.MaxBytes, maxAge: c.opts.MaxAge,
			now: c.now(), full: full, thorough: thorough && round == 0 || full, step: c.trimStep, stop: stop,
			// What this Cache stored, and a little more for what rounding and the
			// explainer's files add: see quickEvict.
			quickLimit: written + c.opts.MaxBytes/64,
		})
		c.stats.trimmed.Add(uint64(res.Files))
		if err == errTrimStopped {
			// Close stopped it, the namespace within its budget: it is no failure, and
			// the namespace stays due, for the next store of any process.
			c.stats.trimsStopped.Add(1)
			c.written.Add(written)
			// Unless others stored past the room it left, whose trims found the lock
			// held (checked after unlocking, as below): one more round evicts that,
			// and stops.
			if lookAgain(round, res, false) && c.pastRoom() {
				full, written = false, c.written.Swap(0)
				continue
			}
			return nil
		}
		if err == errTrimBusy {
			// Another process is trimming, and may have listed the namespace before
			// this one's last stores: the next store tries again, and so does that
			// process once it has unlocked (below).
			c.written.Add(written)
			if full {
				c.diskFull.Store(true)
			}
			return nil
		}
		c.stats.trims.Add(1)
		// Others stored a quarter of the budget while this trim ran, and those whose
		// trim found the lock held may have nothing more to store (short-lived
		// processes): trim again. Checked after unlocking, this sees every store whose
		// trim found the lock held.
		if err != nil || !lookAgain(round, res, stop != nil && !stop()) || ledgerSize(c.root)*ledgerUnit < c.opts.MaxBytes/4 && !c.pastRoom() {
			return err
		}
		full, written = false, c.written.Swap(0)
	}
}

// lookAgain reports whether a trim whose round round (from 0) ended with res looks again,
// after unlocking, for the stores of others past the room it left (whose trims found its
// lock held, and left them to it): for four rounds, and after those, while its Cache is
// open, for as long as each round evicts something. Others may store during each round; a
// holder that stopped looking while they still did, and they closing, would leave the
// namespace past its budget. A round that evicted nothing while the namespace stays past
// its room (a room that cannot be written) ends it. A Cache that is closing (whose Close
// would otherwise wait for as long as others store), Cache.Trim and TrimDir, asked to trim
// once, stop after four rounds: the next store past the room, of any process, finds the
// lock free and trims.
func lookAgain(round int, res TrimResult, open bool) bool {
	return round < 3 || open && res.Files > 0
}

// ledgerSize returns the size of the namespace's ledgers: about the KiB the namespace grew
// by since the last trim started.
func ledgerSize(root string) int64 {
	return fileSize(filepath.Join(root, ledgerFile)) + growth(root)
}

// growth returns the size of the ledgers that roomFile measures the namespace's room by:
// about the KiB stored, and the KiB the miss explainer's files grew by, since the last
// trim started.
func growth(root string) int64 {
	return fileSize(filepath.Join(root, storedFile)) + fileSize(filepath.Join(root, recordedFile))
}

// fileSize returns the size of the regular file name, or 0.
func fileSize(name string) int64 {
	fi, err := os.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}

// afterStore records n bytes stored in the shard directory shard in the namespace's ledger
// and starts a background trim when the namespace is due: the ledger passed the room the
// last trim left (roomFile: the namespace is over its budget, and the trim evicts about what
// was stored), this Cache or all the processes sharing the namespace together (the ledger)
// stored a quarter of the budget since the last trim, or the last trim is trimInterval old
// (checked at most every trimCheckInterval). Nothing runs while the program does not store:
// there is no timer.
func (c *Cache) afterStore(n int64, shard byte) {
	now := c.now()
	size := c.ledger(n, shard)
	if size > 0 {
		size += fileSize(filepath.Join(c.root, recordedFile))
	}
	grown := size*ledgerUnit >= c.opts.MaxBytes/4 || size > roomThreshold(c.root, c.opts.MaxBytes, size)
	next := c.nextTrim.Load()
	if !grown && now.UnixNano() < next && c.written.Load() < c.opts.MaxBytes/4 {
		return
	}
	if !grown && !c.nextTrim.CompareAndSwap(next, now.UnixNano()+int64(trimCheckInterval)) {
		return // another store is starting the check
	}
	c.startTrim(func() bool {
		return grown || c.written.Load() >= c.opts.MaxBytes/4 || trimDue(lastTrim(c.root), c.now())
	})
}

// afterRecords records in the namespace's ledger (recordedFile) that the miss explainer's
// files grew by n bytes on disk, and starts a background trim when that takes the
// namespace past the room the last trim left, as afterStore does for entries: records are
// trimmed like entries, and a key of many fields makes a record larger than its entry.
// (During Close, which starts no trim, the trim it would start runs at the end of Close:
// see trimAtClose.)
func (c *Cache) afterRecords(n int64) {
	release := c.ioSlot()
	size := appendBytes(filepath.Join(c.root, recordedFile), 0, (n+ledgerUnit-1)/ledgerUnit)
	release()
	// One that cannot be appended to (something else in its place that cannot be
	// removed) counts nothing: a trim, which counts the files as they are, then decides.
	if size == 0 || c.pastRoom() {
		c.startTrim(func() bool { return true })
	}
}

// pastRoom reports whether the namespace's growth (its stores, and its explainer's files)
// passed the room the last trim left.
func (c *Cache) pastRoom() bool { return pastRoom(c.root, c.opts.MaxBytes) }

// pastRoom reports whether the growth of the namespace root passed the room the last trim
// left it, by the budget maxBytes.
func pastRoom(root string, maxBytes int64) bool {
	size := growth(root)
	return size > roomThreshold(root, maxBytes, size)
}

// roomThreshold returns the size of storedFile past which the namespace root is over the
// budget maxBytes, by what the last trim wrote in roomFile: the size storedFile had then,
// and the bound of the namespace it found. It returns 0 if it cannot tell: no trim wrote it
// (a trim removes it as it takes the ledger, and writes it at its end if it has a bound), or
// it is not a file of ours, or damaged (a trim killed as it wrote it), or of another ledger
// than the one of size now (which only grows until a trim takes it). The next store then
// starts a trim, which writes it. It is read at every store: a trim writes it in place, and
// a change within one tick of the file system's clock would not show in its mtime.
func roomThreshold(root string, maxBytes, now int64) int64 {
	b, err := readSmall(filepath.Join(root, roomFile))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return 0
	}
	var n [3]int64
	for i := range n {
		if n[i], err = strconv.ParseInt(f[i], 10, 64); err != nil || n[i] < 0 {
			return 0
		}
	}
	size, bound := n[0], n[1]
	if bound > math.MaxInt64-size || n[2] != size+bound || size > now { // torn, damaged or stale
		return 0
	}
	return max(0, size+(maxBytes-bound)/ledgerUnit)
}

// trimSoon starts a background trim now, whatever the time of the last one: the disk is full.
func (c *Cache) trimSoon() {
	c.diskFull.Store(true)
	c.startTrim(func() bool { return true })
}

// startTrim runs a trim in the background if due() says so, unless one is running.
func (c *Cache) startTrim(due func() bool) {
	if !c.trimming.CompareAndSwap(false, true) {
		return
	}
	if !c.begin() {
		c.trimming.Store(false)
		if due() {
			c.trimRefused.Store(true) // Close runs it once what it waits for is done
		}
		return
	}
	go func() {
		defer c.wg.Done()
		for round := 0; ; round++ {
			c.backgroundTrim(due)
			c.trimming.Store(false)
			// A store or an append of records of this Cache that took the namespace
			// past its room while the trim ran, after its last look, found it running
			// and started none; with none to come (Close), the namespace would stay
			// over its budget. Looked at after clearing c.trimming, this sees each of
			// them.
			if round == 2 || !c.pastRoom() || !c.trimming.CompareAndSwap(false, true) {
				return
			}
			due = func() bool { return true }
		}
	}()
}

// backgroundTrim runs a trim of the namespace, which Close may stop, if due() says so.
func (c *Cache) backgroundTrim(due func() bool) {
	// A trim is written to survive being cut short (a crash, a kill): one that panics is
	// cut short too, and is an error of the cache, not the end of the program.
	defer func() {
		if p := recover(); p != nil {
			c.fail(fmt.Errorf("cache: trimming %s panicked: %v\n%s", c.root, p, debug.Stack()))
		}
	}()
	// Not in a namespace that the disk tier gave up since (recheck found it replaced).
	if c.diskOff.Load() || !due() {
		return
	}
	defer c.ioSlot()()
	if err := c.trim(false, c.stopping.Load); err != nil {
		c.fail(err)
	}
}

// ledger appends a byte per KiB of n (at least one), the shard directory's number, to the
// namespace's ledger and returns its size: about the KiB stored in the namespace, by every
// process, since the last trim.
func (c *Cache) ledger(n int64, shard byte) int64 {
	defer c.ioSlot()()
	// What the store costs on disk: whole 4 KiB blocks.
	return appendStored(c.root, shard, (n+4095)/4096*(4096/ledgerUnit))
}

// appendLedger appends k bytes of growth of unknown place to the ledger of the namespace
// root (ledgerFile) and returns its size, or 0 if it cannot.
func appendLedger(root string, k int64) int64 {
	return appendBytes(filepath.Join(root, ledgerFile), 0, k)
}

// appendStored appends k bytes stored in the shard directory shard to the ledger of the
// namespace root (storedFile) and returns its size, or 0 if it cannot.
func appendStored(root string, shard byte, k int64) int64 {
	return appendBytes(filepath.Join(root, storedFile), shard, k)
}

// appendBytes appends k bytes b to the ledger file name and returns its size, or 0 if it
// cannot.
func appendBytes(name string, b byte, k int64) int64 {
	var buf [4096]byte
	if b != 0 {
		for i := range min(k, int64(len(buf))) {
			buf[i] = b
		}
	}
	return appendWith(name, func(f *os.File) error {
		for k > 0 {
			m := min(k, int64(len(buf)))
			if _, err := f.Write(buf[:m]); err != nil {
				return err
			}
			k -= m
		}
		return nil
	})
}

// appendFile appends b to the ledger file name and returns its size, or 0 if it cannot.
func appendFile(name string, b []byte) int64 {
	if len(b) == 0 {
		return fileSize(name)
	}
	return appendWith(name, func(f *os.File) error {
		_, err := f.Write(b)
		return err
	})
}

// appendWith opens the ledger file name for appending, creating it, calls write and returns
// the file's size then, or 0 if it cannot.
func appendWith(name string, write func(*os.File) error) int64 {
	for range 3 {
		f := openOwn(name, openAppend)
		if f == nil {
			return 0
		}
		size, taken := appendTo(f, name, write)
		f.Close()
		if !taken {
			return size
		}
	}
	return 0
}

// ledgerLockWait bounds how long an append to a ledger waits for its lock, and a trim that
// took the ledger waits for the appends under way (see appendTo): each holds it for
// microseconds, and only something else (a process stopped as it appended, a program that
// locks the file) holds it longer.
const ledgerLockWait = time.Second

// appendTo appends to the ledger f, opened as name, with write, and returns its size then
// (0 if it cannot), or reports that a trim took the ledger (renamed it: see takeStored)
// since f was opened: nothing was appended, and the caller appends to the next ledger.
// It appends under a shared lock of f, with name still leading to f, and the trim reads
// what it took under an exclusive lock: an append that opened the ledger before the trim
// renamed it and wrote after the trim read it would be lost, and the namespace would hold
// a store that no ledger and no listing counts. (Without locks, on Windows, a file open
// for appending cannot be renamed, and the trim cannot take it. An append that cannot
// have the lock for ledgerLockWait, which no trim holds that long, appends without it.)
func appendTo(f *os.File, name string, write func(*os.File) error) (size int64, taken bool) {
	if held, _ := lockOpen(f, false, ledgerLockWait); held {
		fi, err := f.Stat()
		now, err2 := os.Lstat(name)
		if err != nil || err2 != nil || !os.SameFile(fi, now) {
			return 0, true
		}
	}
	if write(f) != nil {
		return 0, false
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, false
	}
	return fi.Size(), false
}

// openOwn opens the file name of the layout with open, which creates it, after removing
// what stands there that is not a regular file (a FIFO would block, a link lead elsewhere;
// a directory goes only if empty), or returns nil if it cannot open a regular file.
func openOwn(name string, open func(string) (*os.File, error)) *os.File {
	if fi, err := os.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		os.Remove(name)
	}
	f, err := open(name)
	if err != nil {
		return nil
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil
	}
	return f
}

// clearVersion removes the recognised files of a version directory, then the directory and
// its shard directories if they are empty.
func clearVersion(vdir string) (TrimResult, error) {
	var res TrimResult
	files, err := scanVersion(vdir)
	if err != nil {
		if errNotExist(err) {
			return res, nil
		}
		return res, err
	}
	for _, f := range files {
		res.removed(f)
	}
	vf := filepath.Join(vdir, versionFile)
	if fi, err := os.Stat(vf); err == nil {
		res.removed(layoutFile{path: vf, size: fi.Size()})
	}
	if des, err := os.ReadDir(vdir); err == nil {
		for _, de := range des {
			if de.IsDir() && isShardDir(de.Name()) {
				os.Remove(filepath.Join(vdir, de.Name())) // fails if not empty: kept
			}
		}
	}
	os.Remove(vdir)
	return res, nil
}

// namespaces returns the namespace directories under dir: namespace itself when it is not "",
// or every subdirectory with a valid namespace name; each must be a directory (not a link)
// tagged as a cache.
func namespaces(dir, namespace string) ([]string, error) {
	if namespace != "" {
		if !namespaceRE.MatchString(namespace) {
			return nil, fmt.Errorf("cache: invalid namespace %q", namespace)
		}
		if _, err := os.Lstat(filepath.Join(dir, namespace)); err == nil && !tagged(filepath.Join(dir, namespace)) {
			return nil, fmt.Errorf("cache: %s is not a cache namespace (it has no %s; a Cache opened on it writes one)", filepath.Join(dir, namespace), tagFile)
		}
		return []string{namespace}, nil
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: listing namespaces: %w", err)
	}
	var ns []string
	for _, de := range des {
		if de.IsDir() && namespaceRE.MatchString(de.Name()) && tagged(filepath.Join(dir, de.Name())) {
			ns = append(ns, de.Name())
		}
	}
	if len(ns) == 0 {
		return nil, fmt.Errorf("cache: %s is not a cache directory (no namespace in it has a %s; a Cache opened on it writes one)", dir, tagFile)
	}
	return ns, nil
}

// TrimDir trims the namespace of dir, or every namespace when namespace is "", as Cache.Trim
// does except that no version is current: the entries of all versions are trimmed together,
// by age and least recent use. maxBytes and maxAge of 0 select DefaultMaxBytes and
// DefaultMaxAge.
func TrimDir(dir, namespace string, maxBytes int64, maxAge time.Duration) (TrimResult, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	var total TrimResult
	if err := checkDir(dir, namespace); err != nil {
		return total, err
	}
	nss, err := namespaces(dir, namespace)
	if err != nil {
		return total, err
	}
	var errs []error
	for _, ns := range nss {
		res, err := trimDirNamespace(filepath.Join(dir, ns), maxBytes, maxAge, nil)
		total.add(res)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

// trimDirNamespace trims the namespace root for TrimDir, calling step (if not nil) before
// each shard directory it lists.
func trimDirNamespace(root string, maxBytes int64, maxAge time.Duration, step func()) (TrimResult, error) {
	var total TrimResult
	for round := 0; ; round++ {
		res, err := trimNamespace(&trimRun{root: root, maxBytes: maxBytes, maxAge: maxAge, now: time.Now(), thorough: round == 0, step: step,
			quickLimit: growth(root)*ledgerUnit + maxBytes/64})
		total.add(res)
		if err == errTrimBusy {
			return total, nil
		}
		// The programs whose stores passed the room this trim left, while it ran, found
		// its lock held and left them to it: look again after unlocking, as a Cache does.
		if err != nil || !lookAgain(round, res, false) || !pastRoom(root, maxBytes) {
			return total, err
		}
	}
}

// Clear removes everything the cache wrote in the namespace of dir, or in every namespace
// when namespace is "": entries, temporary files, version and trim records, and the
// directories they leave empty. Files and directories it does not recognise are kept. Like
// TrimDir and Usage, it refuses a directory without a cache directory tag (CACHEDIR.TAG).
func Clear(dir, namespace string) (TrimResult, error) {
	var total TrimResult
	if err := checkDir(dir, namespace); err != nil {
		return total, err
	}
	nss, err := namespaces(dir, namespace)
	if err != nil {
		return total, err
	}
	var errs []error
	for _, ns := range nss {
		root := filepath.Join(dir, ns)
		des, err := os.ReadDir(root)
		if err != nil {
			if !errNotExist(err) {
				errs = append(errs, err)
			}
			continue
		}
		for _, de := range des {
			name := de.Name()
			path := filepath.Join(root, name)
			switch {
			case de.IsDir() && isVersionDir(name):
				res, err := clearVersion(path)
				total.add(res)
				if err != nil {
					errs = append(errs, err)
				}
			case !de.IsDir() && (name == trimFile || name == stateFile || name == ledgerFile || name == storedFile || name == roomFile || name == recordedFile ||
				name == lockFile || isExplainFile(name) || isStateTemp(name) || isTemp(name, isExplainFile)):
				if fi, err := de.Info(); err == nil {
					total.removed(layoutFile{path: path, size: fi.Size()})
				}
			}
		}
		// The tag goes last, and only with the directory: a namespace that keeps files the
		// cache did not write stays a cache namespace.
		if des, err := os.ReadDir(root); err == nil && len(des) == 1 && des[0].Name() == tagFile {
			if fi, err := des[0].Info(); err == nil {
				total.removed(layoutFile{path: filepath.Join(root, tagFile), size: fi.Size()})
			}
		}
		os.Remove(root) // fails if something unrecognised is left: kept
	}
	if err := errors.Join(errs...); err != nil {
		return total, fmt.Errorf("cache: clearing: %w", err)
	}
	return total, nil
}

// VersionUsage is the disk usage of one version of one namespace.
type VersionUsage struct {
	Namespace string    // the namespace directory's name
	VersionID string    // the version directory's name: a hash of Version
	Version   string    // the version string, from the directory's version.txt ("" if missing)
	Entries   int       // number of entry files
	Bytes     int64     // total size of the entry files
	TempFiles int       // temporary files: stores in progress or left by crashed writers
	TempBytes int64     // total size of the temporary files
	Oldest    time.Time // least recent use of an entry (zero without entries)
	Newest    time.Time // most recent use of an entry
}

// Usage reports the disk usage of the namespace of dir, or of every namespace when namespace
// is "", per version, sorted by namespace and version directory.
func Usage(dir, namespace string) ([]VersionUsage, error) {
	if err := checkDir(dir, namespace); err != nil {
		return nil, err
	}
	nss, err := namespaces(dir, namespace)
	if err != nil {
		return nil, err
	}
	var out []VersionUsage
	for _, ns := range nss {
		root := filepath.Join(dir, ns)
		des, err := os.ReadDir(root)
		if err != nil {
			if errNotExist(err) {
				continue
			}
			return out, fmt.Errorf("cache: usage: %w", err)
		}
		for _, de := range des {
			if !de.IsDir() || !isVersionDir(de.Name()) {
				continue
			}
			vdir := filepath.Join(root, de.Name())
			u := VersionUsage{Namespace: ns, VersionID: de.Name()}
			if b, err := readSmall(filepath.Join(vdir, versionFile)); err == nil {
				u.Version = strings.TrimSuffix(string(b), "\n")
			}
			files, err := scanVersion(vdir)
			if err != nil && !errNotExist(err) {
				return out, fmt.Errorf("cache: usage: %w", err)
			}
			for _, f := range files {
				if f.temp {
					u.TempFiles++
					u.TempBytes += f.size
					continue
				}
				u.Entries++
				u.Bytes += f.size
				if u.Oldest.IsZero() || f.mtime.Before(u.Oldest) {
					u.Oldest = f.mtime
				}
				if f.mtime.After(u.Newest) {
					u.Newest = f.mtime
				}
			}
			out = append(out, u)
		}
	}
	return out, nil
}
