package cache

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cachegen/cachegen/internal/randval"
	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/cachegen/cachegen/testdata/golden/values"
)

// wide is the golden value with every field kind cachegen copies (bytes, slices of structs,
// maps of slices and of maps, a pointer, a time, arrays, an unexported field, an embedded
// struct), with its generated CachegenClone.
type wide = values.Artifact

// wideValueOf returns the random wide value of seed, its times in UTC (a hit returns them so).
func wideValueOf(seed int) wide {
	f := randval.New(uint64(seed))
	f.Locations = []*time.Location{time.UTC}
	var v wide
	f.Fill(&v)
	v.Log = nil // msg:"-"
	return v
}

func computeWideValue(_ context.Context, k testKey) (wide, error) { return wideValueOf(k.Opt), nil }

func noComputeWideValue(context.Context, testKey) (wide, error) { return wide{}, errHitExpected }

// TestMemoryHitIsPrivate: a caller that changes every mutable part of what a hit returned
// changes nothing the next hit returns, for every field kind, whether the value type is
// copied by its CachegenClone (wide, bench.Artifact) or decoded (decodedArtifact), from a
// memory entry stored by a miss or by a disk hit.
func TestMemoryHitIsPrivate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := open(t, Options{Dir: dir})
	for i := range 20 {
		k := testKey{"private", i}
		want := wideValueOf(i)
		for hit := range 4 {
			v, err := Load(ctx, c, k, computeWideValue)
			if err != nil {
				t.Fatal(err)
			}
			if !randval.Equal(v, want) {
				t.Fatalf("seed %d, load %d: got %+v, want %+v", i, hit, v, want)
			}
			randval.Scribble(reflect.ValueOf(&v).Elem())
		}
	}
	a, _ := Load(ctx, c, testKey{"artifact", 1}, computeArtifact)
	d, _ := Load(ctx, c, testKey{"artifact", 1}, computeDecoded)
	for range 3 {
		randval.Scribble(reflect.ValueOf(&a).Elem())
		randval.Scribble(reflect.ValueOf(&d).Elem())
		a, _ = Load(ctx, c, testKey{"artifact", 1}, noCompute)
		d, _ = Load(ctx, c, testKey{"artifact", 1}, func(context.Context, testKey) (decodedArtifact, error) {
			return decodedArtifact{}, errHitExpected
		})
		if want := makeArtifact(1); !randval.Equal(a, want) || !randval.Equal(d.Artifact, want) {
			t.Fatal("a hit returned a value changed by an earlier caller")
		}
	}
	if st := c.Stats(); st.Computes != 22 || st.MemoryHits != 20*3+6 || st.Hits != st.MemoryHits {
		t.Fatalf("stats %+v", st)
	}

	// A second Cache finds the entries on disk, then in memory.
	c2 := open(t, Options{Dir: dir})
	for i := range 20 {
		k := testKey{"private", i}
		for range 3 {
			v, err := Load(ctx, c2, k, noComputeWideValue)
			if err != nil || !randval.Equal(v, wideValueOf(i)) {
				t.Fatalf("seed %d: %v", i, err)
			}
			randval.Scribble(reflect.ValueOf(&v).Elem())
		}
	}
	if st := c2.Stats(); st.DiskHits != 20 || st.MemoryHits != 40 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCloneKeepsDecodedValue: for a type with a CachegenClone, the first memory hit of an
// entry decodes it once and keeps the value (no encoding left), and later hits copy it; a
// type without one keeps the encoding.
func TestCloneKeepsDecodedValue(t *testing.T) {
	ctx := context.Background()
	c := open(t, Options{Dir: t.TempDir()})
	k := testKey{"kept", 1}
	if !valueTypeOf[testKey, wide](c).clone || valueTypeOf[testKey, decodedArtifact](c).clone {
		t.Fatal("Cloner detection")
	}
	load := func() {
		if _, err := Load(ctx, c, k, computeWideValue); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(ctx, c, k, computeDecoded); err != nil {
			t.Fatal(err)
		}
	}
	load() // misses
	e := c.mem.lookup(memKey{d: memDigest(k), vt: valueTypeOf[testKey, wide](c)})
	if e == nil || e.data == nil || e.val != nil {
		t.Fatalf("after the miss: %+v", e)
	}
	load() // first hits
	load()
	e = c.mem.lookup(memKey{d: memDigest(k), vt: valueTypeOf[testKey, wide](c)})
	if e == nil || e.data != nil || e.val == nil {
		t.Fatalf("after hits: the entry of a type with CachegenClone is %+v", e)
	}
	if e.size == 0 {
		t.Error("the decoded entry lost its size")
	}
	d := c.mem.lookup(memKey{d: memDigest(k), vt: valueTypeOf[testKey, decodedArtifact](c)})
	if d == nil || d.data == nil || d.val != nil {
		t.Fatalf("the entry of a type without CachegenClone is %+v", d)
	}
}

