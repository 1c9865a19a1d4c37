package cache

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// smallBuf is a hand-written msgp type with a small-buffer optimisation: up to 4 items are
// decoded into an array of the receiver. Its UnmarshalMsg does not retain its input, as
// Load requires; it leaves in its receiver a slice of the receiver's own memory.
type smallBuf struct {
	buf   [4]int64
	Items []int64
}

func (z *smallBuf) MarshalMsg(b []byte) ([]byte, error) {
	b = msgp.AppendArrayHeader(b, uint32(len(z.Items)))
	for _, x := range z.Items {
		b = msgp.AppendInt64(b, x)
	}
	return b, nil
}

func (z *smallBuf) UnmarshalMsg(b []byte) ([]byte, error) {
	n, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return b, err
	}
	if n <= uint32(len(z.buf)) {
		z.Items = z.buf[:n]
	} else {
		z.Items = make([]int64, n)
	}
	for i := range z.Items {
		if z.Items[i], b, err = msgp.ReadInt64Bytes(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (z *smallBuf) Msgsize() int { return 5 + 9*len(z.Items) }

func computeSmallBuf(_ context.Context, k testKey) (smallBuf, error) {
	return smallBuf{Items: []int64{int64(k.Opt), 2, 3}}, nil
}

// TestHitOfSelfReferencingDecoder: a memory hit of a type whose hand-written UnmarshalMsg
// points into its receiver returns a value of the caller's own. Decoded into a pooled target
// that is zeroed and reused, it pointed into memory that later hits overwrite.
func TestHitOfSelfReferencingDecoder(t *testing.T) {
	ctx := context.Background()
	c := open(t, Options{Dir: t.TempDir()})
	for i := range 8 {
		Load(ctx, c, testKey{"small", i}, computeSmallBuf)
	}
	v, _ := Load(ctx, c, testKey{"small", 1}, computeSmallBuf)
	if want := []int64{1, 2, 3}; !slices.Equal(v.Items, want) {
		t.Errorf("a memory hit returned %v, want %v", v.Items, want)
	}
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			for range 500 {
				v, _ := Load(ctx, c, testKey{"small", g}, computeSmallBuf)
				if !slices.Equal(v.Items, []int64{int64(g), 2, 3}) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d of 4000 concurrent memory hits returned a value that was not the caller's own", n)
	}
	if c.Stats().MemoryHits < 4000 {
		t.Errorf("the hits were not memory hits: %+v", c.Stats())
	}
}

// unencodable is a hand-written msgp type with a CachegenClone whose MarshalMsg fails: a
// flight's value is then all its waiters have.
type unencodable struct{ Items []int64 }

func (z *unencodable) MarshalMsg(b []byte) ([]byte, error) { return b, errors.New("cannot encode") }
func (z *unencodable) UnmarshalMsg(b []byte) ([]byte, error) {
	return b, errors.New("nothing was encoded")
}
func (z *unencodable) Msgsize() int { return 1 }
func (z *unencodable) CachegenClone() unencodable {
	return unencodable{Items: slices.Clone(z.Items)}
}

// TestSharedFlightWaitersGetCopies: the Loads that share a flight whose value could not be
// encoded each get a copy of their own, made by the type's CachegenClone.
func TestSharedFlightWaitersGetCopies(t *testing.T) {
	ctx := context.Background()
	c := open(t, Options{Dir: t.TempDir()})
	release := make(chan struct{})
	compute := func(context.Context, testKey) (unencodable, error) {
		<-release
		return unencodable{Items: []int64{1, 2, 3}}, nil
	}
	got := make([]unencodable, 4)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i], _ = Load(ctx, c, testKey{"unencodable", 1}, compute) })
	}
	for c.Stats().Shared < uint64(len(got)-1) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	got[0].Items[0] = 99
	for i := 1; i < len(got); i++ {
		if got[i].Items[0] != 1 {
			t.Errorf("Load %d sees Load 0's change: the waiters share the flight's value", i)
		}
	}
}

// flakyFail makes flaky's UnmarshalMsg fail.
var flakyFail atomic.Bool

// flaky is a hand-written msgp type whose UnmarshalMsg fails while flakyFail is set.
type flaky struct{ Items []int64 }

func (z *flaky) MarshalMsg(b []byte) ([]byte, error) {
	b = msgp.AppendArrayHeader(b, uint32(len(z.Items)))
	for _, x := range z.Items {
		b = msgp.AppendInt64(b, x)
	}
	return b, nil
}

