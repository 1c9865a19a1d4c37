package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
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
	// DefaultNamespace is the namespace used when Options.Namespace is empty.
	DefaultNamespace = "default"
)

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
	// Dir is the cache's root directory. "" selects DefaultDir(): the user cache directory's
	// cachegen subdirectory, or the temporary directory's when that is unusable.
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
	// MemoryBytes bounds the memory tier. 0 selects DefaultMemoryBytes; a negative value
	// disables the memory tier.
	MemoryBytes int64
	// MaxBytes bounds the disk usage of the namespace; trimming removes least recently used
	// entries until the namespace fits in 90% of it. 0 selects DefaultMaxBytes.
	MaxBytes int64
	// MaxAge is how long an entry is kept after its last use. 0 selects DefaultMaxAge.
	MaxAge time.Duration
	// MaxEntryBytes bounds the msgp encoding of one value: larger values are computed but
	// not stored, and entry files announcing more are malformed. 0 selects
	// DefaultMaxEntryBytes.
	MaxEntryBytes int64
	// CompressionLevel is the zstd level (1 to 22, mapped to the encoder's speeds) of entry
	// files. 0 selects level 3 (zstd's default); a negative value stores values uncompressed.
	CompressionLevel int
	// Sync makes every store fsync the entry file before renaming it into place, so that a
	// machine crash cannot leave an empty or partial file under an entry's name (such a file
	// would be a miss anyway). Off by default: it costs a disk flush per store.
	Sync bool
	// Logger receives the first disk error of the Cache (later ones are only counted) and
	// debug messages. nil selects slog.Default().
	Logger *slog.Logger
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
	Trims         uint64 // trims of the namespace run by this Cache
	Trimmed       uint64 // files removed by those trims
}

// counters are the atomic counterparts of Stats.
type counters struct {
	hits, misses, errors, memoryHits, diskHits, computes, computeErrors, shared,
	stores, storedBytes, corrupt, memoryEvicted, trims, trimmed atomic.Uint64
}

// A Cache is a two-tier cache of values computed from keys: an in-memory LRU of encoded
// values in front of a directory of entry files shared by processes. Use it with Load. A
// Cache is safe for concurrent use.
type Cache struct {
	opts       Options
	version    string // the version string identifying the program
	root       string // Dir/namespace; "" when the disk tier is disabled
	versionDir string // root/<version id>

	mem   *memory
	types sync.Map // reflect.Type -> *valueType

	flightMu sync.Mutex         // guards flights, closed and wg.Add
	flights  map[memKey]*flight // running lookups by key digest and value type
	closed   bool
	wg       sync.WaitGroup // background trims and flights

	// encoder and decoder are made on first use; encoderMade and decoderMade say whether
	// they were, so that Close releases only what exists.
	encoder                  func() (*zstd.Encoder, error)
	decoder                  func() (*zstd.Decoder, error)
	encoderMade, decoderMade atomic.Bool

	stats       counters
	logOnce     sync.Once
	diskOff     atomic.Bool  // set when the disk tier failed at Open
	nextTrim    atomic.Int64 // Unix nanoseconds before which stores do not check trim.txt
	written     atomic.Int64 // bytes stored since this Cache last trimmed
	versionUsed atomic.Int64 // Unix nanoseconds when version.txt's mtime was last set
	trimming    atomic.Bool  // a background trim is running
}

// A valueType is the identity of a value type, computed once per type and Cache.
type valueType struct {
	name string
}

// valueTypeOf returns the identity of V.
func valueTypeOf[V any](c *Cache) *valueType {
	t := reflect.TypeFor[V]()
	if vt, ok := c.types.Load(t); ok {
		return vt.(*valueType)
	}
	name := t.String()
	if t.Name() != "" {
		name = t.PkgPath() + "." + t.Name()
	}
	if len(name) > maxTypeLen {
		sum := sha256.Sum256([]byte(name))
		name = "sha256:" + hex.EncodeToString(sum[:])
	}
	vt, _ := c.types.LoadOrStore(t, &valueType{name: name})
	return vt.(*valueType)
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
	if opts.CompressionLevel > 22 {
		return nil, fmt.Errorf("cache: invalid compression level %d", opts.CompressionLevel)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Cache{opts: opts, version: opts.Version, flights: make(map[memKey]*flight)}
	if c.version == "" {
		c.version = buildVersion()
	}
	c.mem = newMemory(opts.MemoryBytes, &c.stats.memoryEvicted)
	level := zstd.SpeedDefault
	if opts.CompressionLevel > 0 {
		level = zstd.EncoderLevelFromZstd(opts.CompressionLevel)
	}
	c.encoder = sync.OnceValues(func() (*zstd.Encoder, error) {
		if opts.CompressionLevel < 0 {
			return nil, nil
		}
		c.encoderMade.Store(true)
		return zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderCRC(false))
	})
	c.decoder = sync.OnceValues(func() (*zstd.Decoder, error) {
		c.decoderMade.Store(true)
		return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(uint64(opts.MaxEntryBytes)), zstd.WithDecodeAllCapLimit(true))
	})

	dir := opts.Dir
	if dir == "" {
		dir = DefaultDir()
	}
	c.root = filepath.Join(dir, opts.Namespace)
	c.versionDir = filepath.Join(c.root, versionID(c.version))
	if err := c.initDir(); err != nil {
		c.fail(err)
		c.diskOff.Store(true)
	}
	return c, nil
}

// versionID returns the name of the directory of a version's entries: 16 hex digits of a
// hash of the version string (which is recorded in the directory's version.txt).
func versionID(version string) string {
	sum := sha256.Sum256([]byte("cachegen version\x00" + version))
	return hex.EncodeToString(sum[:8])
}

// initDir creates the version directory and its version.txt.
func (c *Cache) initDir() error {
	if err := os.MkdirAll(c.versionDir, 0o777); err != nil {
		return fmt.Errorf("cache: creating directory: %w", err)
	}
	name := filepath.Join(c.versionDir, versionFile)
	now := time.Now()
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
// os.UserCacheDir, or of os.TempDir when the user cache directory is unknown or cannot be
// created.
func DefaultDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		d = filepath.Join(d, "cachegen")
		if err := os.MkdirAll(d, 0o777); err == nil {
			return d
		}
	}
	return filepath.Join(os.TempDir(), "cachegen")
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
	return Stats{
		Hits:          s.hits.Load(),
		Misses:        s.misses.Load(),
		Errors:        s.errors.Load(),
		MemoryHits:    s.memoryHits.Load(),
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

// Close waits for the background trim and the computations still running for cancelled
// callers, and releases the compressor. Loads must not be running or start during Close;
// a Load after Close is served from the memory tier or calls compute, and never reads or
// writes the disk.
func (c *Cache) Close() error {
	c.flightMu.Lock()
	if c.closed {
		c.flightMu.Unlock()
		return nil
	}
	c.closed = true
	c.flightMu.Unlock()
	c.wg.Wait()
	if c.encoderMade.Load() {
		if enc, err := c.encoder(); err == nil && enc != nil {
			enc.Close()
		}
	}
	if c.decoderMade.Load() {
		if dec, err := c.decoder(); err == nil {
			dec.Close()
		}
	}
	return nil
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
	for _, s := range []string{"cachegen entry", c.version, k.vt.name} {
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
