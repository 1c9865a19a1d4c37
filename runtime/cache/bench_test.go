package cache

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cachegen/cachegen/internal/bench"
	"github.com/cachegen/cachegen/internal/randval"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

// Artifact is the representative compiled artifact of the benchmarks (machine code,
// relocations, trap sites and a name table), with the msgp methods cachegen generates.
type Artifact = bench.Artifact

// computeArtifact computes the artifact of key k: its Opt field is the seed.
func computeArtifact(_ context.Context, k testKey) (Artifact, error) {
	return makeArtifact(k.Opt), nil
}

// makeArtifact returns the representative artifact of the seed.
func makeArtifact(seed int) Artifact { return bench.NewArtifact(uint64(seed)) }

var errHitExpected = errors.New("computed: a hit was expected")

func noCompute(context.Context, testKey) (Artifact, error) { return Artifact{}, errHitExpected }

func TestArtifactRoundTrip(t *testing.T) {
	a := makeArtifact(1)
	b, err := a.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > a.Msgsize() {
		t.Errorf("encoding of %d bytes, Msgsize %d", len(b), a.Msgsize())
	}
	var got Artifact
	if rest, err := got.UnmarshalMsg(b); err != nil || len(rest) != 0 || !randval.Equal(got, a) {
		t.Fatalf("round trip: %v, %d bytes left, equal=%v", err, len(rest), randval.Equal(got, a))
	}
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1})
	if _, err := Load(context.Background(), c, testKey{"art", 1}, computeArtifact); err != nil {
		t.Fatal(err)
	}
	v, err := Load(context.Background(), c, testKey{"art", 1}, noCompute)
	if err != nil || !randval.Equal(v, a) {
		t.Fatalf("disk hit: %v", err)
	}
	t.Logf("artifact: %d bytes raw, entry file %d bytes", len(b), c.Stats().StoredBytes)
}

// storedArtifact opens a cache (memoryBytes as in Options) that holds the representative
// artifact, closed when b ends, and returns it with the artifact's key and msgp encoding.
func storedArtifact(b *testing.B, memoryBytes int64) (*Cache, testKey, []byte) {
	c, err := Open(Options{Dir: b.TempDir(), Namespace: "bench", MemoryBytes: memoryBytes})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	key := testKey{"artifact", 1}
	if _, err := Load(context.Background(), c, key, computeArtifact); err != nil {
		b.Fatal(err)
	}
	a := makeArtifact(1)
	raw, _ := a.MarshalMsg(nil)
	return c, key, raw
}

// BenchmarkMemoryHit loads an artifact from the memory tier: one UnmarshalMsg.
func BenchmarkMemoryHit(b *testing.B) {
	ctx := context.Background()
	c, key, raw := storedArtifact(b, 0)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(ctx, c, key, noCompute); err != nil {
			b.Fatal(err)
		}
	}
	if st := c.Stats(); st.DiskHits != 0 {
		b.Fatalf("disk hits in a memory benchmark: %+v", st)
	}
}

