package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero values of Options fields.
const (
	// DefaultMemoryBytes is the memory tier's budget when Options.MemoryBytes is 0.
	DefaultMemoryBytes = 64 << 20
	// DefaultMaxBytes is the disk budget of a namespace when Options.MaxBytes is 0.
	DefaultMaxBytes = 1 << 30
	// DefaultMaxAge is how long an unused entry is kept when Options.MaxAge is 0.
	DefaultMaxAge = 30 * 24 * time.Hour
	// DefaultMaxEntryBytes is the largest value encoding stored when Options.MaxEntryBytes is 0.
	DefaultMaxEntryBytes = 256 << 20
	// maxEntryLimit is the largest Options.MaxEntryBytes taken: larger values are cut to it.
	maxEntryLimit = 1 << 40
	// DefaultNamespace is the namespace used when Options.Namespace is empty.
	DefaultNamespace = "default"
	// DefaultCloseTimeout is how long Close waits for running computations when
	// Options.CloseTimeout is 0.
	DefaultCloseTimeout = time.Minute
)

// maxOpenFiles bounds the entry files a Cache reads or writes at once (gopls's file cache
// uses a semaphore of the same size for the same reason), and openFileSlots lowers it to an
// eighth of the process's limit on open files, leaving the rest to the program.
const maxOpenFiles = 128

// Timing of the disk tier's maintenance.
const (
	// mtimeInterval is how old an entry's modification time must be before a hit refreshes
	// it: the access time used for eviction is accurate to this much, and a hit costs a
	// write only once per interval.
	mtimeInterval = time.Hour
	// trimInterval is how often, at most, a namespace is trimmed in the background, across
	// all processes sharing it (recorded in its trim.txt).
	trimInterval = time.Hour
	// trimCheckInterval is how often, at most, a Cache looks at trim.txt after a store.
	trimCheckInterval = time.Minute
	// staleTemp is the age from which a temporary file is taken to be a crashed writer's.
	staleTemp = time.Hour
	// oldVersionAge is how long another version's directory must have gone unused before a
	// trim removes it whole. A Cache marks its version used (the mtime of its version.txt)
	// at Open and after stores and disk hits, at most once per mtimeInterval; meanwhile
	// the directory's entries are trimmed with the current version's.
	oldVersionAge = 2 * mtimeInterval
)

