package cache

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the remote tier's Options fields.
const (
	// DefaultRemoteDialTimeout bounds connecting to the remote when
	// Options.RemoteDialTimeout is 0.
	DefaultRemoteDialTimeout = 2 * time.Second
	// DefaultRemoteTimeout bounds a remote request until its response starts when
	// Options.RemoteTimeout is 0.
	DefaultRemoteTimeout = 5 * time.Second
	// DefaultRemoteIdleTimeout bounds the pauses of a remote transfer when
	// Options.RemoteIdleTimeout is 0.
	DefaultRemoteIdleTimeout = 10 * time.Second
	// DefaultRemoteLookupTimeout bounds a whole remote lookup, the longest a Load waits
	// for the remote, when Options.RemoteLookupTimeout is 0.
	DefaultRemoteLookupTimeout = time.Minute
	// DefaultRemoteTransferTimeout bounds a whole remote upload when
	// Options.RemoteTransferTimeout is 0.
	DefaultRemoteTransferTimeout = 5 * time.Minute
	// DefaultRemoteQueueEntries bounds the uploads waiting when Options.RemoteQueueEntries
	// is 0.
	DefaultRemoteQueueEntries = 256
	// DefaultRemoteQueueBytes bounds the bytes of the uploads waiting when
	// Options.RemoteQueueBytes is 0.
	DefaultRemoteQueueBytes = 64 << 20
	// DefaultRemoteCloseTimeout is how long Close waits for the uploads queued when
	// Options.RemoteCloseTimeout is 0.
	DefaultRemoteCloseTimeout = 10 * time.Second
)

// The circuit breakers, one for lookups and one for uploads, so that working uploads do not
// hide failing lookups: after remoteBreakerFailures consecutive failed requests of its kind,
// the remote is not asked for remoteBreakerCooldown (lookups are misses, uploads are
// dropped); then one request of that kind is let through (the others are skipped meanwhile):
// an answer closes the breaker, a failure opens it for another cooldown.
const (
	remoteBreakerFailures = 5
	remoteBreakerCooldown = 30 * time.Second
	// remoteUploaders is how many uploads run at once.
	remoteUploaders = 4
	// remoteAbandonWait is how long Close waits for the uploads it cancelled to return.
	remoteAbandonWait = time.Second
)

// The environment variables that configure the remote tier when Options.Remote is nil.
const (
	// RemoteEnv is the URL of the remote: http:// or https:// (the Bazel HTTP cache
	// protocol, built in), redis:// or rediss://, s3://bucket/prefix?endpoint=host:port
	// (each when its engine package is imported).
	RemoteEnv = "CACHEGEN_REMOTE"
	// RemoteSecretEnv holds HMAC-SHA256 keys, "<key id>:<secret>", several separated by
	// commas: the first signs, all verify. A key id is 1 to 64 letters, digits, '.', '_'
	// or '-', and is written in every entry, in clear. A secret holds no comma and no
	// white space at its ends, should be 32 random bytes or more (use hex or base64:
	// openssl rand -hex 32; under 16 bytes is logged as a warning), and is not shorter
	// than its id (such an item looks written the wrong way round, secret first, and is
	// refused). White space around items, ids and keys is ignored; errors never show an
	// item's content.
	RemoteSecretEnv = "CACHEGEN_REMOTE_SECRET"
	// RemoteEd25519PublicEnv holds Ed25519 public keys that verify, "<key id>:<base64 of
	// the 32-byte key>", several separated by commas. Base64 is standard or URL-safe,
	// padded or not. A public key with the id of the private key must be its public key.
	RemoteEd25519PublicEnv = "CACHEGEN_REMOTE_ED25519_PUBLIC"
	// RemoteEd25519PrivateEnv holds the Ed25519 key that signs, "<key id>:<base64 of the
	// 32-byte seed>" (or of the 64-byte private key). When set, it signs instead of the
	// HMAC secrets, which still verify.
	RemoteEd25519PrivateEnv = "CACHEGEN_REMOTE_ED25519_PRIVATE"
	// RemoteReadOnlyEnv set to 1, true, yes or on (in any case) makes the remote read-only;
	// 0, false, no, off or empty leave it writable; any other value is logged as an error
	// and makes it read-only. Like the other variables, it is read only when
	// Options.Remote is nil: a program that sets Options.Remote sets
	// Options.RemoteReadOnly itself.
	RemoteReadOnlyEnv = "CACHEGEN_REMOTE_READONLY"
	// RemoteTokenEnv is a bearer token for the remote's server (RemoteConfig.Token).
	RemoteTokenEnv = "CACHEGEN_REMOTE_TOKEN"
)

