package cache

import (
	"context"
	"reflect"
	"runtime"
	"testing"

	"github.com/cachegen/cachegen/testdata/golden/clones"
	"github.com/tinylib/msgp/msgp"
)

// sparseMaps is a hand-written msgp type without CachegenSize or CachegenClone that decodes
// to far more than it encodes: each empty map is one byte of encoding and a heap map decoded.
type sparseMaps struct{ M []map[string]int }

func (z *sparseMaps) MarshalMsg(b []byte) ([]byte, error) {
	b = msgp.AppendArrayHeader(b, uint32(len(z.M)))
	for range z.M {
		b = msgp.AppendMapHeader(b, 0)
	}
	return b, nil
}

func (z *sparseMaps) UnmarshalMsg(b []byte) ([]byte, error) {
	n, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return b, err
	}
	z.M = make([]map[string]int, n)
	for i := range z.M {
		var sz uint32
		if sz, b, err = msgp.ReadMapHeaderBytes(b); err != nil {
			return b, err
		}
		z.M[i] = make(map[string]int, sz)
	}
	return b, nil
}

func (z *sparseMaps) Msgsize() int { return 5 + len(z.M) }

// heapAlloc returns the bytes of live heap after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// retainedByTier loads n values that decode to far more than they encode, hits each once
// (the hit that would keep them decoded), and returns the live heap that the memory tier of
// MemoryBytes mb adds to that of a Cache without one.
func retainedByTier[V any, PV Value[V]](t *testing.T, opts Options, mb int64, n int, compute func(context.Context, testKey) (V, error)) int64 {
	used := func(mb int64) uint64 {
		opts := opts
		opts.Dir, opts.MemoryBytes, opts.CompressionLevel = t.TempDir(), mb, -1
		c := open(t, opts)
		base := heapAlloc()
		for i := range n {
			Load[testKey, V, PV](context.Background(), c, testKey{"sparse", i}, compute)
			Load[testKey, V, PV](context.Background(), c, testKey{"sparse", i}, compute)
		}
		u := heapAlloc() - base
		runtime.KeepAlive(c)
		c.Close()
		return u
	}
	return int64(used(mb)) - int64(used(-1))
}

// TestMemoryTierBoundsDecodedValues: the memory tier charges a value it keeps decoded by what
// the value retains, not by its encoding, and keeps the encoding of one that decodes to many
// times its size: the memory it retains stays within MemoryBytes (with slack for the Go
// heap's rounding), for a generated type with a CachegenClone, and in shared mode for a
// hand-written type without one. Charged by their encodings, 32 such values kept decoded
// retained 20 to 30 times MemoryBytes.
func TestMemoryTierBoundsDecodedValues(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const mb = 2 << 20
	const per = 50_000 // about 50 KB encoded, under half a shard (2 MiB/16/2 = 64 KiB)
	generated := func(context.Context, testKey) (clones.Sparse, error) {
		return clones.Sparse{Maps: make([]map[string]int, per/2), Slices: make([][]int, per/2)}, nil
	}
	hand := func(context.Context, testKey) (sparseMaps, error) {
		return sparseMaps{M: make([]map[string]int, per)}, nil
	}
	for _, tc := range []struct {
		name string
		got  func() int64
	}{
		{"generated, copies", func() int64 { return retainedByTier(t, Options{}, mb, 32, generated) }},
		{"generated, shared", func() int64 { return retainedByTier(t, Options{SharedValues: true}, mb, 32, generated) }},
		{"hand-written, shared", func() int64 { return retainedByTier(t, Options{SharedValues: true}, mb, 32, hand) }},
	} {
		got := tc.got()
		t.Logf("%s: the memory tier retains %.1f MiB for MemoryBytes of %d MiB", tc.name, float64(got)/(1<<20), mb>>20)
		if got > 2*mb {
			t.Errorf("%s: the memory tier retains %.1f MiB for MemoryBytes of %d MiB", tc.name, float64(got)/(1<<20), mb>>20)
		}
	}
}

// TestMemoryChargesDecodedSize: an entry kept decoded is charged its type's size and its
// CachegenSize (or, without one, heapSize), and the shard's count follows.
func TestMemoryChargesDecodedSize(t *testing.T) {
	ctx := context.Background()
	for _, shared := range []bool{false, true} {
		c := open(t, Options{Dir: t.TempDir(), SharedValues: shared})
		k := testKey{"charge", 1}
		Load(ctx, c, k, computeArtifact)
		mk := memKey{d: memDigest(k), vt: valueTypeOf[testKey, Artifact](c)}
		enc := c.mem.lookup(mk)
		if enc == nil || enc.val != nil {
			t.Fatal("the entry is not an encoding after a miss")
		}
		Load(ctx, c, k, noCompute)
		e := c.mem.lookup(mk)
		mv, ok := e.val.(*memValue[Artifact])
		if !ok {
			t.Fatalf("shared=%v: the artifact is not kept decoded", shared)
		}
		want := int64(reflect.TypeFor[Artifact]().Size()) + int64(mv.v.CachegenSize())
		if e.size != want {
			t.Errorf("shared=%v: the decoded entry is charged %d, want %d", shared, e.size, want)
		}
		if e.size == enc.size {
			t.Errorf("shared=%v: the decoded entry is charged its encoding's length", shared)
		}
		s := c.mem.shard(&mk)
		s.mu.Lock()
		if s.bytes != e.size+memEntryOverhead {
			t.Errorf("shared=%v: the shard counts %d bytes for one entry charged %d", shared, s.bytes, e.size+memEntryOverhead)
		}
		s.mu.Unlock()
	}
}

// TestHeapSizeEstimatesDecodedValue: heapSize, which the memory tier charges for decoded
// values whose type has no CachegenSize, is close to CachegenSize where there is one, and
// counts memory reached twice once.
func TestHeapSizeEstimatesDecodedValue(t *testing.T) {
	a := makeArtifact(3)
	raw, _ := a.MarshalMsg(nil)
	var d Artifact
	if _, err := d.UnmarshalMsg(raw); err != nil {
		t.Fatal(err)
	}
	gen, walked := int64(d.CachegenSize()), heapSize(reflect.ValueOf(d), map[uintptr]bool{})
	if walked < gen*9/10 || walked > gen*11/10 {
		t.Errorf("heapSize %d, CachegenSize %d", walked, gen)
	}
	s := make([]int64, 100)
	type twice struct {
		A, B []int64
		P, Q *[64]byte
		I    any
	}
	p := new([64]byte)
	if n := heapSize(reflect.ValueOf(twice{A: s, B: s[:10], P: p, Q: p, I: p}), map[uintptr]bool{}); n != 800+64 {
		t.Errorf("heapSize of a value reaching memory twice = %d, want %d", n, 800+64)
	}
}