// Options configure a Cache. The zero value of every field selects its default.
type Options struct {
	// Dir is the cache's root directory; a relative one is made absolute at Open. ""
	// selects DefaultDir(): the user cache directory's cachegen subdirectory, or a
	// directory of this user's under the temporary directory when that is unusable, and
	// either only if this user owns it and others cannot write it. An explicit Dir is held
	// to the same rule: neither it nor a directory above it (symbolic links followed, and
	// the directories holding them checked too) may be owned by a user other than this one
	// or root, or writable by others, its group included, without the sticky bit (whoever
	// can write it can rename a directory of their own in its place), and the namespace
	// directory inside it must be this user's alone. It is checked before Open writes in it. A
	// directory that fails makes the Cache run on the memory tier alone, and log why: a
	// directory that another user can write could hold planted entries. Directories are created with mode 0700 and
	// entry files 0600.
	Dir string
	// Namespace separates the entries of independent programs or purposes sharing Dir. It
	// must be a letter or digit followed by up to 63 letters, digits, '.', '_' or '-'.
	// "" selects DefaultNamespace.
	Namespace string
	// Version identifies the program that computes the values: entries stored under
	// another version are never seen. "" derives it from the running program: the main
	// module's version and VCS revision, or a hash of the executable for a development or
	// modified build. Set it when values do not depend on the program's version, or to
	// share entries between programs.
	Version string
	// MemoryBytes bounds the memory tier: the sum of what its entries retain, an encoding
	// by its length, a value kept decoded by an estimate of its heap size (see Cloner),
	// plus a fixed overhead per entry. 0 selects DefaultMemoryBytes; a negative value
	// disables the memory tier.
	MemoryBytes int64
	// MaxBytes bounds the disk usage of the namespace; trimming removes least recently used
	// entries until the namespace fits in 90% of it. 0 selects DefaultMaxBytes.
	MaxBytes int64
	// MaxAge is how long an entry is kept after its last use. 0 selects DefaultMaxAge.
	MaxAge time.Duration
	// MaxEntryBytes bounds the msgp encoding of one value: larger values are computed but
	// not stored, and entry files announcing more are malformed. It also bounds what one
	// read allocates: a file's claim is believed only up to what its compressed bytes can
	// expand to, but a value of zeros compresses some 30,000 times, so a small entry file
	// may still decode to MaxEntryBytes. Programs whose values are small gain by setting it
	// near their largest. 0 selects DefaultMaxEntryBytes.
	MaxEntryBytes int64
	// CompressionLevel selects how entry files are compressed. 0, the default, is s2 (a
	// Snappy-like codec that decodes at memory speed) for values a sample of which it
	// shrinks by a quarter or more, and raw msgp for the others, which then cost no more
	// than their size to store and read; 1 to 22 is zstd at that level (mapped to the
	// encoder's speeds): smaller files, for slower stores and hits, the first stores of a
	// Cache using s2 until the zstd encoder is made, in the background; a negative value
	// stores every value uncompressed.
	CompressionLevel int
	// Sync makes every store fsync the entry file before renaming it into place, so that a
	// machine crash cannot leave an empty or partial file under an entry's name (such a file
	// would be a miss anyway). Off by default: it costs a disk flush per store.
	Sync bool
	// CloseTimeout bounds how long Close waits for computations still running (for
	// callers that gave up) so that their results are stored. A computation that outlives
	// it keeps running, and its result is returned to any waiter but not stored. It bounds
	// the wait for a background trim that Close cannot stop as well: such a trim records
	// what it listed as it goes, for the next trim to go on from. 0 selects
	// DefaultCloseTimeout.
	CloseTimeout time.Duration
	// Logger receives the first disk error of the Cache (later ones are only counted) and
	// debug messages. nil selects slog.Default().
	Logger *slog.Logger
	// Verify makes every hit compute as well, and compare: see VerifyMode. The zero value
	// reads the environment variable CACHEGEN_VERIFY ("1": report, "panic": panic).
	Verify VerifyMode
	// OnMiss, when set, receives every miss of a Load that computes, explained: what
	// changed from the closest key of its type stored before, by any process sharing the
	// directory (see Miss). With the environment variable CACHEGEN_EXPLAIN=1 the
	// explanations are also printed to standard error. To make that possible, every store
	// records its key's leaves (as CACHEGEN_TRACE shows them: short values in full, long
	// ones by length and digest) in the namespace directory: at most 1024 leaves and 8 KiB
	// per key, and per key type at most 256 KiB or a 64th of MaxBytes, trimmed with the
	// entries. The records are written in the background, those of stores a few ms apart
	// in one write (Flush and Close write what is left at once). Explaining costs, on each
	// miss, a read of the records of its key type appended since the Cache's last miss of
	// that type; a hit costs nothing. OnMiss is called in another goroutine while compute
	// runs, and before Load returns (a Load whose context ends returns without waiting for
	// it); a panic in it is raised in the Load, as a *PanicError, unless compute panicked
	// too. Loads after Close compute without the cache and are not reported.
	OnMiss func(Miss)

	// Remote is a third tier, shared by machines, behind the memory and the disk: a Load
	// that misses both asks it, and a computed value is uploaded to it in the background
	// (see the package documentation, Remote tier). nil reads the environment: the URL in
	// CACHEGEN_REMOTE (RemoteEnv) names the remote, through the engine registered for its
	// scheme (http and https are built in), and the variables of RemoteSecretEnv,
	// RemoteEd25519PublicEnv, RemoteEd25519PrivateEnv, RemoteReadOnlyEnv and RemoteTokenEnv
	// fill the fields below that are left zero. A remote that cannot be used (no key, a
	// scheme no imported package handles) is logged once and left out; it never fails
	// Open. The Cache closes it in Close.
	Remote Remote
	// RemoteKeys sign and verify the remote's entries: every entry must carry a valid tag
	// of one of them, or it is refused. The first key able to sign (an HMAC secret or an
	// Ed25519 private key) signs the uploads; with none, the remote is read-only. Without
	// any key there is no remote tier: unsigned entries are never accepted.
	RemoteKeys []RemoteKey
	// RemoteReadOnly makes the remote tier look entries up without ever uploading. When
	// Remote is nil, CACHEGEN_REMOTE_READONLY can set it too (see RemoteReadOnlyEnv); when
	// Remote is set, the environment is not read.
	RemoteReadOnly bool
	// RemoteDialTimeout bounds connecting to the remote's server (for the engines that
	// Open opens from the environment). 0 selects DefaultRemoteDialTimeout.
	RemoteDialTimeout time.Duration
	// RemoteTimeout bounds a remote request until its response starts, which is most of a
	// small entry's transfer. 0 selects DefaultRemoteTimeout.
	RemoteTimeout time.Duration
	// RemoteIdleTimeout bounds the pauses of a transfer: a large entry may take longer than
	// RemoteTimeout while its bytes keep coming. 0 selects DefaultRemoteIdleTimeout.
	RemoteIdleTimeout time.Duration
	// RemoteLookupTimeout bounds a whole remote lookup, whatever the Remote does: a Load
	// waits for it that long at most, then counts it as a failure and computes. A Load
	// whose context has a deadline waits at most half the time left before it (see the
	// package documentation, Remote tier). 0 selects DefaultRemoteLookupTimeout; it is
	// never more than RemoteTransferTimeout.
	RemoteLookupTimeout time.Duration
	// RemoteTransferTimeout bounds a whole remote upload, whatever the engine does, and
	// caps RemoteLookupTimeout. 0 selects DefaultRemoteTransferTimeout.
	RemoteTransferTimeout time.Duration
	// RemoteQueueEntries and RemoteQueueBytes bound the uploads waiting: one that does not
	// fit is dropped, and counted in Stats.UploadsDropped. 0 selects
	// DefaultRemoteQueueEntries and DefaultRemoteQueueBytes.
	RemoteQueueEntries int
	RemoteQueueBytes   int64
	// RemoteCloseTimeout bounds how long Close waits for the queued uploads. 0 selects
	// DefaultRemoteCloseTimeout.
	RemoteCloseTimeout time.Duration

	// SharedValues makes memory hits return the value the memory tier holds, the same for
	// every caller, instead of a private copy: the value is decoded once, on the first
	// memory hit of its entry, and a hit then costs about a map lookup. The tier charges
	// what the decoded value retains: its CachegenSize when it has one, for other types a
	// walk of the value made once, on that first hit; a value that would retain more than
	// four times its encoding keeps the encoding instead, and each hit decodes it (a value
	// of the caller's own then). The caller promises never to modify a value Load returns,
	// nor anything it reaches (slice elements, map entries, pointed-to values): a change
	// would be seen by every later hit. Values returned by computations, disk and remote
	// hits are still the caller's own. Off by default: each hit returns a copy, made by the
	// value type's CachegenClone when it has one (cachegen generates it; see Cloner),
	// decoded from the stored encoding otherwise.
	SharedValues bool
}

