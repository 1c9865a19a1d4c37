package cache

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// fakeRemote is a Remote in memory. Its hooks, when set, answer instead of the map.
type fakeRemote struct {
	mu     sync.Mutex
	m      map[string][]byte
	gets   int
	puts   int
	closed int
	getErr func(key string) error
	putErr func(ctx context.Context, key string, data []byte) error
}

func newFakeRemote() *fakeRemote { return &fakeRemote{m: map[string][]byte{}} }

func (f *fakeRemote) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	f.mu.Lock()
	f.gets++
	hook := f.getErr
	f.mu.Unlock()
	if hook != nil {
		if err := hook(key); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.m[key]
	if !ok {
		return nil, ErrRemoteMiss
	}
	if int64(len(b)) > limit {
		return nil, ErrRemoteTooLarge
	}
	return append([]byte(nil), b...), nil
}

func (f *fakeRemote) Put(ctx context.Context, key string, data []byte) error {
	f.mu.Lock()
	f.puts++
	hook := f.putErr
	f.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, key, data); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[key] = append([]byte(nil), data...)
	return nil
}

func (f *fakeRemote) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed++
	return nil
}

func (f *fakeRemote) counts() (gets, puts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets, f.puts
}

func (f *fakeRemote) blob(key string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.m[key]...)
}

func (f *fakeRemote) set(key string, b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[key] = b
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func hmacKey(id, secret string) RemoteKey {
	return RemoteKey{ID: id, HMAC: []byte(secret)}
}

var teamKey = hmacKey("k1", "0123456789abcdef-team-secret")

// remoteCache opens a Cache of its own directory, namespace "test" and version "v1" on r.
func remoteCache(t *testing.T, r Remote, keys []RemoteKey, mod func(*Options)) *Cache {
	t.Helper()
	o := Options{Dir: t.TempDir(), Namespace: "test", Version: "v1", Remote: r, RemoteKeys: keys, Logger: quiet}
	if mod != nil {
		mod(&o)
	}
	c, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// addressOf returns the remote address of key's testValue entry in c.
func addressOf(c *Cache, key testKey) string {
	mk := memKey{d: keyhash.Sum(key), vt: valueTypeOf[testKey, testValue](c)}
	ek := c.entryKey(&mk)
	return remoteAddress(c.opts.Namespace, &ek)
}

// victimAddress is the address of key's testValue in the namespace "test", version "v1".
func victimAddress(t *testing.T, key testKey) string {
	return addressOf(remoteCache(t, newFakeRemote(), []RemoteKey{teamKey}, nil), key)
}

func flush(t *testing.T, c *Cache) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func mustLoad(t *testing.T, c *Cache, k testKey, compute func(context.Context, testKey) (testValue, error)) testValue {
	t.Helper()
	v, err := Load(context.Background(), c, k, compute)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wrongCompute computes a value that differs from computeSmall's: what an attacker plants.
func wrongCompute(_ context.Context, k testKey) (testValue, error) {
	v := valueFor(k, 64)
	v.Name = "planted"
	return v, nil
}

// TestRemoteSharedBetweenCaches: two Caches with their own directories share one remote. The
// second finds the first's value remotely, then in memory, and a third Cache on the second's
// directory finds it on disk. Local hits are not uploaded again.
func TestRemoteSharedBetweenCaches(t *testing.T) {
	r := newFakeRemote()
	c1 := remoteCache(t, r, []RemoteKey{teamKey}, nil)
	for i := range 3 {
		mustLoad(t, c1, testKey{"shared", i}, computeSmall)
	}
	mustLoad(t, c1, testKey{"shared", 0}, computeSmall) // a memory hit: no upload
	flush(t, c1)
	if st := c1.Stats(); st.Uploads != 3 || st.UploadedBytes == 0 || st.RemoteMisses != 3 {
		t.Fatalf("first cache: %+v, want 3 uploads after 3 remote misses", st)
	}

	c2 := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) { o.MemoryBytes = 0 })
	for i := range 3 {
		v := mustLoad(t, c2, testKey{"shared", i}, failCompute)
		if want := valueFor(testKey{"shared", i}, 64); !v.equal(want) {
			t.Fatalf("remote hit %d = %v, want %v", i, v.Name, want.Name)
		}
	}
	mustLoad(t, c2, testKey{"shared", 1}, failCompute)
	st := c2.Stats()
	if st.RemoteHits != 3 || st.Hits != 4 || st.MemoryHits != 1 || st.Computes != 0 || st.Uploads != 0 || st.Stores != 3 {
		t.Fatalf("second cache: %+v, want 3 remote hits stored on disk, then a memory hit", st)
	}
	_, puts := r.counts()
	if puts != 3 {
		t.Fatalf("%d uploads, want 3: hits are never uploaded", puts)
	}

	c3 := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) { o.Dir = filepath.Dir(c2.Dir()) })
	mustLoad(t, c3, testKey{"shared", 2}, failCompute)
	if st := c3.Stats(); st.DiskHits != 1 || st.RemoteHits != 0 {
		t.Fatalf("third cache: %+v, want a disk hit of what the second fetched", st)
	}
}