func (z *flaky) UnmarshalMsg(b []byte) ([]byte, error) {
	if flakyFail.Load() {
		time.Sleep(50 * time.Millisecond) // so that the hits of the entry overlap
		return b, errors.New("flaky")
	}
	n, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return b, err
	}
	z.Items = make([]int64, n)
	for i := range z.Items {
		if z.Items[i], b, err = msgp.ReadInt64Bytes(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (z *flaky) Msgsize() int { return 5 + 9*len(z.Items) }

// TestCorruptCountedOnce: a damaged memory entry found by concurrent Loads is counted once
// in Stats.Corrupt, as is the damaged entry file the flight then finds.
func TestCorruptCountedOnce(t *testing.T) {
	ctx := context.Background()
	c := open(t, Options{Dir: t.TempDir()})
	k := testKey{"flaky", 1}
	compute := func(context.Context, testKey) (flaky, error) { return flaky{Items: []int64{1, 2}}, nil }
	Load(ctx, c, k, compute)
	flakyFail.Store(true)
	defer flakyFail.Store(false)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			<-start
			Load(ctx, c, k, compute)
		})
	}
	close(start)
	wg.Wait()
	if n := c.Stats().Corrupt; n != 2 {
		t.Errorf("Corrupt = %d for one damaged memory entry and one damaged entry file", n)
	}
}

// boom is a hand-written msgp type whose CachegenClone panics.
type boom struct{ N int64 }

func (z *boom) MarshalMsg(b []byte) ([]byte, error) { return msgp.AppendInt64(b, z.N), nil }
func (z *boom) UnmarshalMsg(b []byte) ([]byte, error) {
	var err error
	z.N, b, err = msgp.ReadInt64Bytes(b)
	return b, err
}
func (z *boom) Msgsize() int        { return 9 }
func (z *boom) CachegenClone() boom { panic("clone failed") }

// TestClonePanicDecodesInstead: a CachegenClone that panics is reported (Stats.Errors) and
// not called again; the hits decode the value instead, and none panics. The decoded value
// was kept before the copy was made, so every later hit of the entry panicked.
func TestClonePanicDecodesInstead(t *testing.T) {
	ctx := context.Background()
	c := open(t, Options{Dir: t.TempDir()})
	compute := func(_ context.Context, k testKey) (boom, error) { return boom{N: int64(k.Opt)}, nil }
	for round := range 3 {
		for i := range 3 {
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("round %d: Load panicked: %v", round, p)
					}
				}()
				if v, err := Load(ctx, c, testKey{"boom", i}, compute); err != nil || v.N != int64(i) {
					t.Errorf("round %d: Load returned %v, %v", round, v, err)
				}
			}()
		}
	}
	st := c.Stats()
	if st.Errors != 1 || st.MemoryHits != 6 {
		t.Errorf("Errors = %d (want 1), MemoryHits = %d (want 6)", st.Errors, st.MemoryHits)
	}
}

// TestNewEntryNotEvictedFirst: storing a value in a full shard whose entries were all hit
// keeps the new value and evicts the least recently used entry; the new value used to be
// evicted at once (unmarked, it came after the marked entries eviction spared), and each of
// its Loads went to disk.
func TestNewEntryNotEvictedFirst(t *testing.T) {
	ctx := context.Background()
	a := makeArtifact(1)
	raw, _ := a.MarshalMsg(nil)
	cost := int64(len(raw)) + memEntryOverhead
	// Each shard holds 2 entries (2*cost <= max < 3*cost); a value fits (cost <= max/2).
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: 16 * (2*cost + cost/2)})
	var keys []testKey
	for i := 0; len(keys) < 3; i++ {
		if k := (testKey{"clock", i}); memDigest(k)[0]%memShards == 0 {
			keys = append(keys, k)
		}
	}
	compute := func(context.Context, testKey) (Artifact, error) { return makeArtifact(1), nil }
	vt := valueTypeOf[testKey, Artifact](c)
	in := func(k testKey) bool {
		_, ok := c.mem.index.Load(memKey{d: memDigest(k), vt: vt})
		return ok
	}
	A, B, C := keys[0], keys[1], keys[2]
	Load(ctx, c, A, compute)
	Load(ctx, c, B, compute)
	Load(ctx, c, A, compute)
	Load(ctx, c, B, compute)
	Load(ctx, c, C, compute)
	if !in(C) {
		t.Error("the value just stored was evicted")
	}
	if in(A) {
		t.Error("the least recently used entry was kept")
	}
}