// remoteKeysFromEnv returns the keys of the environment variables, the Ed25519 private
// key first (it signs). Items are split at their first ':', and white space around the id
// and the key is ignored. Its errors name an item by its variable and position, never by
// its content: an item written the wrong way round would put a secret in the log.
func remoteKeysFromEnv() ([]RemoteKey, error) {
	var keys []RemoteKey
	each := func(env string, f func(id, val string) (RemoteKey, error)) error {
		v := os.Getenv(env)
		if strings.TrimSpace(v) == "" {
			return nil
		}
		for i, item := range strings.Split(v, ",") {
			id, val, ok := strings.Cut(item, ":")
			id, val = strings.TrimSpace(id), strings.TrimSpace(val)
			if !ok || id == "" || val == "" {
				return fmt.Errorf("cache: %s: item %d is not <key id>:<key>", env, i+1)
			}
			if !keyIDRE.MatchString(id) {
				return fmt.Errorf("cache: %s: item %d: the part before ':' is not a key id (1 to 64 letters, digits, '.', '_' or '-')", env, i+1)
			}
			k, err := f(id, val)
			if err != nil {
				return fmt.Errorf("cache: %s: item %d: %w", env, i+1, err)
			}
			keys = append(keys, k)
		}
		return nil
	}
	err := each(RemoteEd25519PrivateEnv, func(id, val string) (RemoteKey, error) {
		b, err := decodeKeyBase64(val)
		switch {
		case err != nil:
			return RemoteKey{}, err
		case len(b) == ed25519.SeedSize:
			return RemoteKey{ID: id, Ed25519Private: ed25519.NewKeyFromSeed(b)}, nil
		case len(b) == ed25519.PrivateKeySize:
			return RemoteKey{ID: id, Ed25519Private: ed25519.PrivateKey(b)}, nil
		}
		return RemoteKey{}, fmt.Errorf("%d bytes, want a 32-byte seed or a 64-byte private key", len(b))
	})
	if err == nil {
		err = each(RemoteEd25519PublicEnv, func(id, val string) (RemoteKey, error) {
			b, err := decodeKeyBase64(val)
			if err != nil {
				return RemoteKey{}, err
			}
			if len(b) != ed25519.PublicKeySize {
				return RemoteKey{}, fmt.Errorf("%d bytes, want 32", len(b))
			}
			return RemoteKey{ID: id, Ed25519Public: ed25519.PublicKey(b)}, nil
		})
	}
	if err == nil {
		err = each(RemoteSecretEnv, func(id, val string) (RemoteKey, error) {
			// A secret shorter than its id looks written first, in the id's place, where
			// every entry would show it: refused. A short secret is otherwise the
			// operator's choice, accepted with a warning.
			if len(val) < len(id) || looksSwapped(id, []byte(val)) {
				return RemoteKey{}, fmt.Errorf("the key id (%d characters) is longer than the secret (%d bytes): is the item written <secret>:<key id>?", len(id), len(val))
			}
			return RemoteKey{ID: id, HMAC: []byte(val)}, nil
		})
	}
	if err != nil {
		return nil, err
	}
	// A public key given besides the private key of the same id is the same key: keep
	// the private one, which newKeyRing would otherwise refuse as given twice. A different
	// key under that id is an error.
	priv := map[string]ed25519.PublicKey{}
	for _, k := range keys {
		if k.Ed25519Private != nil {
			priv[k.ID] = k.Ed25519Private.Public().(ed25519.PublicKey)
		}
	}
	out := keys[:0]
	for _, k := range keys {
		if p, ok := priv[k.ID]; ok && k.Ed25519Public != nil {
			if !p.Equal(k.Ed25519Public) {
				return nil, fmt.Errorf("cache: %s holds a public key whose id is that of the key of %s, but another key", RemoteEd25519PublicEnv, RemoteEd25519PrivateEnv)
			}
			continue
		}
		out = append(out, k)
	}
	return out, nil
}

// decodeKeyBase64 decodes an Ed25519 key of the environment: standard or URL-safe base64,
// padded or not.
func decodeKeyBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawURLEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, errors.New("not base64")
	}
	return b, nil
}