// TestRemoteWithoutDisk: a Cache without a disk tier still uses the remote.
func TestRemoteWithoutDisk(t *testing.T) {
	r := newFakeRemote()
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	noDisk := func(o *Options) { o.Dir = filepath.Join(file, "sub") } // cannot be made
	c1 := remoteCache(t, r, []RemoteKey{teamKey}, noDisk)
	mustLoad(t, c1, testKey{"nodisk", 1}, computeSmall)
	flush(t, c1)
	c2 := remoteCache(t, r, []RemoteKey{teamKey}, noDisk)
	mustLoad(t, c2, testKey{"nodisk", 1}, failCompute)
	if st := c2.Stats(); st.RemoteHits != 1 {
		t.Fatalf("%+v, want a remote hit", st)
	}
}

// TestRemoteRefused: entries that are not what an honest writer with the key stored are
// misses, counted in RemoteRejected, and never reach a local tier: the value is computed.
func TestRemoteRefused(t *testing.T) {
	key := testKey{"victim", 1}
	other := testKey{"victim", 2}
	// plant stores in r, at the address of key in the namespace "test", the blob that a
	// Cache of the given keys and options uploads for key (or for from) with wrongCompute.
	plant := func(t *testing.T, r *fakeRemote, keys []RemoteKey, mod func(*Options), from testKey) {
		src := newFakeRemote()
		c := remoteCache(t, src, keys, mod)
		mustLoad(t, c, from, wrongCompute)
		flush(t, c)
		r.set(victimAddress(t, key), src.blob(addressOf(c, from)))
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, r *fakeRemote)
	}{
		{"another secret under the same key id", func(t *testing.T, r *fakeRemote) {
			plant(t, r, []RemoteKey{hmacKey("k1", "the-attackers-own-secret")}, nil, key)
		}},
		{"an unknown key id", func(t *testing.T, r *fakeRemote) {
			plant(t, r, []RemoteKey{hmacKey("k9", "0123456789abcdef-team-secret")}, nil, key)
		}},
		{"an Ed25519 signature the reader has no key for", func(t *testing.T, r *fakeRemote) {
			_, priv, _ := ed25519.GenerateKey(nil)
			plant(t, r, []RemoteKey{{ID: "k1", Ed25519Private: priv}}, nil, key)
		}},
		{"unsigned: the entry file alone", func(t *testing.T, r *fakeRemote) {
			plant(t, r, []RemoteKey{teamKey}, nil, key)
			addr := victimAddress(t, key)
			b := r.blob(addr)
			foot := b[len(b)-footerSize:]
			r.set(addr, b[:len(b)-footerSize-int(foot[1])-int(foot[2])]) // the entry file
		}},
		{"moved from another key", func(t *testing.T, r *fakeRemote) {
			src := newFakeRemote()
			c := remoteCache(t, src, []RemoteKey{teamKey}, nil)
			mustLoad(t, c, other, computeSmall) // honest, but another key's
			flush(t, c)
			r.set(victimAddress(t, key), src.blob(addressOf(c, other)))
		}},
		{"moved from another namespace", func(t *testing.T, r *fakeRemote) {
			plant(t, r, []RemoteKey{teamKey}, func(o *Options) { o.Namespace = "pr-123" }, key)
		}},
		{"moved from another version", func(t *testing.T, r *fakeRemote) {
			plant(t, r, []RemoteKey{teamKey}, func(o *Options) { o.Version = "v0" }, key)
		}},
		{"truncated", func(t *testing.T, r *fakeRemote) {
			plant(t, r, []RemoteKey{teamKey}, nil, key)
			addr := victimAddress(t, key)
			b := r.blob(addr)
			r.set(addr, b[:len(b)-20])
		}},
		{"a byte of the payload changed", func(t *testing.T, r *fakeRemote) {
			plant(t, r, []RemoteKey{teamKey}, nil, key)
			addr := victimAddress(t, key)
			b := r.blob(addr)
			b[headerSize+40] ^= 1
			r.set(addr, b)
		}},
		{"signed with the key but not an entry", func(t *testing.T, r *fakeRemote) {
			c := remoteCache(t, r, []RemoteKey{teamKey}, nil)
			addr := addressOf(c, key)
			kr, _ := newKeyRing([]RemoteKey{teamKey})
			r.set(addr, sealEntry(kr.signer, "test", addr, valueTypeOf[testKey, testValue](c).name, []byte("not an entry file")))
		}},
		{"garbage", func(t *testing.T, r *fakeRemote) {
			c := remoteCache(t, r, []RemoteKey{teamKey}, nil)
			r.set(addressOf(c, key), []byte("cgremote"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFakeRemote()
			tt.setup(t, r)
			logs := &logCounter{}
			c := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) { o.Logger = logs.logger() })
			v := mustLoad(t, c, key, computeSmall)
			if want := valueFor(key, 64); !v.equal(want) {
				t.Fatalf("Load = %q, want the computed value %q", v.Name, want.Name)
			}
			st := c.Stats()
			if st.RemoteRejected != 1 || st.RemoteHits != 0 || st.Computes != 1 {
				t.Fatalf("%+v, want one rejected entry and a computation", st)
			}
			// What is on disk is the computed value, not the planted one.
			c2 := remoteCache(t, newFakeRemote(), []RemoteKey{teamKey}, func(o *Options) { o.Dir = filepath.Dir(c.Dir()) })
			if v := mustLoad(t, c2, key, failCompute); !v.equal(valueFor(key, 64)) {
				t.Fatalf("disk holds %q", v.Name)
			}
			mustLoad(t, c, testKey{"victim", 3}, computeSmall) // another refusal would not be logged again
			logs.mu.Lock()
			defer logs.mu.Unlock()
			if len(logs.msgs) != 1 || !strings.Contains(logs.msgs[0], "refused") {
				t.Fatalf("logged %q, want the refusal once", logs.msgs)
			}
		})
	}
}