// Stats are counters of a Cache's activity since Open. Every Load is counted once in Hits or
// Misses.
type Stats struct {
	Hits          uint64 // Loads answered from the cache (MemoryHits + DiskHits)
	Misses        uint64 // Loads that computed or waited for a computation, or were cancelled
	Errors        uint64 // disk and encoding errors: the cache did not work as it should
	MemoryHits    uint64 // Loads answered from the memory tier
	DiskHits      uint64 // Loads answered from an entry file
	Computes      uint64 // calls of compute functions
	ComputeErrors uint64 // compute calls that returned an error (such results are not cached)
	Shared        uint64 // Loads that received the result of another Load's flight
	Stores        uint64 // entry files written
	StoredBytes   uint64 // bytes of entry files written
	Corrupt       uint64 // malformed entry files found (truncated, damaged, foreign, other type)
	MemoryEvicted uint64 // values evicted from the memory tier
	Trims         uint64 // trims of the namespace run by this Cache to their end
	Trimmed       uint64 // files removed by trims, those stopped included
	TrimsStopped  uint64 // background trims that Close stopped, the namespace within its budget

	Verified       uint64 // hits checked by computing again (Options.Verify)
	VerifyFailures uint64 // of those, hits whose cached value differed from the fresh one

	RemoteHits     uint64 // Loads answered from the remote tier (counted in Hits too)
	RemoteMisses   uint64 // remote lookups that found no entry
	RemoteErrors   uint64 // remote requests that failed or timed out (each a miss, or an upload lost)
	RemoteRejected uint64 // remote entries refused: no, unknown or wrong tag, malformed, too large
	RemoteSkipped  uint64 // remote lookups not made because the breaker was open
	Uploads        uint64 // entries uploaded to the remote
	UploadedBytes  uint64 // bytes of those uploads
	UploadsDropped uint64 // uploads given up: queue full, breaker open, too large, Close
}

// counters are the atomic counterparts of Stats. Memory hits, the one event that parallel
// Loads of one key all count, are counted in stripes (hitCounter); Stats.Hits adds them to
// hits, which counts the other hits.
type counters struct {
	memoryHits hitCounter
	hits, misses, errors, diskHits, computes, computeErrors, shared,
	stores, storedBytes, corrupt, memoryEvicted, trims, trimmed, trimsStopped atomic.Uint64
	verified, verifyFailures atomic.Uint64
	remoteHits, remoteMisses, remoteErrors, remoteRejected, remoteSkipped,
	uploads, uploadedBytes, uploadsDropped atomic.Uint64
}

// hitStripes bounds the stripes of a hitCounter.
const hitStripes = 64

// A hitStripe is one counter of a hitCounter, alone in its cache lines (128 bytes: the
// adjacent-line prefetcher of x86 cores pairs 64-byte lines).
type hitStripe struct {
	n atomic.Uint64
	_ [120]byte
}

// A hitCounter is a counter that cores add to without sharing a cache line: each goroutine
// adds to the stripe its stripe token names, and tokens live in a sync.Pool, whose items stay
// with the processor that put them, so that each core mostly keeps to one stripe. A token
// that meets contention (its compare-and-swap fails) moves to another stripe at random.
type hitCounter struct {
	stripes []hitStripe
	tokens  sync.Pool // *stripeToken
}

// A stripeToken names a stripe of a hitCounter.
type stripeToken struct{ i uint32 }

// init makes the stripes: four per processor, at most hitStripes, a power of two.
func (h *hitCounter) init() {
	n := 1
	for n < 4*runtime.GOMAXPROCS(0) && n < hitStripes {
		n *= 2
	}
	h.stripes = make([]hitStripe, n)
}

// add counts one event.
func (h *hitCounter) add() {
	t, _ := h.tokens.Get().(*stripeToken)
	if t == nil {
		t = &stripeToken{i: rand.Uint32()}
	}
	s := &h.stripes[t.i&uint32(len(h.stripes)-1)]
	if old := s.n.Load(); !s.n.CompareAndSwap(old, old+1) {
		t.i = rand.Uint32()
		s.n.Add(1)
	}
	h.tokens.Put(t)
}

// load returns the sum of the stripes.
func (h *hitCounter) load() uint64 {
	var n uint64
	for i := range h.stripes {
		n += h.stripes[i].n.Load()
	}
	return n
}