// remoteReadOnlyFromEnv reads RemoteReadOnlyEnv: 1, true, yes or on (in any case, white space
// around ignored) is read-only; 0, false, no, off or nothing is not. Anything else is an
// error, and read-only: a switch meant to stop the uploads does not fail open.
func remoteReadOnlyFromEnv() (bool, error) {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(RemoteReadOnlyEnv)))
	switch v {
	case "1", "true", "yes", "on":
		return true, nil
	case "", "0", "false", "no", "off":
		return false, nil
	}
	return true, fmt.Errorf("cache: %s is neither 1, true, yes, on nor 0, false, no, off: the remote is read-only", RemoteReadOnlyEnv)
}

// A remoteTier is a Cache's remote: the Remote, the keys, the breaker and the upload queue.
type remoteTier struct {
	r         Remote
	keys      *keyRing
	namespace string
	logger    *slog.Logger
	transfer  time.Duration // bound of a whole Put
	lookup    time.Duration // bound of a whole Get: how long a Load waits for it at most
	limit     int64         // the largest blob a Get accepts
	now       func() time.Time

	writable  atomic.Bool  // uploads are made: a signing key, not read-only, not denied
	maxUpload atomic.Int64 // blobs of this size or more are not uploaded (a 413); 0: no limit

	lookups, uploads breaker

	qMu        sync.Mutex
	queue      []upload
	queued     int64 // bytes in queue
	running    int   // uploaders running
	idle       chan struct{}
	qClosed    bool
	maxEntries int
	maxBytes   int64
	// stop is cancelled when Close stops waiting for the uploads: those still running
	// are abandoned.
	stop     context.Context
	stopNow  context.CancelFunc
	counters *counters

	// The calls of the Remote's Get and Put still running, which Close waits for before it
	// closes the Remote (a lookup the Load stopped waiting for may still run).
	callMu     sync.Mutex
	calls      int
	callsIdle  chan struct{} // closed when calls drops to 0; nil while none runs
	callsEnded bool          // Close has begun: no more calls
	closeLater bool          // Close gave up waiting: the last call to end closes the Remote

	errOnce, rejectOnce, deniedOnce, largeOnce sync.Once
}

// An upload is an entry waiting in the queue.
type upload struct {
	ek    entryKey
	typ   string
	entry []byte
}

// openRemote sets up the remote tier of c from its Options, or from the environment when
// Options.Remote is nil. A remote that cannot be used is logged and left out: it never
// fails Open.
func (c *Cache) openRemote() {
	o := &c.opts
	r, keys, readOnly := o.Remote, o.RemoteKeys, o.RemoteReadOnly
	fromEnv := r == nil
	var raw string
	if fromEnv {
		raw = os.Getenv(RemoteEnv)
		if raw == "" {
			return
		}
		if len(keys) == 0 {
			var err error
			if keys, err = remoteKeysFromEnv(); err != nil {
				o.Logger.Error("cachegen cache: no remote tier", "namespace", o.Namespace, "err", err)
				return
			}
		}
		ro, err := remoteReadOnlyFromEnv()
		if err != nil {
			o.Logger.Error("cachegen cache: remote configuration", "namespace", o.Namespace, "err", err)
		}
		readOnly = readOnly || ro
	}
	kr, err := newKeyRing(keys)
	if kr != nil {
		for _, w := range kr.warnings {
			o.Logger.Warn("cachegen cache: "+w, "namespace", o.Namespace)
		}
	}
	if err != nil {
		o.Logger.Error("cachegen cache: no remote tier: it needs a key, set "+RemoteSecretEnv+" or "+RemoteEd25519PublicEnv+" (or Options.RemoteKeys)",
			"namespace", o.Namespace, "err", err)
		c.unusedRemote = r
		return
	}
	if fromEnv {
		r, err = OpenRemote(raw, RemoteConfig{
			DialTimeout:    o.RemoteDialTimeout,
			RequestTimeout: o.RemoteTimeout,
			IdleTimeout:    o.RemoteIdleTimeout,
			Logger:         o.Logger,
			Token:          os.Getenv(RemoteTokenEnv),
		})
		if err != nil {
			o.Logger.Error("cachegen cache: no remote tier", "namespace", o.Namespace, "err", err)
			return
		}
	}
	t := &remoteTier{
		r: r, keys: kr, namespace: o.Namespace, logger: o.Logger, now: c.clock,
		transfer:   o.RemoteTransferTimeout,
		lookup:     min(o.RemoteLookupTimeout, o.RemoteTransferTimeout),
		limit:      headerSize + maxTypeLen + o.MaxEntryBytes + o.MaxEntryBytes/8 + 1024 + maxTrailer,
		maxEntries: o.RemoteQueueEntries, maxBytes: o.RemoteQueueBytes,
		counters: &c.stats,
	}
	t.stop, t.stopNow = context.WithCancel(context.Background())
	switch {
	case readOnly:
	case kr.signer == nil:
		o.Logger.Info("cachegen cache: the remote tier is read-only: no key to sign with", "namespace", o.Namespace)
	default:
		t.writable.Store(true)
	}
	c.remote = t
}

