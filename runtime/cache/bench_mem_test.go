package cache

import (
	"context"
	"maps"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cachegen/cachegen/internal/bench"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

// decodedArtifact is the representative artifact without a CachegenClone (the promoted one
// returns a bench.Artifact, so *decodedArtifact is no Cloner): the memory tier decodes it on
// every hit, as it did every value before cachegen generated copies.
type decodedArtifact struct{ bench.Artifact }

// CachegenReusable marks decodedArtifact's UnmarshalMsg, bench.Artifact's generated one, as
// leaving nothing in its receiver that points into it (the marker bench.Artifact has is
// for *bench.Artifact only): its hits decode into a pooled target, as those of a generated
// type without a CachegenClone do.
func (*decodedArtifact) CachegenReusable(*decodedArtifact) {}

func computeDecoded(_ context.Context, k testKey) (decodedArtifact, error) {
	return decodedArtifact{makeArtifact(k.Opt)}, nil
}

// smallArtifact returns a small artifact (1 KiB of code, 16 relocations, 8 traps, the names),
// for the benchmarks whose subject is the hit path rather than the copy.
func smallArtifact(seed int) Artifact {
	a := makeArtifact(seed)
	a.Code = a.Code[:1<<10]
	a.Relocs, a.Traps = a.Relocs[:16], a.Traps[:8]
	// The same names for a seed, whatever the map's order: the names' lengths decide how
	// many allocations decoding the artifact takes (small strings share blocks).
	for _, k := range slices.Sorted(maps.Keys(a.Names)) {
		if len(a.Names) <= 8 {
			break
		}
		delete(a.Names, k)
	}
	return a
}

// warm opens a memory-only cache (opts' other fields as given), loads key into it with
// compute, and hits it once, so that an entry kept decoded is decoded.
func warm[V any, PV Value[V]](b *testing.B, opts Options, key testKey, compute func(context.Context, testKey) (V, error)) *Cache {
	opts.Dir, opts.Namespace = b.TempDir(), "bench"
	c, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	for range 2 {
		if _, err := Load[testKey, V, PV](context.Background(), c, key, compute); err != nil {
			b.Fatal(err)
		}
	}
	return c
}

// BenchmarkMemoryTier compares, in one run, a memory hit of the representative artifact in
// each of the memory tier's modes with the alternatives issue 15 names:
//
//   - decode: a value type without CachegenClone, decoded from its encoding on every hit
//     (what every hit did before);
//   - clone: the artifact's generated CachegenClone of the value kept decoded;
//   - shared: Options.SharedValues, the stored value itself;
//   - map-mutex and sync-map: what a program would do by hand to share values, the key's
//     digest (keyhash.SumOf, which a Load computes too) then a lookup in a
//     map[keyhash.Digest]Artifact under a sync.Mutex, or in a sync.Map;
//   - map-mutex-lookup: the lookup alone, with the digest computed beforehand.
func BenchmarkMemoryTier(b *testing.B) {
	ctx := context.Background()
	key := testKey{"artifact", 1}
	a := makeArtifact(1)
	raw, _ := a.MarshalMsg(nil)

	// fill stores other artifacts until the memory tier holds about its default budget, as
	// in a long-running program (a build daemon, a language server): the heap is then 64 MiB
	// of kept values, not the one entry of the benchmark, and the collector runs once per
	// 64 MiB allocated rather than once per two hits.
	fill := func(b *testing.B, load func(testKey)) {
		for i := range int(DefaultMemoryBytes*9/10) / len(raw) {
			load(testKey{"fill", i + 2})
		}
	}
	for _, full := range []string{"", "-full"} {
		b.Run("decode"+full, func(b *testing.B) {
			c := warm[decodedArtifact](b, Options{}, key, computeDecoded)
			if full != "" {
				fill(b, func(k testKey) { Load(ctx, c, k, computeDecoded) })
			}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Load(ctx, c, key, func(context.Context, testKey) (decodedArtifact, error) {
					return decodedArtifact{}, errHitExpected
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("clone"+full, func(b *testing.B) {
			c := warm[Artifact](b, Options{}, key, computeArtifact)
			if full != "" {
				fill(b, func(k testKey) { Load(ctx, c, k, computeArtifact) })
			}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Load(ctx, c, key, noCompute); err != nil {
					b.Fatal(err)
				}
			}
			if st := c.Stats(); st.DiskHits != 0 || st.Hits < uint64(b.N) {
				b.Fatalf("stats %+v", st)
			}
		})
	}
	for _, mode := range []string{"shared"} {
		b.Run(mode, func(b *testing.B) {
			c := warm[Artifact](b, Options{SharedValues: mode == "shared"}, key, computeArtifact)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Load(ctx, c, key, noCompute); err != nil {
					b.Fatal(err)
				}
			}
			if st := c.Stats(); st.Computes != 1 || st.DiskHits != 0 {
				b.Fatalf("stats %+v", st)
			}
		})
	}
	b.Run("map-mutex", func(b *testing.B) {
		var mu sync.Mutex
		m := map[keyhash.Digest]Artifact{keyhash.SumOf(key): a}
		b.ReportAllocs()
		for b.Loop() {
			d := keyhash.SumOf(key)
			mu.Lock()
			_, ok := m[d]
			mu.Unlock()
			if !ok {
				b.Fatal("missing")
			}
		}
	})
	b.Run("map-mutex-lookup", func(b *testing.B) {
		var mu sync.Mutex
		d := keyhash.SumOf(key)
		m := map[keyhash.Digest]Artifact{d: a}
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			_, ok := m[d]
			mu.Unlock()
			if !ok {
				b.Fatal("missing")
			}
		}
	})
	b.Run("sync-map", func(b *testing.B) {
		var m sync.Map
		m.Store(keyhash.SumOf(key), a)
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := m.Load(keyhash.SumOf(key)); !ok {
				b.Fatal("missing")
			}
		}
	})
}

// BenchmarkHotKey measures how memory hits on one key scale from one goroutine to two (on
// two cores at least): each sub-benchmark runs b.N hits in one goroutine, then b.N hits split
// between two, three times in turn, and reports the best time per hit of each and their
// ratio, "scaling" (2 is perfect; below 1, two cores are slower than one). The subjects: the cache in shared mode with the
// representative artifact, and with a small artifact (smallArtifact) decoded on every hit
// (decode) and copied (clone); against the key's digest and a sync.Map lookup (sync-map),
// and the digest alone (digest). On a machine busy with other work, the two goroutines do not
// get two cores and the ratio means little.
func BenchmarkHotKey(b *testing.B) {
	if procs := testingProcs(); procs < 2 {
		b.Skipf("GOMAXPROCS %d: two cores are needed", procs)
	}
	ctx := context.Background()
	key := testKey{"hot", 1}
	small := func(_ context.Context, k testKey) (Artifact, error) { return smallArtifact(k.Opt), nil }
	smallDecoded := func(_ context.Context, k testKey) (decodedArtifact, error) {
		return decodedArtifact{smallArtifact(k.Opt)}, nil
	}
	subjects := []struct {
		name string
		hit  func(b *testing.B) func() bool
	}{
		{"shared", func(b *testing.B) func() bool {
			c := warm[Artifact](b, Options{SharedValues: true}, key, computeArtifact)
			return func() bool { _, err := Load(ctx, c, key, noCompute); return err == nil }
		}},
		{"clone", func(b *testing.B) func() bool {
			c := warm[Artifact](b, Options{}, key, small)
			return func() bool { _, err := Load(ctx, c, key, noCompute); return err == nil }
		}},
		{"decode", func(b *testing.B) func() bool {
			c := warm[decodedArtifact](b, Options{}, key, smallDecoded)
			fail := func(context.Context, testKey) (decodedArtifact, error) { return decodedArtifact{}, errHitExpected }
			return func() bool { _, err := Load(ctx, c, key, fail); return err == nil }
		}},
		{"sync-map", func(b *testing.B) func() bool {
			var m sync.Map
			m.Store(keyhash.SumOf(key), makeArtifact(1))
			return func() bool { _, ok := m.Load(keyhash.SumOf(key)); return ok }
		}},
		{"digest", func(b *testing.B) func() bool {
			d := keyhash.SumOf(key)
			return func() bool { return keyhash.SumOf(key) == d }
		}},
	}
	for _, s := range subjects {
		b.Run(s.name, func(b *testing.B) {
			hit := s.hit(b)
			run := func(goroutines int) time.Duration {
				var wg sync.WaitGroup
				start := time.Now()
				for g := range goroutines {
					n := b.N / goroutines
					if g == 0 {
						n += b.N % goroutines
					}
					wg.Go(func() {
						for range n {
							if !hit() {
								b.Error("not a hit")
								return
							}
						}
					})
				}
				wg.Wait()
				return time.Since(start)
			}
			// Alternated three times, the best of each kept: other work on the machine
			// only ever makes a run slower.
			b.ResetTimer()
			one, two := run(1), run(2)
			for range 2 {
				one, two = min(one, run(1)), min(two, run(2))
			}
			b.StopTimer()
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(one.Nanoseconds())/float64(b.N), "ns/hit-1")
			b.ReportMetric(float64(two.Nanoseconds())/float64(b.N), "ns/hit-2")
			b.ReportMetric(one.Seconds()/two.Seconds(), "scaling")
		})
	}
}

// testingProcs returns GOMAXPROCS.
func testingProcs() int { return runtime.GOMAXPROCS(0) }