// A Cache is a two-tier cache of values computed from keys: an in-memory LRU of values
// (encoded, or decoded for types with a CachegenClone) in front of a directory of entry files shared by processes. Use it with Load. A
// Cache is safe for concurrent use.
type Cache struct {
	verify VerifyMode // resolved: VerifyOff, VerifyReport or VerifyPanic
	// explainStderr: CACHEGEN_EXPLAIN=1 was set at Open.
	explainStderr bool
	// noRecords turns the explainer's records off, for benchmarks that measure their cost.
	noRecords bool
	// noExplain turns the explanations of misses off, for benchmarks that measure their
	// cost in a Cache that explains.
	noExplain  bool
	records    recordQueue
	recIndex   recordIndex
	opts       Options
	version    string // the version string identifying the program
	root       string // Dir/namespace; "" when the disk tier is disabled
	versionDir string // root/<version id>

	mem   *memory
	types sync.Map // reflect.Type of func(K) V -> *valueType

	flightMu sync.Mutex         // guards flights, closed and wg.Add
	flights  map[memKey]*flight // running lookups by key digest and value type
	closed   bool
	wg       sync.WaitGroup // background trims and flights

	// codec compresses and decompresses entry payloads (codec.go).
	codec codecs

	// diskMu guards diskClosed, which Close sets before it releases the compressor: a
	// computation that finishes after Close gave up waiting must not store with it.
	diskMu     sync.RWMutex
	diskClosed bool

	// now is the clock of the time rules (mtime refresh, trimming, version use); tests
	// replace it.
	now func() time.Time
	// writeFile stores an entry file (writeEntryAtomic); tests replace it to simulate a
	// full disk.
	writeFile func(name string, e *entryParts, sync bool) error

	stats       counters
	logOnce     sync.Once
	diskOff     atomic.Bool  // set when the disk tier failed at Open
	nextTrim    atomic.Int64 // Unix nanoseconds before which stores do not check trim.txt
	written     atomic.Int64 // bytes stored since this Cache last trimmed, in whole blocks
	versionUsed atomic.Int64 // Unix nanoseconds when version.txt's mtime was last set
	trimming    atomic.Bool  // a background trim is running
	stopping    atomic.Bool  // set by Close: a background trim stops if it can (trimRun.stopNow)
	diskFull    atomic.Bool  // a store found the file system full: the next trim frees half
	trimMu      sync.Mutex   // held by a trim of this Cache
	trimRefused atomic.Bool  // a trim did not start because Close had begun: see trimAtClose
	// trimStep, if set, is called before a trim lists a shard directory, or clears one of a
	// version it removes: tests slow trims down with it.
	trimStep func()

	// remote is the remote tier, nil without one; unusedRemote is an Options.Remote left
	// out (no key), which Close still closes.
	remote       *remoteTier
	unusedRemote Remote
}

// A valueType is the identity of a value type and of the key type it is loaded by, computed
// once per pair of types and Cache.
type valueType struct {
	name string
	// key is the identity of the key type (typeIdentity): two key types whose HashKey
	// methods write the same (hand-written ones need not name their type) never share
	// entries, in memory or on disk. For a key type that is an interface, it is the
	// identity of the type the key holds: keyInterface is set, and holding returns the
	// valueType of each such type.
	key          string
	keyInterface bool
	held         sync.Map // reflect.Type -> *valueType, for keyInterface
	// clone says that *V is a Cloner[V]: the memory tier keeps such values decoded and
	// hands out copies.
	clone bool
	// sized says that *V also has a CachegenSize (sizer): the memory tier charges it, with
	// base, for a value kept decoded, rather than walking the value (heapSize).
	sized bool
	// reuse says that *V is marked CachegenReusable (reusable): decoding may use targets.
	reuse bool
	// base is the size of a V.
	base uintptr
	// cloneFailed is set when a CachegenClone of V panicked: the memory tier decodes the
	// values of V from then on.
	cloneFailed atomic.Bool
	// targets holds *V values to decode into, zero between uses, for reuse types only: a
	// pointer passed to UnmarshalMsg through the Value constraint escapes, and a pooled one
	// saves a hit the allocation of a fresh one.
	targets sync.Pool
}

// valueTypeOf returns the identity of V, loaded by keys of type K. The pair is looked up as
// the one type func(K) V: one pointer to hash, where a pair of types costs a memory hit
// about 20 ns more.
func valueTypeOf[K, V any](c *Cache) *valueType {
	fn := reflect.TypeFor[func(K) V]()
	if vt, ok := c.types.Load(fn); ok {
		return vt.(*valueType)
	}
	kt, t := fn.In(0), fn.Out(0)
	name := t.String()
	if t.Name() != "" {
		name = t.PkgPath() + "." + t.Name()
	}
	// The schema: two builds whose value types share a name but not a shape (a field
	// added, retyped or renamed, a tag changed) must not read each other's entries, since
	// msgp would zero what is missing and skip what is unknown.
	schema := sha256.Sum256([]byte(describeType(t)))
	name += " schema:" + hex.EncodeToString(schema[:8])
	if len(name) > maxTypeLen {
		sum := sha256.Sum256([]byte(name))
		name = "sha256:" + hex.EncodeToString(sum[:])
	}
	_, clone := any((*V)(nil)).(Cloner[V])
	_, sized := any((*V)(nil)).(sizer)
	_, reuse := any((*V)(nil)).(reusable[V])
	vt, _ := c.types.LoadOrStore(fn, &valueType{name: name, key: typeIdentity(kt), keyInterface: kt.Kind() == reflect.Interface,
		clone: clone, sized: clone && sized, reuse: reuse, base: t.Size()})
	return vt.(*valueType)
}