// clock returns the Cache's time (c.now, which tests replace).
func (c *Cache) clock() time.Time { return c.now() }

// A breaker counts the consecutive failures of one kind of request.
type breaker struct {
	mu        sync.Mutex
	failures  int       // consecutive failed requests
	openUntil time.Time // after failures reached remoteBreakerFailures: no requests until then
	probing   bool      // after the cooldown, the one request let through has not ended
}

// allow reports whether a request may be made now, and whether it is the probe of a
// breaker whose cooldown ended. Every allowed request must end with done or release.
func (b *breaker) allow(now time.Time) (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < remoteBreakerFailures {
		return true, false
	}
	if b.probing || now.Before(b.openUntil) {
		return false, false
	}
	b.probing = true
	return true, true
}

// done records the outcome of an allowed request: ok for an answer (a hit, a miss, a
// refusal), else a failure of the remote.
func (b *breaker) done(now time.Time, probe, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	if ok {
		b.failures = 0
		return
	}
	b.failures++
	if b.failures >= remoteBreakerFailures {
		b.openUntil = now.Add(remoteBreakerCooldown)
	}
}

// release ends an allowed request that says nothing of the remote (abandoned by Close).
func (b *breaker) release(probe bool) {
	if probe {
		b.mu.Lock()
		b.probing = false
		b.mu.Unlock()
	}
}

// failed counts and logs, the first time, an error of the remote.
func (t *remoteTier) failed(op string, err error) {
	t.counters.remoteErrors.Add(1)
	t.errOnce.Do(func() {
		t.logger.Warn("cachegen cache: remote "+op+" failed: treated as a miss; later remote errors are only counted in Stats.RemoteErrors",
			"namespace", t.namespace, "err", err)
	})
}

// rejected counts and logs, the first time, an entry of the remote that is not used.
func (t *remoteTier) rejected(addr string, why error) {
	t.counters.remoteRejected.Add(1)
	t.rejectOnce.Do(func() {
		t.logger.Warn("cachegen cache: remote entry refused: treated as a miss; later ones are only counted in Stats.RemoteRejected",
			"namespace", t.namespace, "key", addr, "why", why)
	})
}

// callStart counts a call of the Remote about to be made, unless Close has begun.
func (t *remoteTier) callStart() bool {
	t.callMu.Lock()
	defer t.callMu.Unlock()
	if t.callsEnded {
		return false
	}
	t.calls++
	return true
}

// callEnd counts a call of the Remote that returned.
func (t *remoteTier) callEnd() {
	t.callMu.Lock()
	t.calls--
	last := t.calls == 0
	if last && t.callsIdle != nil {
		close(t.callsIdle)
		t.callsIdle = nil
	}
	closeNow := last && t.closeLater
	t.callMu.Unlock()
	if closeNow {
		if err := t.r.Close(); err != nil {
			t.logger.Warn("cachegen cache: closing the remote", "namespace", t.namespace, "err", err)
		}
	}
}

// lookupWait returns how long a lookup may take: the lookup bound, and at most half of the
// time left before deadline, the deadline of the Load that started the flight (zero for
// none), so that compute has the other half. It is 0 when that time is over.
func (t *remoteTier) lookupWait(deadline time.Time) time.Duration {
	wait := t.lookup
	if !deadline.IsZero() {
		wait = min(wait, time.Until(deadline)/2)
	}
	return max(wait, 0)
}

// A lookup is the outcome of one Remote.Get.
type lookup struct {
	b   []byte
	err error
}