// TestRemoteEd25519: CI signs with the private key; a laptop that has only the public key
// reads its entries, and never uploads.
func TestRemoteEd25519(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := newFakeRemote()
	ci := remoteCache(t, r, []RemoteKey{{ID: "ci-2026", Ed25519Private: priv}}, nil)
	mustLoad(t, ci, testKey{"ed", 1}, computeSmall)
	flush(t, ci)
	if st := ci.Stats(); st.Uploads != 1 {
		t.Fatalf("CI: %+v, want an upload", st)
	}

	laptop := remoteCache(t, r, []RemoteKey{{ID: "ci-2026", Ed25519Public: pub}}, nil)
	mustLoad(t, laptop, testKey{"ed", 1}, failCompute)
	mustLoad(t, laptop, testKey{"ed", 2}, computeSmall)
	flush(t, laptop)
	if st := laptop.Stats(); st.RemoteHits != 1 || st.Uploads != 0 || st.UploadsDropped != 0 {
		t.Fatalf("laptop: %+v, want a remote hit and no upload", st)
	}
	if _, puts := r.counts(); puts != 1 {
		t.Fatalf("%d puts, want only CI's", puts)
	}

	// An HMAC reader knows no Ed25519 key: refused.
	team := remoteCache(t, r, []RemoteKey{hmacKey("ci-2026", "0123456789abcdef0123")}, nil)
	mustLoad(t, team, testKey{"ed", 1}, computeSmall)
	if st := team.Stats(); st.RemoteRejected != 1 {
		t.Fatalf("HMAC reader: %+v, want the Ed25519 entry refused", st)
	}
}