// holding returns the identity of vt's value type for a key of vt's interface type that
// holds a value of type held: keys of two types whose HashKey methods write the same never
// share entries, whatever type they are passed as.
func (vt *valueType) holding(held reflect.Type) *valueType {
	if held == nil {
		return vt // a nil key: its HashKey cannot run
	}
	if v, ok := vt.held.Load(held); ok {
		return v.(*valueType)
	}
	v, _ := vt.held.LoadOrStore(held, &valueType{name: vt.name, key: typeIdentity(held),
		clone: vt.clone, sized: vt.sized, reuse: vt.reuse, base: vt.base})
	return v.(*valueType)
}

// describeType writes the structure of t, as far as it shapes the encoding of its values:
// kinds, named types by package path and name, struct fields with their names, tags and
// embedding, element, key and array lengths, recursively. A type met again is written as a
// reference to its first description, so that recursive types end.
func describeType(t reflect.Type) string {
	var b strings.Builder
	seen := map[reflect.Type]int{}
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		if id, ok := seen[t]; ok {
			fmt.Fprintf(&b, "#%d", id)
			return
		}
		seen[t] = len(seen) + 1
		if t.Name() != "" {
			fmt.Fprintf(&b, "%s.%s=", t.PkgPath(), t.Name())
		}
		b.WriteString(t.Kind().String())
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice:
			b.WriteByte('(')
			walk(t.Elem(), depth+1)
			b.WriteByte(')')
		case reflect.Array:
			fmt.Fprintf(&b, "[%d](", t.Len())
			walk(t.Elem(), depth+1)
			b.WriteByte(')')
		case reflect.Map:
			b.WriteByte('(')
			walk(t.Key(), depth+1)
			b.WriteByte(',')
			walk(t.Elem(), depth+1)
			b.WriteByte(')')
		case reflect.Struct:
			b.WriteByte('{')
			for i := range t.NumField() {
				f := t.Field(i)
				fmt.Fprintf(&b, "%q %t %q ", f.Name, f.Anonymous, f.Tag)
				walk(f.Type, depth+1)
				b.WriteByte(';')
			}
			b.WriteByte('}')
		}
	}
	walk(t, 0)
	return b.String()
}

var namespaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Open returns a Cache configured by opts. It fails only for invalid options. When the
// directory cannot be created or used, Open logs the problem, counts it in Stats.Errors and
// returns a Cache without a disk tier: Load then serves from memory or computes.
func Open(opts Options) (*Cache, error) {
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if !namespaceRE.MatchString(opts.Namespace) {
		return nil, fmt.Errorf("cache: invalid namespace %q", opts.Namespace)
	}
	if opts.MemoryBytes == 0 {
		opts.MemoryBytes = DefaultMemoryBytes
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.MaxEntryBytes <= 0 {
		opts.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if opts.MaxEntryBytes > maxEntryLimit {
		// Sizes derived from it (a header's, a payload's with its framing) must not
		// overflow.
		opts.MaxEntryBytes = maxEntryLimit
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = DefaultCloseTimeout
	}
	if opts.CompressionLevel > 22 {
		return nil, fmt.Errorf("cache: invalid compression level %d", opts.CompressionLevel)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RemoteDialTimeout <= 0 {
		opts.RemoteDialTimeout = DefaultRemoteDialTimeout
	}
	if opts.RemoteTimeout <= 0 {
		opts.RemoteTimeout = DefaultRemoteTimeout
	}
	if opts.RemoteIdleTimeout <= 0 {
		opts.RemoteIdleTimeout = DefaultRemoteIdleTimeout
	}
	if opts.RemoteTransferTimeout <= 0 {
		opts.RemoteTransferTimeout = DefaultRemoteTransferTimeout
	}
	if opts.RemoteLookupTimeout <= 0 {
		opts.RemoteLookupTimeout = DefaultRemoteLookupTimeout
	}
	if opts.RemoteQueueEntries <= 0 {
		opts.RemoteQueueEntries = DefaultRemoteQueueEntries
	}
	if opts.RemoteQueueBytes <= 0 {
		opts.RemoteQueueBytes = DefaultRemoteQueueBytes
	}
	if opts.RemoteCloseTimeout <= 0 {
		opts.RemoteCloseTimeout = DefaultRemoteCloseTimeout
	}
	c := &Cache{opts: opts, version: opts.Version, flights: make(map[memKey]*flight), now: time.Now, writeFile: writeEntryAtomic}
	c.records.linger = recordLinger
	c.verify = opts.Verify.resolve()
	c.explainStderr = os.Getenv(explainEnv) == "1"
	if c.version == "" {
		c.version = buildVersion()
	}
	c.stats.memoryHits.init()
	c.mem = newMemory(opts.MemoryBytes, &c.stats.memoryEvicted)
	c.openRemote()
	c.codec.init(opts.CompressionLevel, opts.MaxEntryBytes)

	dir := opts.Dir
	if dir == "" {
		d, err := defaultDir()
		if err != nil {
			// No directory is safe: run on the memory tier, and say so once.
			c.fail(fmt.Errorf("cache: no safe default directory, running without a disk tier: %w", err))
			c.diskOff.Store(true)
			return c, nil
		}
		dir = d
	} else if abs, err := filepath.Abs(dir); err == nil {
		// A relative Dir is resolved once, at Open: a later change of the working
		// directory does not move the cache.
		dir = abs
	}
	c.root = filepath.Join(dir, opts.Namespace)
	c.versionDir = filepath.Join(c.root, versionID(c.version))
	fileSlots.setLimit(openFileSlots())
	// Checked before anything is written, so that a planted link cannot make Open write
	// (a version directory, a cache tag) where it points; the missing directories down to
	// the namespace are made one at a time, each checked as it is made (another user may
	// make one first, between the check and the making); the namespace is checked again,
	// and only then is anything written in it.
	err := c.recheck()
	if err == nil {
		err = c.initDir()
	}
	if err == nil {
		err = checkOwnDirs(dir, c.root, c.versionDir, true)
	}
	if err == nil {
		err = tagDir(c.root)
	}
	if err != nil {
		c.fail(err)
		c.diskOff.Store(true)
	}
	return c, nil
}

// tagFile is the name of the file that marks a cache directory, and tagSignature the line it
// starts with, as the Cache Directory Tagging Specification (bford.info/cachedir) defines
// them. A Cache tags its namespace directory (not Dir, which may be shared, as ~/.cache is):
// backup tools skip it, and the admin functions work only in tagged namespaces.
const (
	tagFile      = "CACHEDIR.TAG"
	tagSignature = "Signature: 8a477f597d28d172789f06886806bc55"
	// tagHead starts the tags that cachegen writes: other programs (ccache, cargo) tag
	// their caches with the same signature, and the admin functions must not take those
	// for namespaces.
	tagHead = tagSignature + "\n# This file is a cache directory tag created by cachegen."
)

// tagDir writes the cache directory tag in dir, unless one is there.
func tagDir(dir string) error {
	name := filepath.Join(dir, tagFile)
	if _, err := os.Stat(name); err == nil {
		return nil
	}
	content := tagHead + "\n# For information about cache directory tags, see https://bford.info/cachedir/\n"
	if err := writeFileAtomic(name, []byte(content), false); err != nil {
		return fmt.Errorf("cache: tagging the directory: %w", err)
	}
	return nil
}

// tagged reports whether the namespace directory root is a real directory (not a symbolic
// link) tagged as a cache: the admin functions remove and write files by name, and must not
// do so in a directory that is not a cache.
func tagged(root string) bool {
	fi, err := os.Lstat(root)
	if err != nil || !fi.IsDir() {
		return false
	}
	b, err := readSmall(filepath.Join(root, tagFile))
	return err == nil && strings.HasPrefix(string(b), tagHead+"\n")
}

// checkDir validates the arguments of the admin functions.
func checkDir(dir, namespace string) error {
	if namespace != "" && !namespaceRE.MatchString(namespace) {
		return fmt.Errorf("cache: invalid namespace %q", namespace)
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// versionID returns the name of the directory of a version's entries: 16 hex digits of a
// hash of the version string (which is recorded in the directory's version.txt).
func versionID(version string) string {
	sum := sha256.Sum256([]byte("cachegen version\x00" + version))
	return hex.EncodeToString(sum[:8])
}

// initDir creates the version directory and its version.txt.
func (c *Cache) initDir() error {
	if err := ensureDir(c.root, c.versionDir); err != nil {
		return fmt.Errorf("cache: creating directory: %w", err)
	}
	name := filepath.Join(c.versionDir, versionFile)
	now := c.now()
	c.versionUsed.Store(now.UnixNano())
	if os.Chtimes(name, now, now) == nil {
		return nil
	}
	if _, err := os.Stat(name); err == nil {
		return nil // a read-only directory: its entries can still be read
	}
	if err := writeFileAtomic(name, []byte(c.version+"\n"), false); err != nil {
		return fmt.Errorf("cache: writing version: %w", err)
	}
	return nil
}

// DefaultDir returns the directory used when Options.Dir is "": the cachegen subdirectory of
// os.UserCacheDir, or, when that is unknown or unusable, a directory of this user's under
// os.TempDir ("cachegen-" and the user id). Either must be a directory this user owns and
// others cannot write, created with mode 0700 if it is missing: a directory another user
// owns or can write could hold planted entries. It returns "" when neither is safe; the cache
// then has no disk tier.
func DefaultDir() string {
	d, _ := defaultDir()
	return d
}

// defaultDir is DefaultDir, with why it found no safe directory.
func defaultDir() (string, error) {
	var errs []error
	if d, err := os.UserCacheDir(); err == nil && !filepath.IsAbs(d) {
		errs = append(errs, fmt.Errorf("cache: the user cache directory %s is relative", d))
	} else if err == nil {
		d = filepath.Join(d, "cachegen")
		if err := privateDir(d, true); err == nil {
			return d, nil
		} else {
			errs = append(errs, err)
		}
	} else {
		errs = append(errs, err)
	}
	tmp := os.TempDir()
	if !filepath.IsAbs(tmp) {
		// A relative TMPDIR would resolve elsewhere after a change of directory.
		return "", errors.Join(append(errs, fmt.Errorf("cache: the temporary directory %s is relative", tmp))...)
	}
	d := filepath.Join(tmp, "cachegen-"+userTag())
	if err := privateDir(d, false); err != nil {
		return "", errors.Join(append(errs, err)...)
	}
	return d, nil
}

// checkOwnDirs reports why the namespace root and version directory versionDir under dir
// could hold entries another user planted: no one but this user and root may be able to
// replace dir or a directory above it (no directory that others, its group included, may
// write without the sticky bit: whoever can write it can rename a directory of their own
// in), and the namespace and version directories must be this user's alone. Before they
// are made (made is false), those that do not exist yet pass.
func checkOwnDirs(dir, root, versionDir string, made bool) error {
	// Before Open makes them, the directories from dir down may not exist: those Open
	// makes are this user's, with mode 0700. The nearest one that exists is checked.
	above := root
	for !made {
		if _, err := os.Lstat(filepath.Dir(above)); !errNotExist(err) || filepath.Dir(above) == above {
			break
		}
		above = filepath.Dir(above)
	}
	if err := checkAncestors(above, 0o022); err != nil {
		return fmt.Errorf("cache: not using %s: %w", dir, err)
	}
	dirs := []string{root, versionDir}
	if !made {
		// What is in the namespace, once it is this user's alone, is this user's doing:
		// Open repairs it (a link where the version directory belongs).
		dirs = dirs[:1]
	}
	for _, d := range dirs {
		fi, err := os.Lstat(d)
		if err != nil {
			if !made && errNotExist(err) {
				continue
			}
			return fmt.Errorf("cache: %w", err)
		}
		if err := checkPrivate(fi); err != nil {
			return fmt.Errorf("cache: not using %s: %w", d, err)
		}
	}
	return nil
}

// makePrivateDirs makes the missing directories of path (mode 0700), from the nearest one
// that exists down, one at a time: each must then be a directory of this user's that others
// cannot write, and not a link, whoever made it. MkdirAll would follow a link that another
// user put where a directory was missing, and write through it.
func makePrivateDirs(path string) error {
	var missing []string
	for p := path; ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errNotExist(err) || filepath.Dir(p) == p {
			break
		}
		missing = append(missing, p)
	}
	slices.Reverse(missing)
	return makeDirsChecked(missing)
}

// makeDirsChecked makes the directories dirs, each below the one before, as makePrivateDirs.
func makeDirsChecked(dirs []string) error {
	for _, p := range dirs {
		if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("cache: creating %s: %w", p, err)
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("cache: %w", err)
		}
		if err := checkPrivate(fi); err != nil {
			return fmt.Errorf("cache: not using %s: %w", p, err)
		}
	}
	return nil
}

// privateDir makes sure d is a directory of this user's that others cannot write, creating
// it (with its parents when parents is set) with mode 0700 if it is missing.
func privateDir(d string, parents bool) error {
	fi, err := os.Lstat(d)
	if errNotExist(err) {
		if parents {
			err = os.MkdirAll(d, 0o700)
		} else {
			err = os.Mkdir(d, 0o700)
		}
		if err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("cache: creating %s: %w", d, err)
		}
		fi, err = os.Lstat(d)
	}
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := checkPrivate(fi); err != nil {
		return fmt.Errorf("cache: not using %s: %w", d, err)
	}
	if err := checkAncestors(d, 0o022); err != nil {
		return fmt.Errorf("cache: not using %s: %w", d, err)
	}
	return nil
}

// Dir returns the directory of this Cache's namespace, or "" when the disk tier is disabled.
func (c *Cache) Dir() string {
	if c.diskOff.Load() {
		return ""
	}
	return c.root
}

// Version returns the version string that identifies this Cache's entries.
func (c *Cache) Version() string { return c.version }

// Stats returns a snapshot of the Cache's counters.
func (c *Cache) Stats() Stats {
	s := &c.stats
	memoryHits := s.memoryHits.load()
	return Stats{
		Hits:          s.hits.Load() + memoryHits,
		Misses:        s.misses.Load(),
		Errors:        s.errors.Load(),
		MemoryHits:    memoryHits,
		DiskHits:      s.diskHits.Load(),
		Computes:      s.computes.Load(),
		ComputeErrors: s.computeErrors.Load(),
		Shared:        s.shared.Load(),
		Stores:        s.stores.Load(),
		StoredBytes:   s.storedBytes.Load(),
		Corrupt:       s.corrupt.Load(),
		MemoryEvicted: s.memoryEvicted.Load(),
		Trims:         s.trims.Load(),
		Trimmed:       s.trimmed.Load(),
		TrimsStopped:  s.trimsStopped.Load(),

		Verified:       s.verified.Load(),
		VerifyFailures: s.verifyFailures.Load(),

		RemoteHits:     s.remoteHits.Load(),
		RemoteMisses:   s.remoteMisses.Load(),
		RemoteErrors:   s.remoteErrors.Load(),
		RemoteRejected: s.remoteRejected.Load(),
		RemoteSkipped:  s.remoteSkipped.Load(),
		Uploads:        s.uploads.Load(),
		UploadedBytes:  s.uploadedBytes.Load(),
		UploadsDropped: s.uploadsDropped.Load(),
	}
}

// fail counts err in Stats.Errors and logs the first such error of the Cache.
func (c *Cache) fail(err error) {
	c.stats.errors.Add(1)
	c.logOnce.Do(func() {
		c.opts.Logger.Warn("cachegen cache degraded: later errors are only counted in Stats.Errors",
			"namespace", c.opts.Namespace, "err", err)
	})
}

// Close stops a running background trim within a few milliseconds once the trim can show
// that the namespace is within Options.MaxBytes without going on: what it did is kept, and
// the next store, of any process, trims again. Until then it waits for the trim (to its
// end for a namespace over its budget, or one a trim never sized; see Eviction in the
// package documentation), since the budget is a promise. It waits for the computations
// still running for cancelled callers (for Options.CloseTimeout at most: a computation
// that never returns does not make Close hang), then for the uploads queued for the
// remote tier (for Options.RemoteCloseTimeout at most; the rest are dropped) and for the
// miss explainer's records (written at once); when what those stored takes the namespace
// past its budget, it trims it as above. It then closes the Remote and releases the
// compressor. Loads must not be running or start during Close; a Load after Close is
// served from the memory tier or calls compute, and never reads or writes the disk or the
// remote. Its error is the Remote's Close's.
func (c *Cache) Close() error {
	c.flightMu.Lock()
	if c.closed {
		c.flightMu.Unlock()
		return nil
	}
	c.closed = true
	c.flightMu.Unlock()
	c.stopping.Store(true) // a background trim that can stop does
	c.records.close()      // the explainer's writer appends now, rather than after its linger
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(c.opts.CloseTimeout):
		c.opts.Logger.Warn("cachegen cache: Close stopped waiting for computations or a trim still running; their results will not be stored, and the next trim goes on from the trim's last record",
			"namespace", c.opts.Namespace, "waited", c.opts.CloseTimeout)
	}
	// Closed first: a computation that Close gave up waiting for stores nothing after the
	// trim below looked for what the stores before it need.
	c.diskMu.Lock()
	c.diskClosed = true
	c.diskMu.Unlock()
	c.trimAtClose()
	var err error
	if c.remote != nil {
		err = c.remote.close(c.opts.RemoteCloseTimeout)
	} else if c.unusedRemote != nil {
		err = c.unusedRemote.Close()
	}
	c.codec.close()
	return err
}

// trimAtClose runs the trim, one that Close stops, that what Close waited for (a
// computation that a caller gave up on and its store, the explainer's last records) would
// have started, once nothing else of this Cache runs: trims start no more once Close
// began, and those refused would leave the namespace past its budget. A Cache whose Close
// refused none trims nothing: one that does not store costs nothing.
// After a CloseTimeout, it runs only if no trim of this Cache is still running.
func (c *Cache) trimAtClose() {
	if !c.trimRefused.Load() || !c.trimming.CompareAndSwap(false, true) {
		return
	}
	defer c.trimming.Store(false)
	c.backgroundTrim(func() bool { return true })
}

// Flush waits until what the Cache writes in the background is done, or ctx is done, which
// is its only error: the uploads queued for the remote tier (uploaded, refused or failed:
// see Stats), and the miss explainer's records and log of misses. Jobs that warm a shared
// cache call it before they exit; Close also waits for them, for Options.RemoteCloseTimeout
// at most for the uploads.
func (c *Cache) Flush(ctx context.Context) error {
	if c == nil {
		return nil
	}
	if err := c.records.wait(ctx); err != nil {
		return err
	}
	if c.remote == nil {
		return nil
	}
	return c.remote.flush(ctx)
}

// begin registers background work; it reports false after Close.
func (c *Cache) begin() bool {
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
}

// entryKey mixes a key's digest with the version and the value type into the name of its
// entry file. The encoding is length-prefixed, hence injective.
func (c *Cache) entryKey(k *memKey) entryKey {
	h := sha256.New()
	var n [8]byte
	// The entry format is part of the name: a program built on an earlier format, under the
	// same Options.Version, keeps its own entries instead of overwriting these. So is the
	// namespace: an entry copied or linked into another namespace's directory, or a
	// namespace that shares one on a file system that ignores case, is not found there.
	for _, s := range []string{"cachegen entry", strconv.Itoa(formatVersion), c.opts.Namespace, c.version, k.vt.key, k.vt.name} {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	h.Write(k.d[:])
	var ek entryKey
	h.Sum(ek[:0])
	return ek
}

// entryPath returns the file of an entry: <version dir>/<first 2 hex>/<64 hex>.
func (c *Cache) entryPath(ek *entryKey) string {
	name := hex.EncodeToString(ek[:])
	return filepath.Join(c.versionDir, name[:2], name)
}

// errNotExist reports whether err says a file is missing.
func errNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