// BenchmarkParallelLoad measures Load throughput from many goroutines over 64 artifacts
// held in the memory tier.
func BenchmarkParallelLoad(b *testing.B) {
	ctx := context.Background()
	c, err := Open(Options{Dir: b.TempDir(), Namespace: "bench", MemoryBytes: 256 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	const n = 64
	small := func(_ context.Context, k testKey) (Artifact, error) {
		a := makeArtifact(k.Opt)
		a.Code = a.Code[:16<<10]
		a.Relocs, a.Traps = a.Relocs[:100], a.Traps[:50]
		return a, nil
	}
	for i := range n {
		if _, err := Load(ctx, c, testKey{"par", i}, small); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := Load(ctx, c, testKey{"par", i % n}, noCompute); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if st := c.Stats(); st.Misses != n {
		b.Fatalf("stats %+v", st)
	}
}

// BenchmarkExplainer measures what the miss explainer adds to a miss of the representative
// key (bench.NewKey with 4 KiB of source, 138 leaves) storing the representative artifact,
// compute excluded: "off" is the miss with records turned off, "record" the default (every
// store records its key), "explain" a miss explained (OnMiss set) against 64 keys of its
// type stored before. The miss is noisy (it writes 270 KiB), so the explainer's own work
// is also measured alone: "record-work" (list the leaves and append the record) and
// "explain-work" (read the records and explain), to compare with "off".
func BenchmarkExplainer(b *testing.B) {
	ctx := context.Background()
	a := makeArtifact(1)
	raw, _ := a.MarshalMsg(nil)
	prebuilt := func(context.Context, bench.CompileKey) (Artifact, error) { return a, nil }
	benchExplainerWork(b)
	benchExplainerBlocks(b, prebuilt)
	for _, mode := range []string{"off", "record", "explain"} {
		b.Run(mode, func(b *testing.B) {
			opts := Options{Dir: b.TempDir(), Namespace: "bench"}
			if mode == "explain" {
				opts.OnMiss = func(m Miss) {
					if !strings.Contains(m.Reason, "OptLevel") {
						b.Errorf("reason %q", m.Reason)
					}
				}
			}
			c, err := Open(opts)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			c.noRecords = mode == "off"
			k := bench.NewKey(4096)
			if mode == "explain" {
				typeID, _ := keyTypeOf[bench.CompileKey]()
				for i := range 64 {
					k.OptLevel = -1 - i
					c.appendRecord(c.recordFile(typeID), keyhash.Sum(k), valueTypeOf[bench.CompileKey, Artifact](c), newKeyRecord(k))
				}
			}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				k.OptLevel = i
				if _, err := Load(ctx, c, k, prebuilt); err != nil {
					b.Fatal(err)
				}
			}
			if st := c.Stats(); st.Hits != 0 || st.Errors != 0 {
				b.Fatalf("stats %+v", st)
			}
		})
	}
}

// benchExplainerBlocks measures a miss with records on (blocks-record) or explained
// (blocks-explain: OnMiss set, against 64 keys of its type stored before) against a miss
// with records off, in one Cache that turns them on and off: blocks of 20 misses of each
// kind alternate, each ended by Flush, so that what the explainer writes in the background
// is counted in its own block. It reports the medians of the blocks' time per miss and
// their ratio (x-off); blocks-off, off against off, is the control. A whole miss is noisy
// (it writes 270 KiB), and what it costs beyond the explainer's own work (record-work,
// explain-work-*) is the point: the explainer's files change the namespace as the stores do.
func benchExplainerBlocks(b *testing.B, prebuilt func(context.Context, bench.CompileKey) (Artifact, error)) {
	ctx := context.Background()
	for _, mode := range []string{"off", "record", "explain"} {
		b.Run("blocks-"+mode, func(b *testing.B) {
			c, err := Open(Options{Dir: b.TempDir(), Namespace: "bench", OnMiss: func(m Miss) {
				if !strings.Contains(m.Reason, "OptLevel") {
					b.Errorf("reason %q", m.Reason)
				}
			}})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			makeShards(b, c)
			k := bench.NewKey(4096)
			typeID, _ := keyTypeOf[bench.CompileKey]()
			for i := range 64 {
				k.OptLevel = -1 - i
				c.appendRecord(c.recordFile(typeID), keyhash.Sum(k), valueTypeOf[bench.CompileKey, Artifact](c), newKeyRecord(k))
			}
			c.Flush(ctx)
			const misses = 20
			n := 0
			block := func(on bool) time.Duration {
				c.noRecords = !on || mode == "off"
				c.noExplain = !on || mode != "explain"
				start := time.Now()
				for range misses {
					n++
					k.OptLevel = n
					if _, err := Load(ctx, c, k, prebuilt); err != nil {
						b.Fatal(err)
					}
				}
				if err := c.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				return time.Since(start) / misses
			}
			var on, off []time.Duration
			i := 0
			for b.Loop() {
				i++
				if i%2 == 0 { // each goes first every other iteration
					on = append(on, block(true))
					off = append(off, block(false))
				} else {
					off = append(off, block(false))
					on = append(on, block(true))
				}
			}
			mOn, mOff := median(on), median(off)
			b.ReportMetric(float64(mOn), "on-ns/miss")
			b.ReportMetric(float64(mOff), "off-ns/miss")
			b.ReportMetric(float64(mOn)/float64(mOff), "x-off")
		})
	}
}

func benchExplainerWork(b *testing.B) {
	// OnMiss set, as in a Cache that explains: it keeps the index of records.
	c, err := Open(Options{Dir: b.TempDir(), Namespace: "bench", OnMiss: func(Miss) {}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	typeID, _ := keyTypeOf[bench.CompileKey]()
	name := c.recordFile(typeID)
	k := bench.NewKey(4096)
	for i := range 64 {
		k.OptLevel = -1 - i
		c.appendRecord(name, keyhash.Sum(k), valueTypeOf[bench.CompileKey, Artifact](c), newKeyRecord(k))
	}
	b.Run("record-work", func(b *testing.B) {
		b.ReportAllocs()
		d, vt := keyhash.Sum(k), valueTypeOf[bench.CompileKey, Artifact](c) // a miss has them already
		for b.Loop() {
			kr := newKeyRecord(k)
			c.appendRecord(name, d, vt, kr)
			kr.release() // as a Load does
		}
	})
	// explainWork explains a miss after each store of another key of the type, which
	// store appends: as another process does (the file) or as this one does (the index).
	explainWork := func(b *testing.B, store func(frame []byte)) {
		b.ReportAllocs()
		k.OptLevel = 1000
		kr := newKeyRecord(k)
		d := keyhash.Sum(k)
		other := k
		vt := valueTypeOf[bench.CompileKey, Artifact](c)
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			other.OptLevel = -100 - i
			store(appendRecordFrame(nil, keyhash.Sum(other), c.now(), "v", vt.name, newKeyRecord(other)))
			b.StartTimer()
			if r := c.explain(c.readRecords(name), d, vt, kr, false); !strings.Contains(r, "OptLevel") {
				b.Fatal(r)
			}
		}
	}
	b.Run("explain-work-other", func(b *testing.B) {
		explainWork(b, func(frame []byte) { appendRotating(name, frame, c.recordLimit()) })
	})
	b.Run("explain-work-own", func(b *testing.B) {
		explainWork(b, func(frame []byte) { c.appendRecords(name, frame) })
	})
}