// TestRemoteKeyRotation: a writer signing with a new key, readers that accept the old and the
// new one read its entries; a reader that knows only the old one does not.
func TestRemoteKeyRotation(t *testing.T) {
	oldKey, newKey := hmacKey("2025", "old-secret-0123456789"), hmacKey("2026", "new-secret-0123456789")
	r := newFakeRemote()
	w := remoteCache(t, r, []RemoteKey{newKey, oldKey}, nil)
	mustLoad(t, w, testKey{"rot", 1}, computeSmall)
	flush(t, w)
	both := remoteCache(t, r, []RemoteKey{oldKey, newKey}, func(o *Options) { o.RemoteReadOnly = true })
	mustLoad(t, both, testKey{"rot", 1}, failCompute)
	old := remoteCache(t, r, []RemoteKey{oldKey}, nil)
	mustLoad(t, old, testKey{"rot", 1}, computeSmall)
	if both.Stats().RemoteHits != 1 || old.Stats().RemoteRejected != 1 {
		t.Fatalf("both keys: %+v; old key only: %+v", both.Stats(), old.Stats())
	}
}

// TestRemoteReadOnly: a read-only remote serves hits and is never written.
func TestRemoteReadOnly(t *testing.T) {
	r := newFakeRemote()
	w := remoteCache(t, r, []RemoteKey{teamKey}, nil)
	mustLoad(t, w, testKey{"ro", 1}, computeSmall)
	flush(t, w)
	ro := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) { o.RemoteReadOnly = true })
	mustLoad(t, ro, testKey{"ro", 1}, failCompute)
	mustLoad(t, ro, testKey{"ro", 2}, computeSmall)
	flush(t, ro)
	if _, puts := r.counts(); puts != 1 {
		t.Fatalf("%d puts, want the writer's only", puts)
	}
	if st := ro.Stats(); st.RemoteHits != 1 || st.Uploads != 0 {
		t.Fatalf("%+v", st)
	}
}

// TestRemoteBreaker: after consecutive failures the remote is not asked for a while (the
// Cache's clock, injected), then tried again; one more failure opens it again.
func TestRemoteBreaker(t *testing.T) {
	r := newFakeRemote()
	r.getErr = func(string) error { return errors.New("connection refused") }
	logs := &logCounter{}
	c := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) {
		o.Logger = logs.logger()
		o.RemoteReadOnly = true
	})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	load := func(i int) {
		if v := mustLoad(t, c, testKey{"br", i}, computeSmall); !v.equal(valueFor(testKey{"br", i}, 64)) {
			t.Fatal("wrong value")
		}
	}
	for i := range remoteBreakerFailures {
		load(i)
	}
	gets, _ := r.counts()
	load(100)
	load(101)
	if g, _ := r.counts(); g != gets || gets != remoteBreakerFailures {
		t.Fatalf("%d gets, then %d: want %d, and none while the breaker is open", gets, g, remoteBreakerFailures)
	}
	if st := c.Stats(); st.RemoteErrors != remoteBreakerFailures || st.RemoteSkipped != 2 || st.Computes != remoteBreakerFailures+2 {
		t.Fatalf("%+v", st)
	}
	advance(remoteBreakerCooldown - time.Second)
	load(102)
	if g, _ := r.counts(); g != gets {
		t.Fatal("asked before the cooldown ended")
	}
	advance(time.Second)
	load(103) // tried again, fails: open again at once
	load(104)
	if g, _ := r.counts(); g != gets+1 {
		t.Fatalf("%d gets after the cooldown, want 1", g-gets)
	}
	// It recovers: after the cooldown a success closes it.
	r.mu.Lock()
	r.getErr = nil
	r.mu.Unlock()
	advance(remoteBreakerCooldown)
	load(105)
	load(106)
	if g, _ := r.counts(); g != gets+3 {
		t.Fatalf("%d gets after recovery, want 3", g-gets)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if len(logs.msgs) != 1 {
		t.Fatalf("logged %q, want the first error only", logs.msgs)
	}
}