// get fetches and checks the entry of ek: it returns the entry file bytes, whose tag holds,
// or nil for a miss (counted and logged as it should be). The caller still decodes it.
// deadline is that of the Load that started the flight, or zero. get returns within
// lookupWait(deadline), whatever the Remote does: a Get that has not returned by then is
// abandoned (its context is cancelled, its result dropped) and counted as a failure.
func (t *remoteTier) get(ctx context.Context, ek *entryKey, typ string, deadline time.Time) []byte {
	wait := t.lookupWait(deadline)
	if wait <= 0 || !t.callStart() {
		t.counters.remoteSkipped.Add(1)
		return nil
	}
	ok, probe := t.lookups.allow(t.now())
	if !ok {
		t.callEnd()
		t.counters.remoteSkipped.Add(1)
		return nil
	}
	addr := remoteAddress(t.namespace, ek)
	ctx, cancel := context.WithTimeout(ctx, wait)
	stopped := context.AfterFunc(t.stop, cancel) // Close ends the lookups too
	res := make(chan lookup, 1)
	go func() {
		defer t.callEnd()
		b, err := t.r.Get(ctx, addr, t.limit)
		res <- lookup{b, err}
	}()
	timer := time.NewTimer(wait)
	var r lookup
	select {
	case r = <-res:
	case <-timer.C:
		r.err = fmt.Errorf("cache: remote lookup: no answer within %v: %w", wait, context.DeadlineExceeded)
	case <-t.stop.Done():
		r.err = t.stop.Err()
	}
	timer.Stop()
	stopped()
	cancel()
	b, err := r.b, r.err
	switch {
	case t.stop.Err() != nil && err != nil:
		t.lookups.release(probe) // Close ended it: nothing learnt
		t.counters.remoteSkipped.Add(1)
		return nil
	case err == nil:
	case errors.Is(err, ErrRemoteMiss):
		t.lookups.done(t.now(), probe, true)
		t.counters.remoteMisses.Add(1)
		return nil
	case errors.Is(err, ErrRemoteTooLarge):
		t.lookups.done(t.now(), probe, true)
		t.rejected(addr, err)
		return nil
	default:
		// Denied (401, 403) included: a lookup that the credentials do not allow is a
		// failure of the remote, which does not stop the uploads.
		t.lookups.done(t.now(), probe, false)
		t.failed("lookup", err)
		return nil
	}
	t.lookups.done(t.now(), probe, true)
	if int64(len(b)) > t.limit {
		t.rejected(addr, fmt.Errorf("%d bytes, over the limit of %d", len(b), t.limit))
		return nil
	}
	entry, err := unsealEntry(t.keys, t.namespace, addr, typ, b)
	if err != nil {
		t.rejected(addr, err)
		return nil
	}
	return entry
}

// enqueue queues the upload of entry, which it owns from then on. A full queue drops it.
func (t *remoteTier) enqueue(ek *entryKey, typ string, entry []byte) {
	if !t.writable.Load() {
		return
	}
	if cap(entry) > len(entry)+len(entry)/8 {
		// An encoder's buffer, larger than what it holds: the queue's bound counts
		// lengths, so it keeps no more than it counts.
		entry = slices.Clone(entry)
	}
	size := uploadSize(entry)
	if m := t.maxUpload.Load(); m > 0 && size >= m {
		t.counters.uploadsDropped.Add(1)
		return
	}
	t.qMu.Lock()
	if t.qClosed || len(t.queue) >= t.maxEntries || t.queued+size > t.maxBytes {
		t.qMu.Unlock()
		t.counters.uploadsDropped.Add(1)
		return
	}
	t.queue = append(t.queue, upload{ek: *ek, typ: typ, entry: entry})
	t.queued += size
	if t.idle == nil {
		t.idle = make(chan struct{})
	}
	start := t.running < remoteUploaders
	if start {
		t.running++
	}
	t.qMu.Unlock()
	if start {
		go t.uploader()
	}
}

// uploadSize is what an upload of entry counts against RemoteQueueBytes, from the moment it
// is queued until its Put returns: the entry, sealed in place with its trailer.
func uploadSize(entry []byte) int64 { return int64(len(entry)) + maxTrailer }

// uploader runs the queued uploads until the queue is empty.
func (t *remoteTier) uploader() {
	for {
		t.qMu.Lock()
		if len(t.queue) == 0 {
			t.running--
			if t.running == 0 && t.idle != nil {
				close(t.idle)
				t.idle = nil
			}
			t.qMu.Unlock()
			return
		}
		u := t.queue[0]
		t.queue[0] = upload{}
		t.queue = t.queue[1:]
		t.qMu.Unlock()
		size := uploadSize(u.entry)
		t.put(&u)
		// Its bytes count against the bound until the Put returns.
		t.qMu.Lock()
		t.queued = max(t.queued-size, 0)
		t.qMu.Unlock()
	}
}