// TestSharedValues: with Options.SharedValues, memory hits return the stored value itself
// (the same slices and maps every time), for types with and without CachegenClone; a miss
// still returns the computed value, which the memory tier does not hold.
func TestSharedValues(t *testing.T) {
	ctx := context.Background()
	c := open(t, Options{Dir: t.TempDir(), SharedValues: true})
	k := testKey{"shared", 1}
	miss, _ := Load(ctx, c, k, computeArtifact)
	h1, _ := Load(ctx, c, k, noCompute)
	h2, _ := Load(ctx, c, k, noCompute)
	if &h1.Code[0] != &h2.Code[0] || reflect.ValueOf(h1.Names).Pointer() != reflect.ValueOf(h2.Names).Pointer() {
		t.Error("two shared hits returned different values")
	}
	if &miss.Code[0] == &h1.Code[0] {
		t.Error("a hit shares the value the miss returned to its caller")
	}
	if !randval.Equal(h1, makeArtifact(1)) {
		t.Error("shared hit differs")
	}
	fail := func(context.Context, testKey) (decodedArtifact, error) { return decodedArtifact{}, errHitExpected }
	Load(ctx, c, k, computeDecoded)
	d1, _ := Load(ctx, c, k, fail)
	d2, _ := Load(ctx, c, k, fail)
	if &d1.Code[0] != &d2.Code[0] {
		t.Error("shared hits of a type without CachegenClone returned different values")
	}
	// Without the option, two hits share nothing.
	p := open(t, Options{Dir: t.TempDir()})
	Load(ctx, p, k, computeArtifact)
	p1, _ := Load(ctx, p, k, noCompute)
	p2, _ := Load(ctx, p, k, noCompute)
	if &p1.Code[0] == &p2.Code[0] || &p1.Relocs[0] == &p2.Relocs[0] {
		t.Error("private hits share a slice")
	}
}

// TestDamagedMemoryEntry: an encoding in memory that does not decode is dropped and counted,
// and the Load looks further, for a type kept decoded or not.
func TestDamagedMemoryEntry(t *testing.T) {
	ctx := context.Background()
	c := open(t, Options{Dir: t.TempDir()})
	k := testKey{"damaged", 1}
	if _, err := Load(ctx, c, k, computeWideValue); err != nil {
		t.Fatal(err)
	}
	mk := memKey{d: memDigest(k), vt: valueTypeOf[testKey, wide](c)}
	c.mem.put(mk, []byte{0xc1})                   // never valid msgpack
	v, err := Load(ctx, c, k, noComputeWideValue) // found on disk instead
	if err != nil || !randval.Equal(v, wideValueOf(1)) {
		t.Fatalf("%v", err)
	}
	if st := c.Stats(); st.Corrupt != 1 || st.DiskHits != 1 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := Load(ctx, c, k, noComputeWideValue); err != nil { // the disk hit refilled memory
		t.Fatal(err)
	}
	if st := c.Stats(); st.MemoryHits != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestVerifyWithClone: verify mode compares a copied hit with a fresh computation and finds
// no difference.
func TestVerifyWithClone(t *testing.T) {
	ctx := context.Background()
	for _, shared := range []bool{false, true} {
		c := open(t, Options{Dir: t.TempDir(), Verify: VerifyPanic, SharedValues: shared})
		k := testKey{"verify", 3}
		for range 3 {
			if _, err := Load(ctx, c, k, computeWideValue); err != nil {
				t.Fatal(err)
			}
		}
		if st := c.Stats(); st.Verified != 2 || st.VerifyFailures != 0 {
			t.Fatalf("shared=%v: stats %+v", shared, st)
		}
	}
}

// TestMemoryHitAllocs: a memory hit allocates nothing but the value it returns: nothing in
// shared mode, what CachegenClone allocates in copy mode, what UnmarshalMsg allocates for the
// value's contents when it is decoded (the key is not boxed, the decoding target is pooled,
// the stats are striped without allocating).
func TestMemoryHitAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, which would count as allocations")
	}
	ctx := context.Background()
	k := testKey{"allocs", 1}
	small := func(_ context.Context, k testKey) (Artifact, error) { return smallArtifact(k.Opt), nil }
	a := smallArtifact(1)
	raw, _ := a.MarshalMsg(nil)

	shared := open(t, Options{Dir: t.TempDir(), SharedValues: true})
	Load(ctx, shared, k, small)
	Load(ctx, shared, k, small)
	waitFor(t, func() bool { return !shared.trimming.Load() })
	if n := testing.AllocsPerRun(200, func() { Load(ctx, shared, k, noCompute) }); n != 0 {
		t.Errorf("a shared hit allocates %v times", n)
	}

	cl := open(t, Options{Dir: t.TempDir()})
	Load(ctx, cl, k, small)
	Load(ctx, cl, k, small)
	waitFor(t, func() bool { return !cl.trimming.Load() })
	var decoded, copied Artifact
	if _, err := decoded.UnmarshalMsg(raw); err != nil {
		t.Fatal(err)
	}
	own := testing.AllocsPerRun(200, func() { copied = decoded.CachegenClone() })
	_ = copied
	if n := testing.AllocsPerRun(200, func() { Load(ctx, cl, k, noCompute) }); n != own {
		t.Errorf("a copied hit allocates %v times, its CachegenClone %v", n, own)
	}

	dec := open(t, Options{Dir: t.TempDir()})
	smallDecoded := func(_ context.Context, k testKey) (decodedArtifact, error) {
		return decodedArtifact{smallArtifact(k.Opt)}, nil
	}
	fail := func(context.Context, testKey) (decodedArtifact, error) { return decodedArtifact{}, errHitExpected }
	Load(ctx, dec, k, smallDecoded)
	// The store's background trim allocates too: not a hit's.
	waitFor(t, func() bool { return !dec.trimming.Load() })
	var target decodedArtifact
	own = testing.AllocsPerRun(200, func() {
		target = decodedArtifact{}
		target.UnmarshalMsg(raw)
	})
	if n := testing.AllocsPerRun(200, func() { Load(ctx, dec, k, fail) }); n != own {
		t.Errorf("a decoded hit allocates %v times, UnmarshalMsg into a reused target %v", n, own)
	}
}

