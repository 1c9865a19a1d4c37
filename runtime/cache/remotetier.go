package cache

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
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
	// DefaultRemoteTransferTimeout bounds a whole remote transfer when
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

// The circuit breaker: after remoteBreakerFailures consecutive failed requests, the remote
// is not asked for remoteBreakerCooldown (lookups are misses, uploads are dropped); then it
// is tried again, and one more failure opens the breaker for another cooldown.
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
	// commas: the first signs, all verify. A secret is at least 16 bytes, and holds no
	// comma (use hex or base64: openssl rand -hex 32).
	RemoteSecretEnv = "CACHEGEN_REMOTE_SECRET"
	// RemoteEd25519PublicEnv holds Ed25519 public keys that verify, "<key id>:<base64 of
	// the 32-byte key>", several separated by commas.
	RemoteEd25519PublicEnv = "CACHEGEN_REMOTE_ED25519_PUBLIC"
	// RemoteEd25519PrivateEnv holds the Ed25519 key that signs, "<key id>:<base64 of the
	// 32-byte seed>" (or of the 64-byte private key). When set, it signs instead of the
	// HMAC secrets, which still verify.
	RemoteEd25519PrivateEnv = "CACHEGEN_REMOTE_ED25519_PRIVATE"
	// RemoteReadOnlyEnv set to "1" makes the remote read-only.
	RemoteReadOnlyEnv = "CACHEGEN_REMOTE_READONLY"
	// RemoteTokenEnv is a bearer token for the remote's server (RemoteConfig.Token).
	RemoteTokenEnv = "CACHEGEN_REMOTE_TOKEN"
)

// remoteKeysFromEnv returns the keys of the environment variables, the Ed25519 private
// key first (it signs).
func remoteKeysFromEnv() ([]RemoteKey, error) {
	var keys []RemoteKey
	each := func(env string, f func(id, val string) (RemoteKey, error)) error {
		v := os.Getenv(env)
		if v == "" {
			return nil
		}
		for i, item := range strings.Split(v, ",") {
			id, val, ok := strings.Cut(strings.TrimSpace(item), ":")
			if !ok || id == "" || val == "" {
				// Never the value: it is a secret.
				return fmt.Errorf("cache: %s: item %d is not <key id>:<key>", env, i+1)
			}
			k, err := f(id, val)
			if err != nil {
				return fmt.Errorf("cache: %s: key %q: %w", env, id, err)
			}
			keys = append(keys, k)
		}
		return nil
	}
	b64 := func(s string) ([]byte, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		}
		if err != nil {
			return nil, errors.New("not base64")
		}
		return b, nil
	}
	err := each(RemoteEd25519PrivateEnv, func(id, val string) (RemoteKey, error) {
		b, err := b64(val)
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
			b, err := b64(val)
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
			return RemoteKey{ID: id, HMAC: []byte(val)}, nil
		})
	}
	if err != nil {
		return nil, err
	}
	// A public key given besides the private key of the same id is the same key: keep
	// the private one, which newKeyRing would otherwise refuse as given twice.
	seen := map[string]bool{}
	out := keys[:0]
	for _, k := range keys {
		if k.Ed25519Public != nil && seen[k.ID] {
			continue
		}
		if k.Ed25519Private != nil {
			seen[k.ID] = true
		}
		out = append(out, k)
	}
	return out, nil
}

// A remoteTier is a Cache's remote: the Remote, the keys, the breaker and the upload queue.
type remoteTier struct {
	r         Remote
	keys      *keyRing
	namespace string
	logger    *slog.Logger
	transfer  time.Duration // bound of a whole Get or Put
	limit     int64         // the largest blob a Get accepts
	now       func() time.Time

	writable  atomic.Bool  // uploads are made: a signing key, not read-only, not denied
	maxUpload atomic.Int64 // blobs of this size or more are not uploaded (a 413); 0: no limit

	brMu      sync.Mutex
	failures  int       // consecutive failed requests
	openUntil time.Time // the breaker is open (no requests) until then

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
		readOnly = readOnly || os.Getenv(RemoteReadOnlyEnv) == "1"
	}
	kr, err := newKeyRing(keys)
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

