package cache

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// blockingRemote is a Remote whose Get and Put ignore their context: they return when
// release is closed (or, for Get, after delay when it is set, honouring ctx then).
type blockingRemote struct {
	release  chan struct{}
	delay    time.Duration
	running  atomic.Int32 // Gets and Puts running
	closed   atomic.Int32
	overlaps atomic.Int32 // Close called while a Get or Put ran
}

func (b *blockingRemote) Get(ctx context.Context, _ string, _ int64) ([]byte, error) {
	b.running.Add(1)
	defer b.running.Add(-1)
	if b.delay > 0 {
		select {
		case <-time.After(b.delay):
			return nil, ErrRemoteMiss
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	<-b.release
	return nil, ErrRemoteMiss
}

func (b *blockingRemote) Put(context.Context, string, []byte) error {
	b.running.Add(1)
	defer b.running.Add(-1)
	<-b.release
	return nil
}

func (b *blockingRemote) Close() error {
	if b.running.Load() > 0 {
		b.overlaps.Add(1)
	}
	b.closed.Add(1)
	return nil
}

// loadWithin runs Load(ctx, ...) and fails the test if it takes longer than d.
func loadWithin(t *testing.T, ctx context.Context, c *Cache, k testKey, d time.Duration) (testValue, error) {
	t.Helper()
	type res struct {
		v   testValue
		err error
	}
	ch := make(chan res, 1)
	start := time.Now()
	go func() {
		v, err := Load(ctx, c, k, computeSmall)
		ch <- res{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(d):
		t.Fatalf("Load still blocked after %v", time.Since(start))
	}
	panic("unreachable")
}

// TestRemoteLookupIgnoringContext: a Remote whose Get ignores its context holds a Load for
// RemoteLookupTimeout at most, even a Load whose context has no deadline; the lookup is a
// failure. Close does not close the Remote while that Get still runs.
func TestRemoteLookupIgnoringContext(t *testing.T) {
	r := &blockingRemote{release: make(chan struct{})}
	c := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) {
		o.RemoteLookupTimeout = 200 * time.Millisecond
		o.RemoteReadOnly = true
	})
	start := time.Now()
	v, err := loadWithin(t, context.Background(), c, testKey{"hang", 1}, 5*time.Second)
	if err != nil || !v.equal(valueFor(testKey{"hang", 1}, 64)) {
		t.Fatalf("Load = %v, %v", v, err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("Load took %v: did not wait for the remote", d)
	}
	if st := c.Stats(); st.RemoteErrors != 1 || st.Computes != 1 {
		t.Fatalf("%+v, want the lookup counted as a failure", st)
	}
	c.Close()
	if r.closed.Load() != 0 {
		t.Fatal("the Remote was closed while its Get ran")
	}
	close(r.release)
	for i := 0; r.closed.Load() == 0; i++ {
		if i > 500 {
			t.Fatal("the Remote was never closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.overlaps.Load() != 0 {
		t.Fatal("Close overlapped a call")
	}
}

// TestRemoteSlowerThanCallerDeadline: a remote that answers within RemoteTimeout but later
// than a Load's deadline does not fail the Load: the lookup takes half the time left, then
// the value is computed.
func TestRemoteSlowerThanCallerDeadline(t *testing.T) {
	r := &blockingRemote{delay: 2 * time.Second}
	c := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) { o.RemoteReadOnly = true })
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		_, err := loadWithin(t, ctx, c, testKey{"slow", i}, 5*time.Second)
		cancel()
		if err != nil {
			t.Fatalf("Load %d: %v", i, err)
		}
	}
	if st := c.Stats(); st.Computes != 3 || st.RemoteErrors != 3 {
		t.Fatalf("%+v, want 3 computes and 3 lookups failed", st)
	}
	// A Load whose deadline has passed does not ask the remote.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	mk := memKey{d: keyhash.Sum(testKey{"late", 1}), vt: valueTypeOf[testKey, testValue](c)}
	ek := c.entryKey(&mk)
	deadline, _ := ctx.Deadline()
	if b := c.remote.get(context.Background(), &ek, mk.vt.name, deadline); b != nil || c.Stats().RemoteSkipped != 1 {
		t.Fatalf("%+v, want the lookup skipped", c.Stats())
	}
}

// TestRemoteDripLookupBounded: a server that sends a byte just before each idle timeout holds
// a lookup for RemoteLookupTimeout, not for RemoteTransferTimeout.
func TestRemoteDripLookupBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write([]byte{0}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer srv.Close()
	r, err := OpenRemote(srv.URL, RemoteConfig{IdleTimeout: 300 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) {
		o.RemoteLookupTimeout = 500 * time.Millisecond
		o.RemoteTransferTimeout = time.Minute
		o.RemoteReadOnly = true
	})
	start := time.Now()
	if _, err := loadWithin(t, context.Background(), c, testKey{"drip", 1}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Load took %v with RemoteLookupTimeout 500ms", d)
	}
	if st := c.Stats(); st.RemoteErrors != 1 {
		t.Fatalf("%+v", st)
	}
}

// TestRemoteBreakerLookupsApart: lookups that fail open the breaker although uploads
// succeed: the breakers of lookups and uploads are apart.
func TestRemoteBreakerLookupsApart(t *testing.T) {
	r := newFakeRemote()
	r.getErr = func(string) error { return errors.New("lookups broken") }
	c := remoteCache(t, r, []RemoteKey{teamKey}, nil)
	for i := range remoteBreakerFailures + 5 {
		mustLoad(t, c, testKey{"apart", i}, computeSmall)
		flush(t, c) // each upload succeeds
	}
	gets, puts := r.counts()
	if gets != remoteBreakerFailures || puts != remoteBreakerFailures+5 {
		t.Fatalf("%d gets, %d puts: want the lookups to stop after %d failures, the uploads to go on", gets, puts, remoteBreakerFailures)
	}
	if st := c.Stats(); st.RemoteSkipped != 5 || st.Uploads != remoteBreakerFailures+5 {
		t.Fatalf("%+v", st)
	}
}

// TestRemoteBreakerHalfOpen: after the cooldown, one lookup probes the remote; the others
// skip it until the probe has answered.
func TestRemoteBreakerHalfOpen(t *testing.T) {
	r := newFakeRemote()
	var gets atomic.Int64
	gate := make(chan struct{})
	r.getErr = func(string) error {
		gets.Add(1)
		<-gate
		return errors.New("down")
	}
	c := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) { o.RemoteLookupTimeout = 10 * time.Second })
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	close(gate)
	for i := range remoteBreakerFailures {
		mustLoad(t, c, testKey{"half", i}, computeSmall)
	}
	mu.Lock()
	now = now.Add(remoteBreakerCooldown + time.Second)
	mu.Unlock()
	gets.Store(0)
	gate2 := make(chan struct{})
	r.mu.Lock()
	r.getErr = func(string) error {
		gets.Add(1)
		<-gate2
		return nil // recovered
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { mustLoad(t, c, testKey{"half2", i}, computeSmall) })
	}
	for i := 0; c.Stats().RemoteSkipped < 19; i++ {
		if i > 500 {
			t.Fatalf("%+v, want 19 lookups skipped while one probes", c.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if g := gets.Load(); g != 1 {
		t.Fatalf("%d lookups after the cooldown, want one probe", g)
	}
	close(gate2)
	wg.Wait()
	mustLoad(t, c, testKey{"half3", 1}, computeSmall) // closed again: asked
	if g := gets.Load(); g != 2 {
		t.Fatalf("%d lookups, want the probe and one after it succeeded", g)
	}
}

// TestRemoteQueueCountsRunningUploads: the bytes of the uploads running count against
// RemoteQueueBytes until their Put returns.
func TestRemoteQueueCountsRunningUploads(t *testing.T) {
	const bound = 4 << 20
	var held, peak atomic.Int64
	release := make(chan struct{})
	r := newFakeRemote()
	r.putErr = func(_ context.Context, _ string, data []byte) error {
		n := held.Add(int64(len(data)))
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		held.Add(-int64(len(data)))
		return nil
	}
	c := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) {
		o.RemoteQueueBytes = bound
		o.CompressionLevel = -1
	})
	big := func(_ context.Context, k testKey) (testValue, error) {
		v := testValue{Name: k.Name, N: int64(k.Opt), Data: make([]byte, 1<<20)}
		rand.Read(v.Data)
		return v, nil
	}
	for i := range 12 {
		mustLoad(t, c, testKey{"inflight", i}, big)
	}
	time.Sleep(100 * time.Millisecond)
	c.remote.qMu.Lock()
	queued := c.remote.queued
	c.remote.qMu.Unlock()
	if queued > bound || peak.Load() > bound {
		t.Fatalf("%d bytes counted, %d held by running Puts: over the bound of %d", queued, peak.Load(), bound)
	}
	close(release)
	flush(t, c)
	st := c.Stats()
	if st.Uploads+st.UploadsDropped != 12 || st.UploadsDropped < 12-bound/(1<<20) {
		t.Fatalf("%+v", st)
	}
	c.remote.qMu.Lock()
	defer c.remote.qMu.Unlock()
	if c.remote.queued != 0 {
		t.Fatalf("%d bytes still counted after the uploads", c.remote.queued)
	}
}

// TestRemoteCloseWaitsForPuts: Close does not close the Remote while a Put that ignores its
// context still runs; the Remote is closed when it returns.
func TestRemoteCloseWaitsForPuts(t *testing.T) {
	r := &blockingRemote{release: make(chan struct{})}
	o := Options{Dir: t.TempDir(), Namespace: "test", Version: "v1", Remote: r, RemoteKeys: []RemoteKey{teamKey},
		Logger: quiet, RemoteCloseTimeout: 100 * time.Millisecond, RemoteLookupTimeout: 50 * time.Millisecond}
	c, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	mustLoad(t, c, testKey{"put", 1}, computeSmall)
	for r.running.Load() < 1 || c.Stats().RemoteErrors < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	c.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if r.closed.Load() != 0 {
		t.Fatal("the Remote was closed under a running Put")
	}
	close(r.release)
	for i := 0; r.closed.Load() == 0; i++ {
		if i > 500 {
			t.Fatal("the Remote was never closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.overlaps.Load() != 0 || r.closed.Load() != 1 {
		t.Fatalf("closed %d times, %d while a call ran", r.closed.Load(), r.overlaps.Load())
	}
}