// TestRemoteQueueBounds: uploads that do not fit in the queue are dropped and counted.
func TestRemoteQueueBounds(t *testing.T) {
	t.Run("entries", func(t *testing.T) {
		r := newFakeRemote()
		release := make(chan struct{})
		r.putErr = func(ctx context.Context, _ string, _ []byte) error {
			<-release
			return nil
		}
		c := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) { o.RemoteQueueEntries = 2 })
		const n = 20
		for i := range n {
			mustLoad(t, c, testKey{"q", i}, computeSmall)
		}
		close(release)
		flush(t, c)
		st := c.Stats()
		if st.Uploads+st.UploadsDropped != n || st.UploadsDropped < n-2-remoteUploaders {
			t.Fatalf("%+v, want at most %d uploads and the rest dropped", st, 2+remoteUploaders)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		r := newFakeRemote()
		c := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) { o.RemoteQueueBytes = 1000 })
		mustLoad(t, c, testKey{"qb", 1}, computeLarge) // 32 KiB: over the bound
		mustLoad(t, c, testKey{"qb", 2}, computeSmall)
		flush(t, c)
		if st := c.Stats(); st.UploadsDropped != 1 || st.Uploads != 1 {
			t.Fatalf("%+v, want the large upload dropped, the small one made", st)
		}
	})
}

// TestRemoteFlushAndClose: Flush waits for the uploads; Close waits for them until its
// deadline, then drops the rest and closes the Remote.
func TestRemoteFlushAndClose(t *testing.T) {
	r := newFakeRemote()
	r.putErr = func(ctx context.Context, _ string, _ []byte) error {
		time.Sleep(20 * time.Millisecond)
		return nil
	}
	c := remoteCache(t, r, []RemoteKey{teamKey}, nil)
	for i := range 10 {
		mustLoad(t, c, testKey{"fl", i}, computeSmall)
	}
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Flush(expired); !errors.Is(err, context.Canceled) {
		t.Fatalf("Flush with a done context = %v", err)
	}
	flush(t, c)
	if st := c.Stats(); st.Uploads != 10 {
		t.Fatalf("after Flush: %+v, want 10 uploads", st)
	}

	stuck := newFakeRemote()
	stuck.putErr = func(ctx context.Context, _ string, _ []byte) error {
		<-ctx.Done() // a server that never answers
		return ctx.Err()
	}
	c2 := remoteCache(t, stuck, []RemoteKey{teamKey}, func(o *Options) { o.RemoteCloseTimeout = 100 * time.Millisecond })
	for i := range 10 {
		mustLoad(t, c2, testKey{"stuck", i}, computeSmall)
	}
	start := time.Now()
	c2.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	st := c2.Stats()
	if st.Uploads != 0 || st.UploadsDropped != 10 || st.RemoteErrors != 0 {
		t.Fatalf("%+v, want every upload dropped", st)
	}
	if stuck.closed != 1 {
		t.Fatal("Close did not close the Remote")
	}
	// After Close, Flush has nothing to wait for.
	if err := c2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRemoteDeniedAndTooLarge: a refused upload (401/403) stops the uploads; one refused as
// too large (413) stops those as large.
func TestRemoteDeniedAndTooLarge(t *testing.T) {
	r := newFakeRemote()
	r.putErr = func(context.Context, string, []byte) error { return fmt.Errorf("status 403: %w", ErrRemoteDenied) }
	c := remoteCache(t, r, []RemoteKey{teamKey}, nil)
	mustLoad(t, c, testKey{"den", 1}, computeSmall)
	flush(t, c)
	mustLoad(t, c, testKey{"den", 2}, computeSmall)
	flush(t, c)
	if _, puts := r.counts(); puts != 1 {
		t.Fatalf("%d puts, want none after the refusal", puts)
	}

	big := newFakeRemote()
	big.putErr = func(_ context.Context, _ string, b []byte) error {
		if len(b) > 4000 {
			return fmt.Errorf("status 413: %w", ErrRemoteTooLarge)
		}
		return nil
	}
	c2 := remoteCache(t, big, []RemoteKey{teamKey}, func(o *Options) { o.CompressionLevel = -1 })
	mustLoad(t, c2, testKey{"big", 1}, computeLarge)
	flush(t, c2)
	mustLoad(t, c2, testKey{"big", 2}, computeLarge)
	mustLoad(t, c2, testKey{"big", 3}, computeSmall)
	flush(t, c2)
	if _, puts := big.counts(); puts != 2 {
		t.Fatalf("%d puts, want the first large one and the small one", puts)
	}
	if st := c2.Stats(); st.Uploads != 1 || st.UploadsDropped != 2 {
		t.Fatalf("%+v", st)
	}
}

// TestRemoteConcurrentLoadsShareOneGet: Loads of one key share the flight's remote lookup.
func TestRemoteConcurrentLoadsShareOneGet(t *testing.T) {
	r := newFakeRemote()
	w := remoteCache(t, r, []RemoteKey{teamKey}, nil)
	mustLoad(t, w, testKey{"conc", 1}, computeSmall)
	flush(t, w)
	gate := make(chan struct{})
	r.getErr = func(string) error { <-gate; return nil }
	c := remoteCache(t, r, []RemoteKey{teamKey}, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { mustLoad(t, c, testKey{"conc", 1}, failCompute) })
	}
	time.Sleep(50 * time.Millisecond)
	close(gate)
	wg.Wait()
	if gets, _ := r.counts(); gets != 2 { // the writer's miss, and one for the 8 Loads
		t.Fatalf("%d gets", gets)
	}
	if st := c.Stats(); st.RemoteHits != 8 || st.Hits != 8 {
		t.Fatalf("%+v", st)
	}
}