// put signs and uploads one entry.
func (t *remoteTier) put(u *upload) {
	if !t.writable.Load() || t.stop.Err() != nil {
		t.counters.uploadsDropped.Add(1)
		return
	}
	addr := remoteAddress(t.namespace, &u.ek)
	// The entry is the upload's own: sealed in place when it has room, and not held twice.
	blob := sealEntry(t.keys.signer, t.namespace, addr, u.typ, u.entry)
	u.entry = nil
	if m := t.maxUpload.Load(); m > 0 && int64(len(blob)) >= m {
		t.counters.uploadsDropped.Add(1)
		return
	}
	if !t.callStart() {
		t.counters.uploadsDropped.Add(1)
		return
	}
	defer t.callEnd()
	ok, probe := t.uploads.allow(t.now())
	if !ok {
		t.counters.uploadsDropped.Add(1)
		return
	}
	ctx, cancel := context.WithTimeout(t.stop, t.transfer)
	defer cancel()
	err := t.r.Put(ctx, addr, blob)
	switch {
	case err == nil:
		t.uploads.done(t.now(), probe, true)
		t.counters.uploads.Add(1)
		t.counters.uploadedBytes.Add(uint64(len(blob)))
	case errors.Is(err, ErrRemoteDenied):
		t.uploads.done(t.now(), probe, true)
		t.writable.Store(false)
		t.counters.remoteErrors.Add(1)
		t.deniedOnce.Do(func() {
			t.logger.Warn("cachegen cache: the remote refused an upload: no more uploads from this Cache",
				"namespace", t.namespace, "err", err)
		})
	case errors.Is(err, ErrRemoteTooLarge):
		t.uploads.done(t.now(), probe, true)
		t.counters.uploadsDropped.Add(1)
		for {
			m := t.maxUpload.Load()
			if m > 0 && m <= int64(len(blob)) || t.maxUpload.CompareAndSwap(m, int64(len(blob))) {
				break
			}
		}
		t.largeOnce.Do(func() {
			t.logger.Info("cachegen cache: the remote refused an entry as too large: larger ones are not uploaded",
				"namespace", t.namespace, "bytes", len(blob))
		})
	case t.stop.Err() != nil:
		t.uploads.release(probe)
		t.counters.uploadsDropped.Add(1) // abandoned by Close
	default:
		t.uploads.done(t.now(), probe, false)
		t.failed("upload", err)
	}
}

// flush waits until the queue is empty and no upload runs, or ctx is done.
func (t *remoteTier) flush(ctx context.Context) error {
	t.qMu.Lock()
	idle := t.idle
	t.qMu.Unlock()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cache: flushing the remote uploads: %w", ctx.Err())
	}
}

// close stops the queue, waits for it to drain for timeout at most, abandons what is left
// and closes the Remote once none of its methods runs: it waits for the calls it cancelled
// for remoteAbandonWait, and when some still run (a Remote that ignores its context), it
// returns, and the last of them to return closes the Remote.
func (t *remoteTier) close(timeout time.Duration) error {
	t.qMu.Lock()
	t.qClosed = true
	t.qMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	err := t.flush(ctx)
	cancel()
	if err != nil {
		t.logger.Warn("cachegen cache: Close stopped waiting for the remote uploads; the rest are dropped",
			"namespace", t.namespace, "waited", timeout)
	}
	t.callMu.Lock()
	t.callsEnded = true
	t.callMu.Unlock()
	t.stopNow() // the uploaders drop what is left, and the running calls are cancelled
	t.qMu.Lock()
	t.counters.uploadsDropped.Add(uint64(len(t.queue)))
	for _, u := range t.queue {
		t.queued -= uploadSize(u.entry)
	}
	t.queue = nil
	t.qMu.Unlock()
	t.callMu.Lock()
	idle := t.callsIdle
	if t.calls > 0 && idle == nil {
		idle = make(chan struct{})
		t.callsIdle = idle
	}
	t.callMu.Unlock()
	if idle != nil {
		timer := time.NewTimer(remoteAbandonWait)
		select {
		case <-idle:
		case <-timer.C:
		}
		timer.Stop()
		t.callMu.Lock()
		running := t.calls
		t.closeLater = running > 0
		t.callMu.Unlock()
		if running > 0 {
			t.logger.Warn("cachegen cache: remote calls ignore their cancellation: the remote is closed when they return",
				"namespace", t.namespace, "running", running)
			return nil
		}
	}
	if err := t.r.Close(); err != nil {
		return fmt.Errorf("cache: closing the remote: %w", err)
	}
	return nil
}