// allow reports whether the breaker lets a request through.
func (t *remoteTier) allow() bool {
	t.brMu.Lock()
	defer t.brMu.Unlock()
	return !t.now().Before(t.openUntil)
}

// result records the outcome of a request for the breaker: err is nil for an answer (a hit,
// a miss, a refusal), else a failure of the remote.
func (t *remoteTier) result(err error) {
	t.brMu.Lock()
	defer t.brMu.Unlock()
	if err == nil {
		t.failures = 0
		return
	}
	t.failures++
	if t.failures >= remoteBreakerFailures {
		t.openUntil = t.now().Add(remoteBreakerCooldown)
	}
}

// failed counts and logs, the first time, an error of the remote.
func (t *remoteTier) failed(op string, err error) {
	t.counters.remoteErrors.Add(1)
	t.result(err)
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

// get fetches and checks the entry of ek: it returns the entry file bytes, whose tag holds,
// or nil for a miss (counted and logged as it should be). The caller still decodes it.
func (t *remoteTier) get(ctx context.Context, ek *entryKey, typ string) []byte {
	if !t.allow() {
		t.counters.remoteSkipped.Add(1)
		return nil
	}
	addr := remoteAddress(t.namespace, ek)
	ctx, cancel := context.WithTimeout(ctx, t.transfer)
	defer cancel()
	b, err := t.r.Get(ctx, addr, t.limit)
	switch {
	case err == nil:
	case errors.Is(err, ErrRemoteMiss):
		t.result(nil)
		t.counters.remoteMisses.Add(1)
		return nil
	case errors.Is(err, ErrRemoteTooLarge):
		t.result(nil)
		t.rejected(addr, err)
		return nil
	default:
		t.failed("lookup", err)
		return nil
	}
	t.result(nil)
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
	size := int64(len(entry)) + maxTrailer
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
		t.queued -= int64(len(u.entry)) + maxTrailer
		t.qMu.Unlock()
		t.put(&u)
	}
}

// put signs and uploads one entry.
func (t *remoteTier) put(u *upload) {
	if !t.writable.Load() || t.stop.Err() != nil || !t.allow() {
		t.counters.uploadsDropped.Add(1)
		return
	}
	addr := remoteAddress(t.namespace, &u.ek)
	blob := sealEntry(t.keys.signer, t.namespace, addr, u.typ, u.entry)
	if m := t.maxUpload.Load(); m > 0 && int64(len(blob)) >= m {
		t.counters.uploadsDropped.Add(1)
		return
	}
	ctx, cancel := context.WithTimeout(t.stop, t.transfer)
	defer cancel()
	err := t.r.Put(ctx, addr, blob)
	switch {
	case err == nil:
		t.result(nil)
		t.counters.uploads.Add(1)
		t.counters.uploadedBytes.Add(uint64(len(blob)))
	case errors.Is(err, ErrRemoteDenied):
		t.result(nil)
		t.writable.Store(false)
		t.counters.remoteErrors.Add(1)
		t.deniedOnce.Do(func() {
			t.logger.Warn("cachegen cache: the remote refused an upload: no more uploads from this Cache",
				"namespace", t.namespace, "err", err)
		})
	case errors.Is(err, ErrRemoteTooLarge):
		t.result(nil)
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
		t.counters.uploadsDropped.Add(1) // abandoned by Close
	default:
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
// and closes the Remote.
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
	t.stopNow() // the uploaders drop what is left, and the running uploads end
	t.qMu.Lock()
	t.counters.uploadsDropped.Add(uint64(len(t.queue)))
	t.queue, t.queued = nil, 0
	t.qMu.Unlock()
	// The uploads still running were cancelled: let them return before the Remote is
	// closed under them, for a moment at most (a Remote that ignores its context).
	ctx, cancel = context.WithTimeout(context.Background(), remoteAbandonWait)
	t.flush(ctx)
	cancel()
	if err := t.r.Close(); err != nil {
		return fmt.Errorf("cache: closing the remote: %w", err)
	}
	return nil
}