// TestRemoteMisconfigured: no key, or a scheme no package handles, is one logged error and no
// remote, never a failed Open; the password of the URL is never logged.
func TestRemoteMisconfigured(t *testing.T) {
	tests := []struct {
		name, url, secret string
		want              string
	}{
		{"no key", "http://127.0.0.1:1/cache", "", "needs a key"},
		{"secret shorter than its id", "http://127.0.0.1:1/cache", "k1-team-key:short", "longer than the secret"},
		{"malformed secret", "http://127.0.0.1:1/cache", "no-colon", "not <key id>:<key>"},
		{"unknown scheme", "gopher://user:hunter2hunter2@example.com/x", "k1:0123456789abcdef0", "no remote engine"},
		{"unparsable URL", "http://user:hunter2hunter2@exa mple.com:zz/x", "k1:0123456789abcdef0", "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(RemoteEnv, tt.url)
			t.Setenv(RemoteSecretEnv, tt.secret)
			logs := &logCounter{}
			c, err := Open(Options{Dir: t.TempDir(), Namespace: "test", Logger: logs.logger()})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.remote != nil {
				t.Fatal("a remote tier despite the error")
			}
			mustLoad(t, c, testKey{"mis", 1}, computeSmall)
			logs.mu.Lock()
			defer logs.mu.Unlock()
			if len(logs.msgs) != 1 || !strings.Contains(logs.msgs[0], tt.want) || strings.Contains(logs.msgs[0], "hunter2") || strings.Contains(logs.msgs[0], "0123456789abcdef0") {
				t.Fatalf("logged %q, want one message about %q without secrets", logs.msgs, tt.want)
			}
		})
	}
	t.Run("Options.Remote without a key", func(t *testing.T) {
		r := newFakeRemote()
		c := remoteCache(t, r, nil, nil)
		mustLoad(t, c, testKey{"mis", 1}, computeSmall)
		c.Close()
		if gets, _ := r.counts(); gets != 0 || r.closed != 1 {
			t.Fatalf("%d gets, %d closes: want the remote unused, and closed", gets, r.closed)
		}
	})
}

// TestRemoteKeysFromEnv: the environment's keys, in the order that makes the right one sign.
func TestRemoteKeysFromEnv(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	b64 := base64.StdEncoding.EncodeToString
	t.Setenv(RemoteSecretEnv, "new:0123456789abcdef-new, old:0123456789abcdef-old")
	t.Setenv(RemoteEd25519PublicEnv, "ci:"+b64(pub))
	t.Setenv(RemoteEd25519PrivateEnv, "")
	keys, err := remoteKeysFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := newKeyRing(keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(kr.verify) != 3 || kr.signer == nil || kr.signer.id != "new" || kr.signer.alg != algHMAC {
		t.Fatalf("keys %+v, signer %+v", keys, kr.signer)
	}
	t.Setenv(RemoteEd25519PrivateEnv, "ci:"+b64(priv.Seed()))
	keys, err = remoteKeysFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if kr, err = newKeyRing(keys); err != nil || kr.signer.id != "ci" || kr.signer.alg != algEd25519 || len(kr.verify) != 3 {
		t.Fatalf("%+v, %v: want the Ed25519 key to sign", kr, err)
	}
}
