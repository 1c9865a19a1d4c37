// Package cache is the runtime cache of values computed from cachegen keys: a memory tier
// per Cache in front of a directory of entry files shared by all the processes of a user.
//
//	c, err := cache.Open(cache.Options{Namespace: "mycompiler"})
//	...
//	defer c.Close()
//	art, err := cache.Load(ctx, c, CompileKey{Src: src, OptLevel: 2}, compile)
//
// # Keys must be complete
//
// A cached value is only as correct as its key. Load hashes the key with keyhash (whose
// HashKey methods cachegen generates for //cachegen:key structs, one call per field, so that
// no field is forgotten), and the compute function must get everything it depends on through
// that key: it must be a top-level function, or a closure that captures nothing, reading only
// its key argument. A compute function that reads a global, a file named outside the key, or
// a captured variable produces values that the key does not describe, and the cache then
// serves one program state's results to another. This is the rule that wasmtime's cache
// enforces by taking a plain fn(T) pointer, which cannot capture anything; Go's func values
// cannot express it, so the analyzer cmd/cachegen-vet checks it: it reports a compute that
// captures, is a method value, or reads (itself or through the functions of the module it
// calls) a package variable assigned after init, ctx.Value, the environment, the clock, random
// numbers, the file system, the network or other processes. What the key does not need to
// contain is the program itself: entries are separated by version (below).
//
// # Identity
//
// An entry is named by the SHA-256 of the namespace, the cache's version, the key type's
// identity (its package path and name; for a key passed as an interface, the type it
// holds), the value type's identity (its package path and name and a digest of its schema:
// its structure from reflect, recursively: kinds, field names, types, tags and embedding),
// computed once per pair of types and Cache, and the key's keyhash digest. So a new build
// of the program, a Load of another value type under the same key, the same value type with
// another shape (a field added under a pinned Options.Version, which msgp would otherwise
// decode as zero), a key of another type whose digest is the same (hand-written HashKey
// methods need not name their type, as generated ones do; K and *K are two types), or an
// entry copied from another namespace's directory is a miss. Two types declared inside
// functions, of one name and shape, share their package path and name, and so their
// identity on disk: declare key and value types at the package level.
//
// The version is Options.Version when set. Otherwise it comes from the running program's
// build information. A release build (a tagged, unmodified main module whose dependencies are
// all module versions, each with its sum) is identified by the main module's path, version and VCS revision, the
// Go version, and a digest of the whole build information: every build setting (-ldflags,
// -tags, CGO_ENABLED, GOAMD64, ...) and every dependency's path, version, sum and
// replacement. Any other build is a development build: version "(devel)" or unknown, a
// modified one (vcs.modified=true, or a "+dirty" version), one with a dependency replaced by
// a local directory or without a sum (read from a vendor directory, whose edits leave no
// trace), or a -trimpath build (the go command leaves -ldflags out of its build
// information). It is identified by a SHA-256 of the running executable, read once
// per process from /proc/self/exe where the system has it (so that a rebuild that replaces
// the file does not change a running program's version), else from os.Executable. A build
// with -overlay or -toolexec, or by a toolchain changed in place, records nothing of it: set
// Options.Version for those, and change it whenever what the program computes or how it
// encodes values changes in a way the value type's shape does not show (an enum renumbered,
// a hand-written encoding changed). Entries of other versions are never read, and trimming
// removes them (see Eviction).
//
// # Layout
//
// Everything lives under Options.Dir (by default the cachegen directory of
// os.UserCacheDir, see DefaultDir; never a directory that another user owns or can write,
// see Options.Dir), in directories of mode 0700 and files of mode 0600:
//
//	<dir>/<namespace>/trim.txt                   Unix time of the namespace's last trim
//	<dir>/<namespace>/trimstate.txt              what trims found in each shard directory
//	<dir>/<namespace>/stored.txt                 what was stored since the last trim, where
//	<dir>/<namespace>/recorded.txt               what the explainer's files grew by since
//	<dir>/<namespace>/room.txt                   when the growth passes the budget
//	<dir>/<namespace>/CACHEDIR.TAG                marks a cache directory (bford.info/cachedir)
//	<dir>/<namespace>/explain-<16 hex>.rec        the miss explainer's records of a key type
//	<dir>/<namespace>/misses.txt                  the misses explained lately
//	<dir>/<namespace>/*.old                       the older halves of those two
//	<dir>/<namespace>/<version>/version.txt      the version string, for people and Usage
//	<dir>/<namespace>/<version>/<2 hex>/<64 hex>   one entry file
//	<dir>/<namespace>/<version>/<2 hex>/<64 hex>.tmp<digits>   a store in progress
//
// <version> is 16 hex digits of a hash of the version string; <64 hex> is the entry's digest
// and <2 hex> its first two digits, which spreads the entries over 256 directories.
// Namespaces separate unrelated users of one directory; Usage, TrimDir and Clear (for the
// cachegen cache command) recognise this layout and touch nothing else.
//
// # Entry files
//
// An entry file is a 72-byte header, the value type's identity and the payload: the value's
// msgp encoding (MarshalMsg), stored raw or compressed (see Options.CompressionLevel). By
// default a value is compressed with s2 when a sample of it (four pieces of 4 KiB, or the
// whole of a smaller value) shrinks by a quarter or more, so that values that do not compress
// cost only the sample, and every hit of a compressed one decodes at memory speed; a zstd
// level trades slower stores and hits for smaller files. The header holds a magic string, the
// format version, the codec, the entry digest, the raw and stored sizes and a CRC-32C of the
// whole file. A reader checks all of them, the checksum before it decompresses anything, and
// that the payload decodes to exactly one value; any failure (a truncated, empty, damaged,
// foreign or other-type file, or a codec it does not know) makes the entry a miss that is
// recomputed and replaced, never a wrong value and never an error for the caller. The raw
// size is checked against Options.MaxEntryBytes before anything is allocated, and the
// decompressor cannot produce more than the header announced. A hit opens, checks (fstat:
// a regular file of this user's, not reached through a link) and reads the file with system
// calls alone; a store writes a large raw value from its encoding, after the header, without
// copying it. The zstd encoder and decoder are created once per Cache, on first use, and
// shared by all Loads; s2 needs none.
//
// A store writes the file under a unique temporary name (os.CreateTemp) in the entry's
// directory and renames it into place, so a reader, in this process or another, sees the
// old file or the whole new one. Files are not synced unless Options.Sync is set: after a
// machine crash an entry may be empty or partial, which is only a miss. The files of
// writers that crashed are removed by trimming once they are an hour old.
//
// # Memory tier
//
// In front of the disk, each Cache keeps recently used values, bounded by
// Options.MemoryBytes (64 MiB by default; negative disables it), counted by what they
// retain (an encoding by its length, a value kept decoded by an estimate of its heap size),
// least recently used evicted first (approximately: a hit marks its entry, and eviction
// spares a marked entry, and the entry just stored, once, so that hits write nothing shared
// and parallel hits of one key scale across cores). Every hit returns a value of the caller's
// own, which it can mutate or keep without affecting any other caller. For a value type
// whose pointer has a CachegenClone method (cachegen generates one for //cachegen:value
// structs whose fields it can copy; see Cloner), the first hit of an entry decodes it once
// and keeps the value, and each hit returns a copy, a fraction of the cost of decoding;
// other types keep the encoding and decode it on every hit (one UnmarshalMsg), as do values
// that would retain more than four times their encoding once decoded (see Cloner). Either is
// far cheaper than a disk hit, which reads, checks and decompresses the file first.
//
// Options.SharedValues trades that guarantee for speed: a memory hit then returns the value
// the tier keeps, the same for every caller, at about the cost of a map lookup, and the
// caller promises never to modify it.
//
// # Concurrency
//
// Concurrent Loads of one key and value type in a process share one lookup: one disk read,
// or one call of compute. compute runs detached from the cancellation of the caller that
// started it (context.WithoutCancel), and each waiting caller also watches its own context,
// so a caller that gives up returns ctx.Err() at once without failing the others; the
// computation finishes and its result is stored. Processes coordinate through the file
// system only: atomic renames mean that no process sees another's partial file, and two
// processes computing the same entry just store it twice.
//
// # Eviction
//
// The namespace is bounded by Options.MaxBytes (1 GiB by default) and entries by
// Options.MaxAge since their last use (30 days by default). The access time is the file's
// modification time, refreshed by a disk hit when it is more than an hour old, so hits cost
// a write at most hourly (as in Go's build cache). A hit in the memory tier does not refresh
// it. Trimming removes temporary files over an hour old, the entries older than MaxAge, and
// then, while the namespace takes more than MaxBytes on disk (counted in the blocks files
// and directories occupy, so that a 100-byte entry costs its 4 KiB block, the cache's own
// files included, trimstate.txt as large as the trim will write it), temporary files over two minutes
// old (killed writers') and the least recently used entries until it fits in 90% of
// MaxBytes (an entry used while the trim runs goes in its turn by that use); last, the directories of other versions that are no longer used (below). A time more than an hour in the future (a clock set back,
// or skew between machines sharing the directory) is not believed: a trim sets such a file's
// time to its own now, from which it ages as any other, and such a trim.txt counts as due. A value whose entry would not fit in 90% of MaxBytes is
// not stored (it would be trimmed and rewritten on every miss). Another version's directory is removed whole once it
// has gone unused for two hours (a Cache marks its version as used by setting the mtime of
// its version.txt at Open, and at most hourly after a store or a disk hit); until then its
// entries count toward the budget with the current ones, so that two builds used side by
// side do not wipe each other's entries at every trim.
//
// A background trim lists only the shard directories whose mtime changed since a trim
// listed them (or that may hold aged or temporary files), and takes what the others hold
// from trimstate.txt, so that its cost follows what was stored since the last one rather
// than the size of the cache; Cache.Trim, TrimDir and a trim after a full disk list every
// directory.
//
// Once the namespace is at its budget, each store that takes it past the budget evicts about
// what it stored, without listing the namespace. trimstate.txt keeps, for each shard
// directory, its 16 least recently used entries as its last listing found them; stores
// append to stored.txt a byte per KiB naming the shard directory they wrote in; the miss
// explainer's writer appends to recorded.txt a byte per KiB its files grew by (a key of many
// fields makes a record larger than its entry, and each key type a file); and each trim
// writes to room.txt how far the two may grow before the namespace passes its budget (a
// missing or damaged room.txt starts a trim at the next store, which writes it). The
// explainer's files count as they are whenever a trim sizes the namespace, so a trim removes
// recorded.txt as it starts.
// The store that passes it starts a trim that removes those entries, the least recently used
// first across directories, each checked on disk first (one used since, or changed, stays,
// and its directory is listed when its turn comes), until the namespace is within its budget
// again by the bound below, and at least 16 entries within a sixty-fourth of MaxBytes under
// it, so that the small stores of the next short runs find room; it lists a directory only
// when the entries kept of it are spent. What the version directories being removed hold
// does not count here: it goes with them. It removes at most what its Cache stored since
// its last trim, and a sixty-fourth of MaxBytes more, counted from the files: a bound that
// a damaged trimstate.txt makes too high costs no more than that (and what the second pass
// below may remove). The trim then lists the
// directories that changed; if the namespace is still past its budget by more than was
// stored meanwhile (the stores of others, whose trims found its lock held and left them to
// it), a second pass removes at most what the ledgers it took say was stored, by the bound
// of the directories as listed; past that, the rest of the trim, which then cannot stop,
// sizes the namespace by listing it. A shard directory that no trim recorded (a new
// version's) is listed first: the bound needs its size. A short run that stores past the
// budget thus waits in Close for the removal of about what it stored (a few ms for 16
// entries on the disk measured in BENCHMARKS.md), not for a trim of the namespace.
//
// Close stops a running background trim at its next shard directory (within a few
// milliseconds), but only once the trim can show without going on that the namespace is
// within MaxBytes: the size of every shard directory, of every version, is known (listed
// by the trim, or recorded in trimstate.txt: a directory that was not there, or that a trim
// removed, is recorded empty), and what they hold, with what was stored since the last trim
// in those that changed since their record (stored.txt, below), fits in it. A stopped trim
// records what it listed, adds what stored.txt said was stored in the directories it did
// not list to their records (or, for one modified in the last two seconds, which a store in
// the same tick of the file system's clock would not show, gives it back to stored.txt),
// and leaves trim.txt as it was, so that the next store, of any process, trims again from
// there; it looks again, after unlocking, for stores of others past the room it left, and
// so does a Cache, after its trim, for its own stores and records that found it running.
// What Close itself waits for (a computation that a caller gave up on, and its store; the
// explainer's last records) is counted too: a trim it would have started, which no longer
// starts once Close began, runs at the end of Close, stopped as any other (also when Close
// gave up waiting at CloseTimeout, unless a trim is still running). A trim looks again for
// four rounds, and after those, while its Cache is open, for as long as each round evicts
// something: others may store during each. Once its Close began, and for Cache.Trim and
// TrimDir, which also look again after unlocking, four rounds are all: the next store past
// the room, of any process, finds the lock free. Until then Close waits: for a namespace over its budget by more than the evictions
// above may remove, or some of whose directories no trim sized, that is to the end of the
// trim, as it is for a trim after a full disk and for one that took over the lock of a trim
// that crashed (which may have taken stored.txt with it). The budget is a promise, and a
// burst of short runs that did not wait for their trims would leave the namespace several
// times over it.
//
// Trimming runs in the background: after a store, at most once a minute, a Cache reads the
// namespace's trim.txt and trims when no process has done so for an hour; and after every
// store, when the stores pass the room the last trim left (room.txt, above), when the
// processes sharing the namespace have together stored a quarter of MaxBytes since its last
// trim (each store appends to the namespace's stored.txt a byte per KiB of the blocks its
// entry file takes, and of its shard directory when it makes one; each trim starts it
// again, taking it by a rename and reading it once the appends under way are done, under
// file locks where the system has them, so that no store goes uncounted), or when the
// disk is full. (written.txt, the ledger of an older layout, which did
// not say where, is still counted, as growth anywhere.) One process trims a namespace at
// a time (it holds trim.lock; one left by a crashed trim is taken over after ten minutes);
// one that finds it held leaves the work to the holder, which trims again when the others
// stored a quarter of MaxBytes meanwhile. There is no timer: a program that does not store
// costs nothing. Cache.Trim trims at once, and is never stopped. A
// process that exits without Close may leave its last stores untrimmed until the next
// store in the namespace, by any process.
//
// # Remote tier
//
// Options.Remote (or, when it is nil, the URL in CACHEGEN_REMOTE) adds a third tier shared
// by machines: a Bazel HTTP cache (http:// and https://, built in: GET and PUT of
// {base}/ac/<64 hex>), Redis or S3 (the engine packages redisremote and s3remote register
// their schemes when imported), or any Remote. Lookups go to memory, then the disk, then the
// remote; a remote hit is checked, then written to the disk and memory tiers, so the next
// Load is local. A computed value is stored locally and then queued for upload; a local hit
// is never uploaded. Everything remote happens inside the Load's flight: concurrent Loads of
// a key share one remote lookup.
//
// An entry's remote address is the SHA-256 (64 hex digits) of a domain string, the namespace
// and the entry digest, which covers the namespace, the version, the key type, the value
// type with its schema, and the key's digest. What is stored there is the entry file,
// exactly as on disk, followed by a trailer: the key id, the tag, the algorithm. The tag is
// an HMAC-SHA256 or an Ed25519 signature over a domain string, the format version, the
// namespace, the address, the value type identity and the whole entry. It is checked, in
// constant time, before any other byte is looked at; then the entry gets every check a disk entry gets (header, digest, type,
// CRC, sizes, bounded decompression to at most Options.MaxEntryBytes) and must decode. An
// entry without a trailer, with an unknown key id or algorithm, a wrong tag, or moved from
// another address, namespace, version or type, is a miss, counted in Stats.RemoteRejected,
// and never written locally. Without a key (Options.RemoteKeys, or CACHEGEN_REMOTE_SECRET,
// CACHEGEN_REMOTE_ED25519_PUBLIC or CACHEGEN_REMOTE_ED25519_PRIVATE) there is no remote tier,
// and Open logs why: unsigned entries are never accepted. Several keys may verify (key
// rotation); the first that can sign signs. A Cache that has only Ed25519 public keys, or is
// read-only (Options.RemoteReadOnly, CACHEGEN_REMOTE_READONLY=1, true, yes or on), never uploads.
//
// Uploads run in the background, at most four at a time, from a queue bounded in entries and
// bytes (Options.RemoteQueueEntries, RemoteQueueBytes); an upload that does not fit is
// dropped and counted in Stats.UploadsDropped. Flush waits for the queue; Close waits for it
// for Options.RemoteCloseTimeout, then drops the rest.
//
// The remote never fails a Load, and never holds one longer than its lookup bound, whatever
// the Remote does. A request must get its response within Options.RemoteTimeout (5s) after
// connecting within RemoteDialTimeout (2s); a body may take longer while its bytes keep
// flowing, but a pause of RemoteIdleTimeout (10s) abandons it. The Cache itself stops waiting
// for a lookup after RemoteLookupTimeout (1 min), and, when the Load that started the flight
// has a deadline, after half the time left before it, so that compute has the other half; a
// Load whose deadline has passed does not ask the remote. A lookup that errs or is not
// answered in time is a miss, counted in Stats.RemoteErrors and logged once; its Get is
// cancelled and its result dropped. An upload takes RemoteTransferTimeout (5 min) at most.
// Lookups and uploads have a circuit breaker each: after 5 consecutive failures of its kind,
// the remote is not asked for 30 seconds (lookups are counted in Stats.RemoteSkipped, uploads
// dropped); then one request probes it, the others skipping it until its answer closes the
// breaker (a failure opens it for another 30 seconds). An upload refused for its credentials
// (401, 403) ends the uploads of the Cache; one refused as too large (413) ends those of its
// size and larger. A lookup refused for its credentials is a failure of the lookup, which
// does not stop the uploads.
//
// # Failures
//
// The cache never makes a Load fail that compute would not have failed. When the directory
// cannot be created (Open then runs the Cache without a disk tier), when it is read-only or
// the disk is full, Load serves from memory or calls compute and returns its result; the
// problem is counted in Stats.Errors and the first one is logged through Options.Logger
// (slog.Default() by default). Open fails only for invalid options.
package cache