// TestMemoryConcurrent runs hits, first hits racing to decode an entry, stores of the same
// keys and evictions at once (run it with -race): every Load returns the right value, and
// every caller may change what it got.
func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	for _, shared := range []bool{false, true} {
		c := open(t, Options{Dir: t.TempDir(), MemoryBytes: 64 << 10, SharedValues: shared})
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 300 {
					k := testKey{"conc", (i * (g + 1)) % 12}
					v, err := Load(ctx, c, k, computeWideValue)
					if err != nil {
						t.Error(err)
						return
					}
					if !randval.Equal(v, wideValueOf(k.Opt)) {
						t.Errorf("key %d: wrong value", k.Opt)
						return
					}
					if !shared {
						randval.Scribble(reflect.ValueOf(&v).Elem())
					}
					if i%50 == 0 {
						c.mem.put(memKey{d: memDigest(k), vt: valueTypeOf[testKey, wide](c)}, mustMarshal(t, wideValueOf(k.Opt)))
					}
				}
			})
		}
		wg.Wait()
		st := c.Stats()
		if st.Hits+st.Misses != 8*300 || st.Errors != 0 || st.Corrupt != 0 {
			t.Fatalf("shared=%v: stats %+v", shared, st)
		}
	}
}

func mustMarshal(t *testing.T, v wide) []byte {
	b, err := v.MarshalMsg(nil)
	if err != nil {
		t.Error(err)
	}
	return b
}

// TestHitCounterSums: the striped memory hit counter sums what every goroutine added.
func TestHitCounterSums(t *testing.T) {
	var h hitCounter
	h.init()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				h.add()
			}
		})
	}
	wg.Wait()
	if n := h.load(); n != 8000 {
		t.Fatalf("counted %d, want 8000", n)
	}
}

// memDigest is keyhash.SumOf, as Load digests keys.
func memDigest(k testKey) keyhash.Digest { return keyhash.SumOf(k) }

// TestRemoteHitFillsMemory: a remote hit stores the encoding in the memory tier, whose hits
// then decode it once and return private copies.
func TestRemoteHitFillsMemory(t *testing.T) {
	ctx := context.Background()
	r := newFakeRemote()
	a := remoteCache(t, r, []RemoteKey{teamKey}, nil)
	k := testKey{"remote", 7}
	if _, err := Load(ctx, a, k, computeWideValue); err != nil {
		t.Fatal(err)
	}
	flush(t, a)
	b := remoteCache(t, r, []RemoteKey{teamKey}, nil)
	for range 4 {
		v, err := Load(ctx, b, k, noComputeWideValue)
		if err != nil || !randval.Equal(v, wideValueOf(7)) {
			t.Fatalf("%v", err)
		}
		randval.Scribble(reflect.ValueOf(&v).Elem())
	}
	if st := b.Stats(); st.RemoteHits != 1 || st.MemoryHits != 3 || st.Computes != 0 {
		t.Fatalf("stats %+v", st)
	}
}
