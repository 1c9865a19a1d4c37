package cache

import (
	"bytes"
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A trim lists again only the shard directories that changed since a trim last listed them,
// and keeps what it found in the namespace's stateFile: the size of the namespace is then
// known without a stat of every entry, which made each trim cost as much as a listing of the
// whole cache. A shard directory's mtime changes whenever a file is created, renamed into it
// or removed (a store's temporary file and its rename included), so one whose mtime is the
// one recorded holds the files recorded, with the sizes recorded; only their mtimes may have
// moved, forward (a hit's refresh), which keeps the recorded oldest one a safe bound for the
// MaxAge rule.
const (
	// stateFile, in a namespace: per shard directory, what the last trim that listed it
	// found there (see trimState).
	stateFile = "trimstate.txt"
	// stateHeader is the first line of the stateFile; another one is ignored.
	stateHeader = "cachegen trim state 2"
	// maxCands is how many of a shard directory's least recently used entries the state
	// keeps, for the evictions that follow a store without listing (see quickEvict).
	maxCands = 16
	// quickMin is how many entries quickEvict removes at least once it removes any, within
	// a sixty-fourth of the budget: one trim then serves several short runs' stores.
	quickMin = 16
	// maxStateBytes bounds the stateFile that a trim reads: about 60 000 shard directories.
	maxStateBytes = 16 << 20
	// racyDir is how recently (by this machine's clock) a shard directory may have been
	// modified for its listing to be trusted later: a change in the same tick of the file
	// system's clock as the listing would leave the mtime as recorded. A directory modified
	// more recently is listed again by the next trim.
	racyDir = 2 * time.Second
	// relistAge is how long a trim trusts what another trim found in an unchanged shard
	// directory: a safety net for file systems whose directory mtimes are coarse or lag.
	relistAge = 24 * time.Hour
)

// errTrimBusy says that another process holds the namespace's trim lock.
var errTrimBusy = errors.New("cache: another process is trimming")

// errTrimStopped says that a trim stopped before its end, as its stop function asked, with
// the namespace within its budget (see trimRun.stopNow).
var errTrimStopped = errors.New("cache: trim stopped")

// removeBatch is how many files a trim removes from an old version's shard directory
// between two looks at its stop function.
const removeBatch = 32

// A shardSum is what a trim found in a shard directory.
type shardSum struct {
	dirMod int64 // the directory's mtime (Unix ns) before the listing; 0: list it again
	listed int64 // when it was listed (Unix ns, by the trim's clock)
	files  int   // entry files
	temps  int   // temporary files
	alloc  int64 // bytes they take on disk
	oldest int64 // mtime (Unix ns) of the least recently used entry; 0 without entries
	// cands are the least recently used entries the listing found, at most maxCands, the
	// oldest first, less those evicted since; rest is the mtime of the last of them when
	// the listing found more (the others were used no earlier), 0 otherwise.
	cands []cand
	rest  int64
}

// A cand is an entry of a shard directory that a trim found among its least recently used.
type cand struct {
	name  string // the entry file's name
	mtime int64  // Unix ns
	alloc int64
}

// trimState is the content of a stateFile: a shardSum per shard directory, by
// "<version id>/<shard>".
type trimState struct {
	shards map[string]shardSum
}

// readState reads the stateFile of the namespace root; a missing or damaged one reads as
// empty, which makes the trim list every shard directory. A line of a shard directory is
// followed by its candidates (see shardSum), each on a line that starts with '+'.
func readState(root string) (trimState, []byte) {
	st := trimState{shards: map[string]shardSum{}}
	b, err := readSmallUpTo(filepath.Join(root, stateFile), maxStateBytes)
	if err != nil {
		return st, nil
	}
	lines := strings.Split(string(b), "\n")
	if lines[0] != stateHeader {
		return st, nil
	}
	var last string // the shard directory whose candidates follow
	for _, line := range lines[1:] {
		if strings.HasPrefix(line, "+") {
			s, ok := st.shards[last]
			if !ok {
				continue
			}
			switch c, cok := parseCand(last, line[1:]); {
			case !cok || len(s.cands) == maxCands || len(s.cands) > 0 && c.mtime < s.cands[len(s.cands)-1].mtime:
				// Damaged: the directory is listed again.
				delete(st.shards, last)
			default:
				if s.cands == nil {
					s.cands = make([]cand, 0, maxCands)
				}
				s.cands = append(s.cands, c)
				st.shards[last] = s
			}
			continue
		}
		last = ""
		f := strings.Fields(line)
		if len(f) != 8 {
			continue
		}
		vid, sh, ok := strings.Cut(f[0], "/")
		if !ok || !isVersionDir(vid) || !isShardDir(sh) {
			continue
		}
		var n [7]int64
		for i := range n {
			if n[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil || n[i] < 0 {
				ok = false
			}
		}
		if ok {
			st.shards[f[0]] = shardSum{dirMod: n[0], listed: n[1], files: int(n[2]), temps: int(n[3]), alloc: n[4], oldest: n[5], rest: n[6]}
			last = f[0]
		}
	}
	for key, s := range st.shards {
		// Candidates that do not fit what the line says are the mark of a damaged file.
		if s.files < len(s.cands) || s.rest == 0 && s.files > len(s.cands) {
			delete(st.shards, key)
		}
	}
	return st, b
}

// parseCand parses a candidate's line of the shard directory key, after its '+': the entry's
// name, its mtime and what it takes on disk. The name is a part of line: no copy.
func parseCand(key, line string) (cand, bool) {
	name, rest, ok1 := strings.Cut(line, " ")
	m, a, ok2 := strings.Cut(rest, " ")
	mtime, err1 := strconv.ParseInt(m, 10, 64)
	alloc, err2 := strconv.ParseInt(a, 10, 64)
	if !ok1 || !ok2 || !entryIn(key[len(key)-2:])(name) || err1 != nil || err2 != nil || mtime <= 0 || alloc < 0 {
		return cand{}, false
	}
	return cand{name, mtime, alloc}, true
}

// An nsFile is a file that a trim may remove.
type nsFile struct {
	name  string    // its name in its shard directory; its whole path when sh is nil
	sh    *shardRun // its shard directory; nil for the files of the root and version directories
	size  int64
	alloc int64 // bytes allocated on disk: what counts against the budget
	mtime int64 // Unix ns, as believed
	temp  bool
	gone  bool // removed (or given up on) by this trim
	// now is what a file of the root (see othersNow) and its older half take, by
	// sizeOthers.
	now int64
	// requeued counts the times eviction found it used since its listing (evictLRU).
	requeued uint8
}

func (f *nsFile) path() string {
	if f.sh == nil {
		return f.name
	}
	return f.sh.path + string(filepath.Separator) + f.name
}

// A shardRun is a shard directory in a trim.
type shardRun struct {
	key      string    // <version id>/<shard>
	idx      byte      // the shard's number: the first byte of its entries' keys
	path     string    // the directory
	dirAlloc int64     // what the directory itself takes on disk
	dirTime  time.Time // its mtime before the trim listed it
	sum      *shardSum // what a trim found in it; nil if none did
	listed   bool      // listed by this trim: files holds what it found
	gone     bool      // removed, or vanished
	files    []nsFile  // what the listing found: one allocation per directory, not per file
}

// trimRun is one trim of a namespace.
type trimRun struct {
	root     string
	keep     string // the current version's directory, "" for none: see trimNamespace
	maxBytes int64
	maxAge   time.Duration
	now      time.Time
	full     bool   // the file system is full: free half of what the namespace takes
	thorough bool   // list every shard directory, changed or not
	step     func() // if set, called before each shard directory is listed or cleared (tests)
	// clock, if set, is the machine's clock that a listing's start is read from (tests);
	// time.Now otherwise. now is the trim's time, which a listing may outlast.
	clock func() time.Time
	// stop, if set, reports that the trim is asked to stop (Close): it stops when it can
	// show the namespace within its budget without going on (see stopNow).
	stop func() bool

	// noStop: the trim took over the lock of a trim that did not end, or runs unlocked
	// (see lockTrim), or found a ledger it could not start again, and runs to its end.
	noStop bool
	// unread: a directory could not be read. Its recorded size may be out of date (it is
	// listed because it changed), so the trim ends as one that failed: the ledger goes
	// back and trim.txt stays, and the next store trims again.
	unread bool

	res    TrimResult
	state  trimState
	saved  []byte // the stateFile as read
	shards []*shardRun
	others []*nsFile // the miss explainer's files and version directories' temporary files
	// stateHeld, when not 0, is stateAlloc(false) as quickEvict found it when it began or
	// last listed a directory: its evictions only shorten the state, and it looks at the
	// bound after each.
	stateHeld int64
	// stateFound is what the stateFile takes, as the trim found it or last wrote it;
	// trimFound says that the trim found trim.txt (see stateAlloc).
	stateFound int64
	trimFound  bool
	// othersSized says that sizeOthers sized t.others; othersSizings counts its runs.
	othersSized   bool
	othersSizings int
	own           int64 // what the trim's own files, the cache directory tag and the directories of the layout take on disk
	// versions are the version directories, not being removed, whose every shard
	// directory the trim found: the others of theirs are recorded empty (saveState).
	versions []string
	olds     []*oldVersion // the version directories to remove, after the budget's work
	grown    int64         // bytes stored since the last trim started, of unknown place, by the ledger
	// grownBy is what was stored since the last trim started, by the storedFile, in each
	// shard directory (of any version) by its number.
	grownBy [256]int64
	// quickLimit is the most that quickEvict may remove: about what the Cache stored; 0
	// for no quick eviction. tookLimit is the most that its second pass may remove (see
	// trim): what the ledgers the trim took say was stored by every process, and a little.
	quickLimit, tookLimit int64
	// partial is set when the trim failed before it found every shard directory: the
	// state keeps what it said of the others.
	partial bool
	errs    []error
}

// An oldVersion is a version directory that no Cache used for oldVersionAge, which the trim
// removes.
type oldVersion struct {
	path   string
	mtime  time.Time   // the directory's mtime before the trim: see clearOld
	shards []*shardRun // its shard directories, with what the state says of them
	files  []*nsFile   // the temporary files of its version.txt
	own    int64       // what the directory and its version.txt take, until clearOld removes them
}

// trimNamespace trims the namespace directory root as t says. Temporary files older than
// staleTemp and entries unused for maxAge are removed, and, if the namespace still takes
// more than maxBytes on disk (counting the blocks files and shard directories occupy),
// temporary files older than tempGrace and then the least recently used entries until it
// fits in 90% of maxBytes. Then, when t.keep is not "", the version directories other than
// keep that no Cache used for oldVersionAge are removed: last, since removing a large one
// takes long, and what it holds does not count against the budget (as the budget's work
// does not count it). Finally trim.txt records the time; the ledger starts again when the
// trim does.
//
// Unless t.thorough, the trim first evicts what stores took past the budget from the
// candidates the stateFile keeps (quickEvict); then only the shard directories that changed
// since a trim listed them are listed, with those holding entries or temporary files that
// may have aged: the stateFile holds what the others hold. When the namespace is still over
// budget every directory is listed and the least recently used entries of all go first. A
// trim that fails records what it listed, leaves trim.txt as it was (the namespace stays
// due) and gives the ledgers back what it took from them; so does a trim that t.stop stopped
// (stopNow), which returns errTrimStopped, except for what was stored in the shard
// directories it listed. Every trim ends by writing roomFile.
//
// Only one process trims a namespace at a time: one that finds it locked does nothing, and
// returns errTrimBusy.
func trimNamespace(t *trimRun) (TrimResult, error) {
	unlock, ok, tookOver, err := lockTrim(t.root, t.now)
	if err != nil {
		if errNotExist(err) {
			return t.res, nil
		}
		return t.res, fmt.Errorf("cache: trimming: %w", err)
	}
	if !ok {
		return t.res, errTrimBusy
	}
	defer unlock()
	t.noStop = tookOver
	// The ledgers go first: what other processes store while this trim runs starts new
	// ones, which the next trim answers. Removed after the scan, they would forget them.
	ledger := min(fileSize(filepath.Join(t.root, ledgerFile)), t.maxBytes/ledgerUnit+1)
	if err := os.Remove(filepath.Join(t.root, ledgerFile)); err != nil && !errNotExist(err) {
		// Not a file that stores can append to (a directory with something in it): the
		// ledger says nothing of what was stored, and the trim runs to its end.
		t.noStop = true
	}
	recorded := fileSize(filepath.Join(t.root, recordedFile))
	stored, lost, ok := t.takeStored()
	if !ok {
		t.noStop = true
	}
	// The room it says is of the ledger just taken: until this trim writes it again, a
	// store starts a trim (which finds this one's lock, or takes over that of a trim
	// that was killed). The explainer's ledger goes too: the trim counts those files as
	// they are, each time it looks (othersNow).
	os.Remove(filepath.Join(t.root, roomFile))
	os.Remove(filepath.Join(t.root, recordedFile))
	var took int64
	for _, k := range stored {
		took += k
	}
	t.tookLimit = addSizes((took+recorded)*ledgerUnit, t.maxBytes/64)
	ledger = min(ledger+lost, t.maxBytes/ledgerUnit+1)
	t.grown = ledger * ledgerUnit
	// A trim that does not get to its end (an error, a panic) gives the ledgers back, under
	// the lock: the namespace's growth since the last trim stays known to the next one. A
	// trim that stopped gives back what was stored in the shard directories it did not list.
	done, stopped := false, false
	defer func() {
		if !done {
			if ledger > 0 {
				appendLedger(t.root, ledger)
			}
			covered := t.covered()
			var back []byte
			for i, k := range stored {
				if k > 0 && !(stopped && covered[i]) {
					back = append(back, bytes.Repeat([]byte{byte(i)}, int(k))...)
				}
			}
			appendFile(filepath.Join(t.root, storedFile), back)
		}
		// What the ledgers said is in them again, or in what the trim listed.
		t.grown, t.grownBy = 0, [256]int64{}
		t.saveRoom()
	}()
	t.state, t.saved = readState(t.root)
	if err = t.listRoot(); err != nil {
		return t.res, fmt.Errorf("cache: trimming: %w", err)
	}
	if err = t.trim(); err == nil {
		err = t.removeOld()
	}
	if err == nil && t.unread {
		err = fmt.Errorf("cache: trimming %s: %w", t.root, errors.Join(t.errs...))
	}
	if err == errTrimStopped {
		stopped = true
		t.fold(&stored)
		// The namespace is within its budget: what the trim listed is recorded (the
		// others keep their records), the ledger is given back (above) and trim.txt
		// is left as it was, so that the namespace stays due and the next store, of
		// any process, trims it again from there.
		t.saveState()
		return t.res, err
	}
	if err != nil {
		t.partial = true
		t.saveState()
		return t.res, err
	}
	done = true
	t.saveState()
	if err := writeFileAtomic(filepath.Join(t.root, trimFile), []byte(strconv.FormatInt(t.now.Unix(), 10)+"\n"), false); err != nil {
		t.errs = append(t.errs, err)
	}
	if err := errors.Join(t.errs...); err != nil {
		return t.res, fmt.Errorf("cache: trimming %s: %w", t.root, err)
	}
	return t.res, nil
}

// isStateTemp reports whether name is a temporary file of trim.txt or of the stateFile.
func isStateTemp(name string) bool {
	return isTemp(name, func(s string) bool { return s == trimFile || s == stateFile || s == roomFile || s == storedFile })
}

// takeStored takes the namespace's storedFile: it returns what it says was stored in each
// shard directory since the last trim (in KiB, also counted into t.grownBy) and removes it.
// A ledger longer than the budget says nothing of where: it is returned as lost, growth of
// unknown place, as much as passes the budget. It reports false when the ledger is
// something stores cannot append to, which then tells nothing of what was stored.
func (t *trimRun) takeStored() (by [256]int64, lost int64, ok bool) {
	name := filepath.Join(t.root, storedFile)
	fi, err := os.Lstat(name)
	if err != nil {
		return by, 0, errNotExist(err)
	}
	if !fi.Mode().IsRegular() {
		return by, 0, os.Remove(name) == nil
	}
	// Taken whole under another name, so that a store appending meanwhile starts the
	// next ledger rather than landing in this one after it was read. The name is this
	// trim's: one left by a killed trim is replaced, and something else there that
	// cannot be (a directory with a file in it) makes it try another.
	var taken string
	for i := range 3 {
		taken = name + ".tmp" + strconv.Itoa(i)
		if err = os.Rename(name, taken); err == nil || errNotExist(err) {
			break
		}
	}
	if err != nil {
		return by, 0, errNotExist(err)
	}
	defer os.Remove(taken)
	limit := t.maxBytes/ledgerUnit + 1
	b, whole, err := readTakenUpTo(taken, limit)
	if err != nil {
		return by, limit, true
	}
	// A store that holds the ledger's lock for longer than any append takes (stopped
	// as it appended) may append after the read: what it stored is then in no ledger,
	// and the trim counts the namespace by listing it (ok false: it cannot stop).
	ok = whole
	for _, c := range b {
		by[c]++
	}
	for i, k := range by {
		t.grownBy[i] = k * ledgerUnit
	}
	return by, 0, ok
}

// fold adds to the records of the shard directories that changed since their record, and
// that the trim, stopped, did not list, what stored (the ledger it took) says was stored in
// them, and marks the records as changed (dirMod 0): a record is then an upper bound of
// what its directory held when the ledger was taken, and the stores since are in the next
// ledger, which every trim counts for a directory that changed (and lists it, when it gets
// to it). Without it, a stopped trim gives back what was stored in every directory it did
// not list, and in a run of short runs, each stopped, the ledger grows for as long as a
// directory goes unlisted. What was stored in a directory whose record has not changed is
// in the record already. The ledger says the shard's number, not its version: it folds only
// where one directory of that number changed (another version's, changed by an eviction,
// would otherwise be counted what this one stored, at every stopped trim). It clears from
// stored what it folds or finds recorded; the rest stays, to be given back.
func (t *trimRun) fold(stored *[256]int64) {
	var unknown [256]bool
	var changed [256][]*shardRun
	visit := func(sh *shardRun) {
		if sh.gone || sh.listed {
			return
		}
		switch s := sh.sum; {
		case s == nil:
			unknown[sh.idx] = true
		case s.dirMod == 0 || s.dirMod != sh.dirTime.UnixNano() || s.temps > 0:
			changed[sh.idx] = append(changed[sh.idx], sh)
		}
	}
	for sh := range t.allShards() {
		visit(sh)
	}
	for i, k := range stored {
		if k == 0 || unknown[i] || len(changed[i]) > 1 {
			continue
		}
		for _, sh := range changed[i] {
			sh.sum.alloc = addSizes(sh.sum.alloc, k*ledgerUnit)
			sh.sum.dirMod = 0
		}
		stored[i] = 0
	}
}

// covered tells, for each shard number, whether the trim listed (or found gone) every shard
// directory of that number, of every version: what was stored in them before the trim
// started is then in what it found.
func (t *trimRun) covered() (c [256]bool) {
	for i := range c {
		c[i] = true
	}
	for sh := range t.allShards() {
		if !sh.listed && !sh.gone {
			c[sh.idx] = false
		}
	}
	return c
}

// allShards yields the shard directories of the trim: of the versions kept, then of those
// being removed.
func (t *trimRun) allShards() iter.Seq[*shardRun] {
	return func(yield func(*shardRun) bool) {
		for _, sh := range t.shards {
			if !yield(sh) {
				return
			}
		}
		for _, v := range t.olds {
			for _, sh := range v.shards {
				if !yield(sh) {
					return
				}
			}
		}
	}
}

// saveRoom writes the namespace's roomFile: the size of its ledgers now (growth) and the
// trim's bound of the namespace (see roomThreshold), or removes it when the trim has none.
// The ledgers are sized first: what grows between the two is counted by both (the bound
// sizes the explainer's files as they are), never by neither.
func (t *trimRun) saveRoom() {
	name := filepath.Join(t.root, roomFile)
	size := growth(t.root)
	t.findOthers()
	n, ok := t.bound()
	if !ok {
		os.Remove(name)
		return
	}
	// Written in place, not replaced (which on some file systems flushes the file): it
	// only tells stores when to start a trim, and the sum of the two numbers, which ends
	// it, tells a reader that sees it half written.
	b := fmt.Appendf(nil, "%-20d %-20d %-20d\n", size, n, size+n)
	if f := openOwn(name, openWrite); f != nil {
		f.WriteAt(b, 0)
		f.Close()
	}
}

// listRoot lists the namespace: the trim's own temporary files, the miss explainer's files,
// and the version directories: the shard directories of the old ones (see trimNamespace) go
// to t.olds, to be removed by removeOld, those of the others to t.shards (listVersion).
func (t *trimRun) listRoot() error {
	des, err := os.ReadDir(t.root)
	if err != nil {
		return err
	}
	// The directory itself: a block per hundred names or so (each key type of the
	// explainer is a file here), which it keeps once grown.
	if fi, err := os.Lstat(t.root); err == nil {
		t.own = addSizes(t.own, allocated(fi))
	}
	for _, de := range des {
		name := de.Name()
		path := filepath.Join(t.root, name)
		if isStateTemp(name) {
			// A killed trim's: removed once stale, counted until then.
			if fi, err := de.Info(); err == nil && t.now.Sub(believed(path, fi.ModTime(), t.now)) > staleTemp {
				t.remove(&nsFile{name: path, size: fi.Size()})
			} else if err == nil && fi.Mode().IsRegular() {
				t.own = addSizes(t.own, allocated(fi))
			}
			continue
		}
		if name == stateFile || name == trimFile || name == tagFile || name == ledgerFile {
			// Its own: they count against the budget, and stay. (The ledger and
			// room.txt, which come and go with trims, are counted as a block each
			// whether there or not, by total and bound; trim.lock goes with the trim.
			// The state and trim.txt, which this trim writes, count as what they will
			// take: see stateAlloc.)
			if fi, err := de.Info(); err == nil && fi.Mode().IsRegular() {
				switch name {
				case stateFile:
					t.stateFound = allocated(fi) // see stateAlloc
				case trimFile:
					t.trimFound = true
					fallthrough
				default:
					t.own = addSizes(t.own, allocated(fi))
				}
			}
			continue
		}
		if isExplainFile(name) {
			// The miss explainer's files count against the budget, and go first when
			// they are older than every entry.
			if fi, err := de.Info(); err == nil && fi.Mode().IsRegular() {
				t.other(&nsFile{name: path, size: fi.Size(), alloc: allocated(fi)}, fi.ModTime(), t.maxAge)
			}
			continue
		}
		if !de.IsDir() || !isVersionDir(name) {
			removeLink(path, de, isVersionDir(name), &t.res)
			continue
		}
		if t.keep != "" && name != t.keep && t.now.Sub(versionLastUsed(path, t.now)) > oldVersionAge {
			if fi, err := os.Lstat(path); err == nil {
				v := &oldVersion{path: path, mtime: fi.ModTime()}
				t.listVersion(path, name, v)
				t.olds = append(t.olds, v)
			}
			continue
		}
		t.listVersion(path, name, nil)
	}
	return nil
}

// findOthers adds to t.others the miss explainer's files made since the trim listed the
// namespace (a key type's first records): the recordedFile counts their growth as growth
// since the trim started, which the room the trim leaves must not hold already. The files
// are sized again (sizeOthers).
func (t *trimRun) findOthers() {
	defer t.sizeOthers()
	des, err := os.ReadDir(t.root)
	if err != nil {
		return
	}
	known := make(map[string]bool, len(t.others))
	for _, f := range t.others {
		known[f.name] = true
	}
	for _, de := range des {
		name := filepath.Join(t.root, de.Name())
		if !isExplainFile(de.Name()) || known[name] {
			continue
		}
		if fi, err := de.Info(); err == nil && fi.Mode().IsRegular() {
			t.others = append(t.others, &nsFile{name: name, size: fi.Size(), alloc: allocated(fi), mtime: fi.ModTime().UnixNano()})
		}
	}
}

// other adds a file outside the shard directories to the trim, or removes it when it is
// older than maxAge.
func (t *trimRun) other(f *nsFile, mtime time.Time, maxAge time.Duration) {
	f.mtime = believed(f.name, mtime, t.now).UnixNano()
	if t.now.UnixNano()-f.mtime > int64(maxAge) {
		t.remove(f)
		return
	}
	t.others = append(t.others, f)
}

// listVersion adds the shard directories of the version directory vdir to the trim, with
// what the state says of them, and the temporary files of its version.txt: to those of old
// when it is a version directory to remove.
func (t *trimRun) listVersion(vdir, vid string, old *oldVersion) {
	f, err := os.Open(vdir)
	if err != nil {
		if !errNotExist(err) {
			t.errs = append(t.errs, err)
			t.noStop, t.unread = true, true // its shard directories are unknown
			t.partial = true                // and their records stay
		}
		return
	}
	// Readdir stats each name relative to the directory: a shard directory's mtime is
	// what tells whether it changed.
	fis, err := f.Readdir(-1)
	f.Close()
	if err != nil && !errNotExist(err) {
		t.errs = append(t.errs, err)
		t.noStop, t.unread = true, true // some of its shard directories may be unknown
		t.partial = true                // and their records stay
	}
	if err == nil && old == nil {
		t.versions = append(t.versions, vid)
	}
	// The version directory and its version.txt count against the budget: those of a
	// version being removed until it is (a trim stopped before keeps them).
	own := &t.own
	if old != nil {
		own = &old.own
	}
	if fi, err := os.Lstat(vdir); err == nil {
		*own = addSizes(*own, allocated(fi))
	}
	for _, fi := range fis {
		name := fi.Name()
		path := filepath.Join(vdir, name)
		if name == versionFile && fi.Mode().IsRegular() {
			*own = addSizes(*own, allocated(fi))
			continue
		}
		if isTemp(name, func(s string) bool { return s == versionFile }) {
			if !fi.Mode().IsRegular() {
				continue
			}
			f := &nsFile{name: path, size: fi.Size(), alloc: allocated(fi), temp: true}
			if old != nil {
				old.files = append(old.files, f)
			} else {
				t.other(f, fi.ModTime(), staleTemp)
			}
			continue
		}
		if !isShardDir(name) {
			continue
		}
		if !fi.IsDir() {
			if fi.Mode()&fs.ModeSymlink != 0 {
				os.Remove(path) // see removeLink
			}
			continue
		}
		idx, _ := strconv.ParseUint(name, 16, 8)
		sh := &shardRun{key: vid + "/" + name, idx: byte(idx), path: path, dirAlloc: allocated(fi), dirTime: fi.ModTime()}
		if s, ok := t.state.shards[sh.key]; ok {
			sh.sum = &s
		}
		if old != nil {
			old.shards = append(old.shards, sh)
		} else {
			t.shards = append(t.shards, sh)
		}
	}
}

// mustList reports whether the trim must list sh although it is not thorough: no trim
// listed it, or not lately, it changed since, or it may hold temporary or aged files.
func (t *trimRun) mustList(sh *shardRun) bool {
	s := sh.sum
	if s == nil || s.dirMod == 0 || s.dirMod != sh.dirTime.UnixNano() || s.temps > 0 {
		return true
	}
	now := t.now.UnixNano()
	if d := now - s.listed; d > int64(relistAge) || d < -int64(relistAge) {
		return true
	}
	if s.files > 0 && now-s.oldest > int64(t.maxAge) {
		return true // an entry may have aged
	}
	// An empty one is listed to be removed, once no writer may have just made it.
	return s.files == 0 && t.now.Sub(sh.dirTime) > tempGrace
}

// list lists the shard directory sh: its entries and temporary files, removing the
// temporary files older than staleTemp and the entries older than maxAge, and the directory
// itself when it is empty and was not modified for tempGrace.
func (t *trimRun) list(sh *shardRun) error {
	if t.step != nil {
		t.step()
	}
	now := t.now.UnixNano()
	shard := filepath.Base(sh.path)
	isEntry := entryIn(shard)
	sh.files = sh.files[:0]
	if s := sh.sum; s != nil {
		// As many as the last listing found, in one allocation. A hint only: the state
		// file may be damaged or lie, so that it is bounded (a larger directory grows the
		// slice as it is listed).
		const maxHint = 4096
		if n := min(max(0, s.files), maxHint) + min(max(0, s.temps), maxHint); n > 0 {
			sh.files = slices.Grow(sh.files, min(n, maxHint))
		}
	}
	removed := false
	futureFrom := t.now.Add(mtimeInterval)
	start := time.Now() // before the listing: a change after it may share its tick
	if t.clock != nil {
		start = t.clock()
	}
	names, rerr := readShard(sh.path, func(name string) bool { return isEntry(name) || isTemp(name, isEntry) },
		func(name string, size, alloc int64, mtime time.Time) {
			// Accepted by the filter above: an entry's name, or one longer (a temporary file's).
			tf := nsFile{name: name, sh: sh, size: size, alloc: alloc, mtime: mtime.UnixNano(), temp: len(name) != entryNameLen}
			if mtime.After(futureFrom) {
				tf.mtime = believed(tf.path(), mtime, t.now).UnixNano()
			}
			age := now - tf.mtime
			if tf.temp && age > int64(staleTemp) || !tf.temp && age > int64(t.maxAge) {
				t.remove(&tf)
				removed = true
				return
			}
			sh.files = append(sh.files, tf)
		})
	if names < 0 {
		if errNotExist(rerr) {
			sh.gone = true
			return nil
		}
		// Not gone, but unread (a limit of open files reached for a moment, a
		// permission): what the state says of it stays, and with it unknown the trim
		// does not stop.
		t.errs = append(t.errs, rerr)
		t.noStop, t.unread = true, true
		return nil
	}
	sum := &shardSum{dirMod: sh.dirTime.UnixNano(), listed: now}
	if rerr != nil || start.Sub(sh.dirTime) < racyDir {
		sum.dirMod = 0 // not to be trusted: the next trim lists it again
	}
	if len(sh.files) == 0 && (removed || rerr == nil && names == 0 &&
		t.now.Sub(believed(sh.path, sh.dirTime, t.now)) > tempGrace) && os.Remove(sh.path) == nil {
		sh.gone = true
		return nil
	}
	sh.listed = true
	sh.sum = sum
	sh.summarize()
	return nil
}

// summarize counts the files the trim found in sh and did not remove into its sum, with the
// least recently used of them as its candidates.
func (sh *shardRun) summarize() {
	s := sh.sum
	s.files, s.temps, s.alloc, s.oldest = 0, 0, 0, 0
	s.cands, s.rest = s.cands[:0], 0
	if cap(s.cands) == 0 {
		s.cands = make([]cand, 0, min(maxCands, len(sh.files)))
	}
	for i := range sh.files {
		switch f := &sh.files[i]; {
		case f.gone:
		case f.temp:
			s.temps++
			s.alloc += f.alloc
		default:
			s.files++
			s.alloc += f.alloc
			if s.oldest == 0 || f.mtime < s.oldest {
				s.oldest = f.mtime
			}
			s.cands = keepOldest(s.cands, cand{f.name, f.mtime, f.alloc})
		}
	}
	if s.files > len(s.cands) {
		s.rest = s.cands[len(s.cands)-1].mtime
	}
}

// keepOldest adds c to cs, the oldest entries seen, sorted, if it is among the maxCands oldest.
func keepOldest(cs []cand, c cand) []cand {
	if len(cs) == maxCands && c.mtime >= cs[len(cs)-1].mtime {
		return cs
	}
	i, _ := slices.BinarySearchFunc(cs, c.mtime, func(a cand, m int64) int { return cmp.Compare(a.mtime, m+1) })
	if len(cs) < maxCands {
		cs = append(cs, cand{})
	}
	copy(cs[i+1:], cs[i:len(cs)-1])
	cs[i] = c
	return cs
}

// total returns what the namespace takes on disk, as far as the trim knows: what it listed,
// and what the state says of the rest.
func (t *trimRun) total() int64 {
	var n int64
	for _, sh := range t.shards {
		if sh.gone {
			continue
		}
		n = addSizes(n, sh.dirAlloc)
		if sh.sum != nil {
			n = addSizes(n, sh.sum.alloc)
		}
	}
	for _, f := range t.others {
		if !f.gone {
			n = addSizes(n, f.alloc)
		}
	}
	return addSizes(n, t.own+ownReserve+t.stateAlloc(false))
}

// stateAlloc returns what the stateFile and trim.txt take on disk once this trim wrote
// them, at most: the state as this trim writes it (the first trim of a namespace writes one
// of tens or hundreds of KiB, and one that removed a version a smaller one), with the
// directories of the versions being removed as they will be recorded, emptied unless olds,
// and a block for a trim.txt it did not find. The lines are sized as saveState writes them,
// from the directories' sums (a listed one's summarized when listed), so that a namespace
// at its budget is neither evicted for an overestimate nor listed whole because listing a
// directory changed the count. With olds (the bound by which a trim stops, before it
// removed them, and that of room.txt), the state is also at least what the file takes now:
// a stopped trim that fails to write it leaves it so.
func (t *trimRun) stateAlloc(olds bool) int64 {
	if t.stateHeld > 0 && !olds {
		return t.stateHeld
	}
	const timeDigits = 19
	empty := func(key string) int64 { // a directory that is not there, or that the trim removed
		return int64(len(key)) + 2 + 1 + digits(t.now.UnixNano()) + 5*2 + 1
	}
	record := func(sh *shardRun) int64 {
		switch s := sh.sum; {
		case sh.gone:
			return empty(sh.key)
		case s == nil:
			return 0
		default:
			n := int64(len(sh.key)) + 1
			for _, v := range [...]int64{s.dirMod, s.listed, int64(s.files), int64(s.temps), s.alloc, s.oldest, s.rest} {
				n += digits(v) + 1
			}
			for _, c := range s.cands {
				n += 1 + int64(len(c.name)) + 1 + digits(c.mtime) + 1 + digits(c.alloc) + 1
			}
			// Its oldest entries that an eviction took off the record come back
			// when it is listed.
			n += max(0, int64(min(s.files, maxCands)-len(s.cands))) * (1 + entryNameLen + 1 + timeDigits + 1 + 10 + 1)
			// Summarized again when it is listed, and as it is written: its oldest
			// entries may then be others (stored, or removed since), a digit longer.
			// Counted before too, so that listing a directory does not change the
			// count (see quickEvict).
			return n + timeDigits + int64(len(s.cands)) + 1
		}
	}
	n := int64(len(stateHeader) + 1)
	for _, sh := range t.shards {
		n += record(sh)
	}
	// The shard directories of the versions kept that are not there.
	if missing := int64(len(t.versions))*256 - int64(len(t.shards)); missing > 0 {
		n += missing * empty(t.versions[0]+"/00")
	}
	for _, v := range t.olds {
		for _, sh := range v.shards {
			if olds {
				n += record(sh)
			} else {
				n += empty(sh.key)
			}
		}
	}
	n = (n + 4095) &^ 4095
	if olds {
		n = max(n, t.stateFound)
	}
	if !t.trimFound {
		n += 4096
	}
	return n
}

// digits returns the number of decimal digits of v, which is not negative.
func digits(v int64) int64 {
	n := int64(1)
	for ; v >= 10; v /= 10 {
		n++
	}
	return n
}

// ownReserve is what storedFile, recordedFile and roomFile take on disk, a block each,
// counted whether they are there or not: a trim takes or removes them as it starts, and
// the next stores and its end write them again.
const ownReserve = 3 * 4096

// addSizes adds two sizes, neither negative, without wrapping: a damaged or lying stateFile
// may hold sizes near the largest int64, whose sum must count as huge, not as negative
// (which would be within any budget).
func addSizes(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// ledger returns the size of the namespace's ledger, at most what passes the budget: past it
// the ledger tells nothing more (a trim is due, and no bound within the budget shows), and a
// damaged one (sparse, terabytes long) must neither wrap when counted in bytes nor be
// written back whole.
func (t *trimRun) ledger() int64 { return min(ledgerSize(t.root), t.maxBytes/ledgerUnit+1) }

// stopNow reports whether the trim stops here: t.stop asks it to, and the namespace is
// within its budget whatever the rest of the trim would do, by an upper bound of what it
// takes (bound). A trim of a full file system, or that took over a crashed trim's lock, or
// that cannot show the namespace within its budget, goes on to its end.
func (t *trimRun) stopNow() bool {
	if t.stop == nil || t.full || t.noStop || !t.stop() {
		return false
	}
	n, ok := t.bound()
	return ok && n <= t.maxBytes
}

// bound returns an upper bound of what the namespace takes on disk, as the trim counts it
// (files and shard directories of every version, the version directories being removed
// included, and t.others), or false when it has none: a shard directory that neither the
// state nor this trim's listing sized. What the trim listed (less what it removed since),
// and a directory unchanged since a trim recorded it (the same mtime, so the same files,
// and no temporary file, which may have grown since), hold what was found. A directory
// that changed since holds what was recorded and what was stored since, which the ledger
// bounds: every process appends to it after a store, each trim starts it again when it
// starts (before it looks at any directory), and a trim that does not end gives it back.
// So the bound counts the ledger once, for all those directories, while one is not listed.
// (A crashed trim takes the ledger with it: noStop.)
func (t *trimRun) bound() (int64, bool) { return t.boundWith(t.ledger(), true) }

// boundWith is bound with ledger KiB stored since the trim started, and without the version
// directories being removed unless olds.
func (t *trimRun) boundWith(ledger int64, olds bool) (int64, bool) {
	var n int64
	changed := false
	var changedIdx [256]bool
	add := func(sh *shardRun) bool {
		if sh.gone {
			return true
		}
		s := sh.sum
		if s == nil {
			return false
		}
		n = addSizes(addSizes(n, sh.dirAlloc), s.alloc)
		if !sh.listed && (s.dirMod == 0 || s.dirMod != sh.dirTime.UnixNano() || s.temps > 0) {
			changed = true
			changedIdx[sh.idx] = true
		}
		return true
	}
	for _, sh := range t.shards {
		if !add(sh) {
			return 0, false
		}
	}
	for _, v := range t.olds {
		if !olds {
			break
		}
		for _, sh := range v.shards {
			if !add(sh) {
				return 0, false
			}
		}
		for _, f := range v.files {
			if !f.gone {
				n = addSizes(n, f.alloc)
			}
		}
		n = addSizes(n, v.own)
	}
	n = addSizes(n, t.othersNow())
	if changed {
		n = addSizes(n, t.grown)
	}
	for i, c := range changedIdx {
		if c {
			n = addSizes(n, t.grownBy[i])
		}
	}
	// What was stored since this trim started, by any process, in directories listed or
	// not: the ledger that started again with the trim.
	n = addSizes(addSizes(n, t.own+ownReserve+t.stateAlloc(olds)), ledger*ledgerUnit)
	return n, true
}

// othersNow returns what t.others take on disk, as sizeOthers last found them: the miss
// explainer's files grow with every store, and a rotation makes an older half the trim may
// not have found. A version directory's temporary file counts as it was found. What is
// appended after the sizing is in the recordedFile, which the room the trim leaves is
// measured by (saveRoom sizes them again first), so that a bound within the budget that
// they have passed since starts another trim.
func (t *trimRun) othersNow() int64 {
	if !t.othersSized {
		t.sizeOthers()
	}
	var n int64
	for _, f := range t.others {
		switch {
		case f.gone:
		case f.temp:
			n = addSizes(n, f.alloc)
		default:
			n = addSizes(n, f.now)
		}
	}
	return n
}

// sizeOthers sizes t.others as they are now, each miss explainer's file with its older
// half when the listing did not find that (see othersNow). It is called when the trim
// starts to evict, and before saveRoom: once per file each time, not at every look at the
// bound (a namespace may hold thousands of them).
func (t *trimRun) sizeOthers() {
	t.othersSized = true
	t.othersSizings++
	listed := make(map[string]bool, len(t.others))
	for _, f := range t.others {
		listed[f.name] = true
	}
	for _, f := range t.others {
		if f.gone || f.temp {
			continue
		}
		f.now = 0
		names := []string{f.name}
		if old := olderHalf(f.name); old != f.name && !listed[old] {
			names = append(names, old)
		}
		for _, name := range names {
			if fi, err := os.Lstat(name); err == nil && fi.Mode().IsRegular() {
				f.now = addSizes(f.now, allocated(fi))
			}
		}
	}
}

// trim lists what it must (see mustList, thorough) and brings the namespace within its
// budget. It stops before a directory when stopNow says so, returning errTrimStopped.
func (t *trimRun) trim() error {
	// Only by a ledger that says where: one that does not (a cache of an older layout, a
	// damaged or given back one) may count stores that the listing also counts.
	quick := !t.thorough && !t.full && !t.noStop && t.quickLimit > 0 && t.grown == 0
	if quick {
		t.quickEvict()
	}
	listed := 0
	for _, sh := range t.shards {
		if sh.listed || sh.gone {
			continue
		}
		if t.thorough || t.full || t.mustList(sh) {
			if t.stopNow() {
				return errTrimStopped
			}
			if err := t.list(sh); err != nil {
				return err
			}
			t.checkpoint(&listed)
		}
	}
	total := t.total()
	maxBytes := t.maxBytes
	if t.full {
		// The file system is full though the namespace may be within its budget: free
		// half of what it takes, so that stores can go on.
		maxBytes = min(maxBytes, total/2)
	}
	if total <= maxBytes {
		return nil
	}
	// Past the budget by no more than was stored since the trim started (see below).
	drifted := func(total int64) bool { return total <= addSizes(maxBytes, t.ledger()*ledgerUnit+quickDrift) }
	if quick && drifted(total) {
		// Past the budget by what was stored since this trim started (in the directories
		// listed after its eviction), and what those listings added to the state's
		// count: the room this trim leaves says so, and the next round, of this Cache or
		// of the next store, evicts about that. Listing the namespace here would evict a
		// tenth of it for a few stores.
		return nil
	}
	if quick && t.tookLimit > t.quickLimit {
		// Past the budget by more than its Cache stored: the stores of others, whose
		// trims found this one's lock held and left them to it. The directories that
		// changed are listed now, so that the bound is what they hold, not what the
		// ledger says was stored in them (stores of one entry by several processes at
		// once count once on disk): a second pass evicts what the ledgers it took allow.
		t.quickLimit = t.tookLimit
		t.quickEvict()
		if total = t.total(); total <= maxBytes || drifted(total) {
			return nil
		}
	}
	for _, sh := range t.shards {
		if !sh.listed && !sh.gone {
			if err := t.list(sh); err != nil {
				return err
			}
			t.checkpoint(&listed)
		}
	}
	return t.evictLRU(maxBytes)
}

// quickDrift is how far the count of the state may grow, beyond what the ledger says was
// stored, when the directories a quick eviction changed are listed after it (see trim).
const quickDrift = 4 * 4096

// quickEvict brings the namespace within its budget by its bound, when stores passed it,
// without listing it: it removes the least recently used entries that the state keeps for
// each shard directory (its candidates), the oldest first across directories, checking
// each on disk first (there, with the mtime recorded: not used since), and lists a
// directory only when its candidates are spent and it holds more. So a store that takes the
// namespace past its budget costs about the removal of what it stored, not a listing of the
// namespace; Close, which waits for the trim only until its bound is within the budget, then
// waits for little more. It removes at most t.quickLimit (about what the Cache stored since
// its last trim): a bound that a damaged state or ledger makes too high costs at most that,
// and the rest of the trim, which then cannot stop, sizes the namespace from what it lists.
func (t *trimRun) quickEvict() {
	// Stores meanwhile are counted by the bound that decides whether the trim may stop. The
	// version directories being removed are not: what they hold goes with them (removeOld),
	// as the budget's work does not count it.
	// A shard directory that no trim recorded (made since, as the first stores of a new
	// version make theirs) leaves the namespace without a bound: it is listed first, and a
	// new build's first run evicts about what it stored, not a tenth of the namespace.
	for _, sh := range t.shards {
		if !sh.gone && !sh.listed && sh.sum == nil {
			if err := t.list(sh); err != nil {
				return
			}
		}
	}
	ledger := t.ledger()
	t.sizeOthers()
	t.stateHeld = t.stateAlloc(false)
	defer func() { t.stateHeld = 0 }()
	n, ok := t.boundWith(ledger, false)
	if !ok || n <= t.maxBytes {
		return
	}
	q := newQuickQueue()
	for _, sh := range t.shards {
		if !sh.gone && sh.sum != nil {
			q.add(t.source(sh))
		}
	}
	others := &quickSource{}
	for _, f := range t.others {
		if !f.gone {
			others.files = append(others.files, f)
		}
	}
	slices.SortFunc(others.files, func(a, b *nsFile) int { return cmp.Compare(a.mtime, b.mtime) })
	q.add(others)
	// Past the budget, a few more go, so that the next stores of short runs find room and
	// do not each pay for a trim; within a sixty-fourth of the budget.
	var freed, total int64
	evicted := 0
	// A block under the budget at least: the state this trim writes is counted rounded up
	// to blocks, and the listings that follow may take it to the next (a namespace found
	// past its budget after them is listed whole, and evicted to 90%).
	for (n > t.maxBytes-4096 || evicted < quickMin && n > t.maxBytes-t.maxBytes/64) && freed < t.quickLimit && q.Len() > 0 {
		src := q.s[0]
		if src.next == len(src.files) {
			// Its candidates are spent and it holds more: list it.
			heap.Pop(q)
			if err := t.list(src.sh); err == nil && src.sh.listed {
				q.add(t.source(src.sh))
			}
			// Its record may now keep more entries than before.
			t.stateHeld = 0
			t.stateHeld = t.stateAlloc(false)
			continue
		}
		f := src.files[src.next]
		m, changed := t.changedSince(f)
		if !changed && freed+f.alloc > t.quickLimit {
			// More than the store it answers: the rest of the trim sizes the
			// namespace by listing it, and evicts from what it lists.
			return
		}
		src.next++
		sh := f.sh
		if sh != nil && !sh.listed {
			sh.sum.cands = sh.sum.cands[1:]
		}
		if changed {
			if sh != nil && !sh.listed {
				// Used since (or gone): no longer among the oldest known, it is
				// found again by the directory's listing, when its turn comes.
				if r := max(m, f.mtime); sh.sum.rest == 0 || r < sh.sum.rest {
					sh.sum.rest = r
				}
				src.rest = sh.sum.rest
			}
			q.fix()
			continue
		}
		q.fix()
		before := f.sh != nil && f.sh.gone
		if t.drop(f, &total) {
			freed += f.alloc
			evicted++
		}
		if f.sh != nil && f.sh.gone && !before {
			freed += f.sh.dirAlloc
		}
		n, ok = t.boundWith(ledger, false)
		if !ok {
			return
		}
	}
}

// source returns the queue's source of the shard directory sh: what its listing found, or
// the candidates the state keeps for it.
func (t *trimRun) source(sh *shardRun) *quickSource {
	src := &quickSource{sh: sh}
	if sh.listed {
		for i := range sh.files {
			if f := &sh.files[i]; !f.gone && !f.temp {
				src.files = append(src.files, f)
			}
		}
		slices.SortFunc(src.files, func(a, b *nsFile) int { return cmp.Compare(a.mtime, b.mtime) })
		return src
	}
	for _, c := range sh.sum.cands {
		src.files = append(src.files, &nsFile{name: c.name, sh: sh, size: c.alloc, alloc: c.alloc, mtime: c.mtime})
	}
	if sh.sum.rest > 0 {
		src.rest = sh.sum.rest
	} else if len(src.files) == 0 {
		return nil
	}
	return src
}

// changedSince reports whether f changed since the trim (or the one whose state it read)
// found it, and its mtime now: used since, or gone, or replaced.
func (t *trimRun) changedSince(f *nsFile) (int64, bool) {
	fi, err := os.Lstat(f.path())
	if err != nil || !fi.Mode().IsRegular() {
		return 0, true
	}
	m := fi.ModTime().UnixNano()
	// What it takes, from the file, not from the state: a damaged record must not make
	// the eviction count what it frees wrong.
	f.size, f.alloc = fi.Size(), allocated(fi)
	return m, m != f.mtime
}

// A quickSource is a shard directory's entries in quickEvict, the least recently used first:
// files from next on are left; a directory that holds more than its files (rest > 0, the
// mtime from which they were used) is listed when its turn comes after them.
type quickSource struct {
	sh    *shardRun
	files []*nsFile
	next  int
	rest  int64
}

// key returns when the next entry of src was used, or -1 when src is spent.
func (src *quickSource) key() int64 {
	if src.next < len(src.files) {
		return src.files[src.next].mtime
	}
	if src.rest > 0 && src.sh != nil && !src.sh.listed {
		return src.rest
	}
	return -1
}

// quickQueue is a heap of sources by key.
type quickQueue struct{ heapOf[*quickSource] }

func newQuickQueue() *quickQueue {
	return &quickQueue{heapOf[*quickSource]{less: func(a, b *quickSource) bool { return a.key() < b.key() }}}
}

// add adds src to q unless it is spent.
func (q *quickQueue) add(src *quickSource) {
	if src != nil && src.key() >= 0 {
		heap.Push(q, src)
	}
}

// fix puts q's first source back in its place, or takes it out when it is spent.
func (q *quickQueue) fix() {
	if q.s[0].key() < 0 {
		heap.Pop(q)
	} else {
		heap.Fix(q, 0)
	}
}

// checkpointEvery is how many shard directories a trim lists between two records of what it
// found: a trim cut short (a process that exits while Close no longer waits for it, one
// killed) leaves what it listed to the next, which need not list it again.
const checkpointEvery = 64

// checkpoint counts a listed directory in *listed, and records the state every
// checkpointEvery of them.
func (t *trimRun) checkpoint(listed *int) {
	if *listed++; *listed%checkpointEvery == 0 {
		t.saveState()
	}
}

// remove removes f, counting it in the result if that worked, and reports whether f is
// gone.
func (t *trimRun) remove(f *nsFile) bool {
	f.gone = true
	err := os.Remove(f.path())
	if err == nil {
		t.res.Files++
		t.res.Bytes += f.size
	}
	return err == nil || errNotExist(err)
}

// drop removes f from the namespace, whose size *total takes it out of, with its shard
// directory when f was the last file in it. It reports whether f is gone: a file that could
// not be removed still counts.
func (t *trimRun) drop(f *nsFile, total *int64) bool {
	if !t.remove(f) {
		return false
	}
	*total -= f.alloc
	sh := f.sh
	if sh == nil {
		return true
	}
	sh.sum.alloc -= f.alloc
	if f.temp {
		sh.sum.temps--
	} else {
		sh.sum.files--
	}
	if sh.sum.files+sh.sum.temps == 0 && os.Remove(sh.path) == nil {
		sh.gone = true
		*total -= sh.dirAlloc
	}
	return true
}

// live appends f to out if the trim may evict it; a temporary file older than tempGrace (a
// killed writer's: it holds no entry) is removed instead: the namespace is over budget.
func (t *trimRun) live(out []*nsFile, f *nsFile, total *int64) []*nsFile {
	switch {
	case f.gone:
		return out
	case f.temp:
		if t.now.UnixNano()-f.mtime > int64(tempGrace) {
			t.drop(f, total)
		}
		return out // otherwise a writer is busy with it
	}
	return append(out, f)
}

// evictLRU brings the namespace, every shard directory of which the trim listed, within 90%
// of maxBytes: the least recently used entries go first.
func (t *trimRun) evictLRU(maxBytes int64) error {
	total := t.total()
	n := len(t.others)
	for _, sh := range t.shards {
		n += len(sh.files)
	}
	live := make([]*nsFile, 0, n)
	for _, f := range t.others {
		live = t.live(live, f, &total)
	}
	for _, sh := range t.shards {
		if !sh.gone {
			for i := range sh.files {
				live = t.live(live, &sh.files[i], &total)
			}
		}
	}
	if total <= maxBytes {
		return nil
	}
	slices.SortFunc(live, func(a, b *nsFile) int { return cmp.Compare(a.mtime, b.mtime) })
	target := maxBytes / 10 * 9
	// An entry used since its listing goes back in line at its new time (later, the
	// entries so found, least recently used first): no longer among the oldest, it may
	// still be older than entries listed after it was used.
	later := &heapOf[*nsFile]{less: func(a, b *nsFile) bool { return a.mtime < b.mtime }}
	for i := 0; total > target && (i < len(live) || later.Len() > 0); {
		var f *nsFile
		if later.Len() > 0 && (i == len(live) || later.s[0].mtime < live[i].mtime) {
			f = heap.Pop(later).(*nsFile)
		} else {
			f, i = live[i], i+1
		}
		if f.gone {
			continue
		}
		if m, ok := t.usedSince(f); ok {
			if f.requeued < 2 { // a later use than that is not looked for again: kept
				f.mtime, f.requeued = m, f.requeued+1
				heap.Push(later, f)
			}
			continue
		}
		t.drop(f, &total)
	}
	return nil
}

// heapOf is a container/heap of s by less.
type heapOf[T any] struct {
	s    []T
	less func(a, b T) bool
}

func (h *heapOf[T]) Len() int           { return len(h.s) }
func (h *heapOf[T]) Less(i, j int) bool { return h.less(h.s[i], h.s[j]) }
func (h *heapOf[T]) Swap(i, j int)      { h.s[i], h.s[j] = h.s[j], h.s[i] }
func (h *heapOf[T]) Push(x any)         { h.s = append(h.s, x.(T)) }
func (h *heapOf[T]) Pop() any {
	x := h.s[len(h.s)-1]
	h.s = h.s[:len(h.s)-1]
	return x
}

// usedSince reports whether f was used since the trim listed it, and when: a hit (of any
// process) refreshed its mtime during the listing of the rest of the namespace, which at
// 100,000 entries takes a second. One that is gone is left to the drop that follows.
func (t *trimRun) usedSince(f *nsFile) (int64, bool) {
	fi, err := os.Lstat(f.path())
	if err != nil {
		return 0, false
	}
	m := fi.ModTime().UnixNano()
	return m, m > f.mtime
}

// removeOld removes the version directories of t.olds, shard directory by shard directory.
func (t *trimRun) removeOld() error {
	for _, v := range t.olds {
		if err := t.clearOld(v); err != nil {
			return err
		}
	}
	return nil
}

// clearOld removes the recognised files of the version directory v, then the directory and
// its shard directories if they are empty. Stopped before it is done, it leaves what is left
// for the next trim, with v's mtime as it was: removing shard directories sets it to now,
// which would make the directory look used (versionLastUsed) and keep it for oldVersionAge.
func (t *trimRun) clearOld(v *oldVersion) error {
	for _, sh := range v.shards {
		if sh.gone {
			continue
		}
		err := errTrimStopped
		if !t.stopNow() {
			err = t.clearShard(sh)
		}
		if err != nil {
			os.Chtimes(v.path, time.Time{}, v.mtime)
			return err
		}
	}
	for _, f := range v.files {
		t.remove(f)
	}
	vf := filepath.Join(v.path, versionFile)
	if fi, err := os.Lstat(vf); err == nil {
		t.remove(&nsFile{name: vf, size: fi.Size()})
	}
	if os.Remove(v.path) == nil { // fails if something unrecognised is left: kept
		v.own = 0
	}
	return nil
}

// clearShard removes the entries and temporary files of sh, a shard directory of a version
// directory to remove, then sh if that empties it. From its listing on, sh's sum holds what
// is left in it.
func (t *trimRun) clearShard(sh *shardRun) error {
	if t.step != nil {
		t.step()
	}
	shard := filepath.Base(sh.path)
	isEntry := entryIn(shard)
	sh.files = sh.files[:0]
	names, rerr := readShard(sh.path, func(name string) bool { return isEntry(name) || isTemp(name, isEntry) },
		func(name string, size, alloc int64, mtime time.Time) {
			sh.files = append(sh.files, nsFile{name: name, sh: sh, size: size, alloc: alloc, temp: len(name) != entryNameLen})
		})
	if names < 0 {
		if errNotExist(rerr) {
			sh.gone = true
		} else {
			t.errs = append(t.errs, rerr)
		}
		return nil
	}
	// dirMod 0: the removal changes the directory, which is listed again if it stays.
	sh.listed, sh.sum = true, &shardSum{listed: t.now.UnixNano()}
	sh.summarize()
	for i := range sh.files {
		if i%removeBatch == removeBatch-1 && t.stopNow() {
			return errTrimStopped
		}
		f := &sh.files[i]
		if err := os.Remove(f.path()); err == nil || errNotExist(err) {
			if err == nil {
				t.res.Files++
				t.res.Bytes += f.size
			}
			f.gone = true
			sh.sum.alloc -= f.alloc
		}
	}
	if os.Remove(sh.path) == nil {
		sh.gone = true
	}
	return nil
}

// saveState records what the trim found in the stateFile. It is only an aid: a trim that
// cannot write it lists more next time.
func (t *trimRun) saveState() {
	// The shard directories of the versions being removed are recorded while they
	// stay: what is left of one that the trim did not remove is known to the next.
	shards := slices.Clone(t.shards)
	for _, v := range t.olds {
		shards = append(shards, v.shards...)
	}
	if t.partial {
		// Failed before it found every shard directory: what the state says of the
		// others stays, for the next trim.
		found := map[string]bool{}
		for _, sh := range shards {
			found[sh.key] = true
		}
		for key, s := range t.state.shards {
			if !found[key] {
				shards = append(shards, &shardRun{key: key, sum: &s})
			}
		}
	}
	// A shard directory that is not there, or that the trim removed, is recorded empty: one
	// that a store makes again holds what the ledger says was stored in it since.
	seen := map[string]bool{}
	for _, sh := range shards {
		seen[sh.key] = true
	}
	for _, vid := range t.versions {
		for i := range 256 {
			if key := fmt.Sprintf("%s/%02x", vid, i); !seen[key] {
				shards = append(shards, &shardRun{key: key, gone: true})
			}
		}
	}
	slices.SortFunc(shards, func(a, b *shardRun) int { return strings.Compare(a.key, b.key) })
	b := make([]byte, 0, (64+90*maxCands)*len(shards)+64)
	b = append(b, stateHeader+"\n"...)
	empty := &shardSum{listed: t.now.UnixNano()}
	for _, sh := range shards {
		s := sh.sum
		switch {
		case sh.gone:
			s = empty
		case s == nil:
			continue
		case sh.listed:
			sh.summarize()
		}
		b = append(b, sh.key...)
		for _, n := range [...]int64{s.dirMod, s.listed, int64(s.files), int64(s.temps), s.alloc, s.oldest, s.rest} {
			b = strconv.AppendInt(append(b, ' '), n, 10)
		}
		b = append(b, '\n')
		for _, c := range s.cands {
			b = append(append(b, '+'), c.name...)
			b = strconv.AppendInt(append(b, ' '), c.mtime, 10)
			b = strconv.AppendInt(append(b, ' '), c.alloc, 10)
			b = append(b, '\n')
		}
	}
	if !bytes.Equal(b, t.saved) { // a trim that listed nothing need not write it
		if writeFileAtomic(filepath.Join(t.root, stateFile), b, false) == nil {
			t.stateFound = (int64(len(b)) + 4095) &^ 4095
		}
	}
}
