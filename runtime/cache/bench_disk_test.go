package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	gocache "github.com/rogpeppe/go-internal/cache"
)

// The disk tier's benchmarks (issue 15). Each runs, as sub-benchmarks of one benchmark, the
// cache and the alternatives it is held to, so that every run compares them on the same
// machine at the same time:
//
//   - plain-write: what a store cannot do without, a temporary file written with the
//     value's msgp bytes and renamed into place;
//   - floor: what a hit cannot do without, the file of the value's msgp bytes read with raw
//     system calls (open, fstat, read, close) and decoded with UnmarshalMsg;
//   - gocache: github.com/rogpeppe/go-internal/cache, Go's build cache as a library,
//     storing or reading the same msgp bytes (PutBytes, GetBytes) in a directory of its own;
//   - paired: the cache at the default settings and plain-write or floor in turn at each
//     iteration, reporting the median of each (cache-ns, alt-ns) and their ratio (x-alt),
//     which the load of a busy machine moves much less than it moves sub-benchmarks run one
//     after the other.
//
// The cache's sub-benchmarks are named by their compression setting: default (the
// CompressionLevel 0), raw (-1) and zstd=N (the zstd level N); file-bytes is the size of
// the entry file they write.

// levelName names a CompressionLevel in the sub-benchmarks.
func levelName(level int) string {
	switch {
	case level == 0:
		return "default"
	case level < 0:
		return "raw"
	}
	return fmt.Sprintf("zstd=%d", level)
}

// benchLevels are the compression settings the benchmarks compare.
var benchLevels = []int{0, -1, 1, 3}

// BenchmarkMissStore measures what a miss adds to compute, on the representative artifact:
// the lookups, MarshalMsg, the encoding, the entry file's write and rename, the memory tier
// and the explainer's record. compute returns a prebuilt artifact, so it costs nothing.
// first-store is the first store of a fresh Cache (a new process's), codecs included.
func BenchmarkMissStore(b *testing.B) {
	a := makeArtifact(1)
	raw, _ := a.MarshalMsg(nil)
	benchStore(b, a, raw, benchLevels, false)
	b.Run("first-store", func(b *testing.B) {
		ctx := context.Background()
		dir := b.TempDir()
		prebuilt := func(context.Context, testKey) (Artifact, error) { return a, nil }
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			b.StopTimer()
			c, err := Open(Options{Dir: dir, Namespace: "bench", Version: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			i++
			b.StartTimer()
			if _, err := Load(ctx, c, testKey{"first", i}, prebuilt); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st := c.Stats()
			c.Close()
			if st.Stores != 1 || st.Errors != 0 {
				b.Fatalf("stats %+v", st)
			}
			b.StartTimer()
		}
	})
}

// BenchmarkStoreLarge measures the miss and store of a 16 MiB value that does not compress
// (random machine code), compute excluded, against a plain write of its msgp bytes. B/op is
// to be compared with the value's 16 MiB. store-paired is the store alone (the entry's
// encoding, checksum and write, from the msgp bytes) paired with the plain write.
func BenchmarkStoreLarge(b *testing.B) {
	a := Artifact{Code: make([]byte, 16<<20), Names: map[uint32]string{}}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(a.Code); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			a.Code[i+j] = byte(v >> (8 * j))
		}
	}
	raw, _ := a.MarshalMsg(nil)
	benchStore(b, a, raw, []int{0}, true)
	// The store alone, from the msgp bytes, as plain-write has them: what a miss adds to
	// MarshalMsg (whose 16 MiB buffer, zeroed then filled, Load makes before the store).
	b.Run("store-paired", func(b *testing.B) {
		c, err := Open(Options{Dir: b.TempDir(), Namespace: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		makeShards(b, c)
		dir := filepath.Join(b.TempDir(), "ab")
		if err := os.Mkdir(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		vt := valueTypeOf[testKey, Artifact](c)
		benchPaired(b, func(i int) {
			mk := memKeyOf[Artifact](c, testKey{"store", i})
			ek := c.entryKey(&mk)
			if err := c.writeEntry(&ek, vt, raw); err != nil {
				b.Fatal(err)
			}
		}, func(i int) {
			if err := plainWrite(filepath.Join(dir, fmt.Sprintf("%064x", i)), raw); err != nil {
				b.Fatal(err)
			}
		}, func(i int) {
			os.Remove(entryFileOf[Artifact](c, testKey{"store", i}))
			os.Remove(filepath.Join(dir, fmt.Sprintf("%064x", i)))
		})
	})
}

// benchStore runs the stores of a (whose msgp encoding is raw) under a fresh key at each
// iteration: by the cache at each of levels, by a plain write and by gocache. remove makes
// each iteration remove, untimed, the files it wrote (large values would fill the disk, and
// the cache's trims would run in the measured time).
func benchStore(b *testing.B, a Artifact, raw []byte, levels []int, remove bool) {
	for _, level := range levels {
		b.Run(levelName(level), func(b *testing.B) {
			ctx := context.Background()
			c, err := Open(Options{Dir: b.TempDir(), Namespace: "bench", CompressionLevel: level})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if level > 0 {
				c.codec.waitZstd() // a zstd level's first stores use s2 until it is made
			}
			makeShards(b, c)
			prebuilt := func(context.Context, testKey) (Artifact, error) { return a, nil }
			// The first store, which makes the codecs and the shard directory, is
			// first-store's business.
			if _, err := Load(ctx, c, testKey{"warm", 0}, prebuilt); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, err := Load(ctx, c, testKey{"miss", i}, prebuilt); err != nil {
					b.Fatal(err)
				}
				if remove {
					b.StopTimer()
					os.Remove(entryFileOf[Artifact](c, testKey{"miss", i}))
					b.StartTimer()
				}
			}
			st := c.Stats()
			if st.Hits != 0 || st.Errors != 0 {
				b.Fatalf("stats %+v", st)
			}
			b.ReportMetric(float64(st.StoredBytes)/float64(st.Stores), "file-bytes")
		})
	}
	b.Run("plain-write", func(b *testing.B) {
		dir := filepath.Join(b.TempDir(), "ab")
		if err := os.Mkdir(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if err := plainWrite(filepath.Join(dir, fmt.Sprintf("%064x", i)), raw); err != nil {
				b.Fatal(err)
			}
			if remove {
				b.StopTimer()
				os.Remove(filepath.Join(dir, fmt.Sprintf("%064x", i)))
				b.StartTimer()
			}
		}
	})
	// paired: the whole miss against a plain write of the msgp bytes it already has;
	// paired-marshal: against what a program without the cache does to keep the value, its
	// MarshalMsg into a buffer of Msgsize and the plain write.
	for _, marshal := range []bool{false, true} {
		name := "paired"
		if marshal {
			name = "paired-marshal"
		}
		b.Run(name, func(b *testing.B) { benchStorePaired(b, a, raw, remove, marshal) })
	}
	b.Run("gocache", func(b *testing.B) {
		gc, err := gocache.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			out, _, err := gc.Put(gocache.ActionID(sha256.Sum256(fmt.Appendf(nil, "miss %d", i))), bytes.NewReader(raw))
			if err != nil {
				b.Fatal(err)
			}
			// It keeps one output file per content: without its removal, every store
			// after the first would write the index alone.
			b.StopTimer()
			os.Remove(gc.OutputFile(out))
			b.StartTimer()
		}
	})
}

// benchStorePaired runs a miss that stores a against a plain write of its msgp encoding
// raw, made by MarshalMsg at each iteration if marshal (see benchStore).
func benchStorePaired(b *testing.B, a Artifact, raw []byte, remove, marshal bool) {
	ctx := context.Background()
	c, err := Open(Options{Dir: b.TempDir(), Namespace: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	makeShards(b, c)
	prebuilt := func(context.Context, testKey) (Artifact, error) { return a, nil }
	if _, err := Load(ctx, c, testKey{"warm", 0}, prebuilt); err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "ab")
	if err := os.Mkdir(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	benchPaired(b, func(i int) {
		if _, err := Load(ctx, c, testKey{"miss", i}, prebuilt); err != nil {
			b.Fatal(err)
		}
	}, func(i int) {
		data := raw
		if marshal {
			var err error
			if data, err = a.MarshalMsg(make([]byte, 0, a.Msgsize())); err != nil {
				b.Fatal(err)
			}
		}
		if err := plainWrite(filepath.Join(dir, fmt.Sprintf("%064x", i)), data); err != nil {
			b.Fatal(err)
		}
	}, func(i int) {
		if remove {
			os.Remove(entryFileOf[Artifact](c, testKey{"miss", i}))
			os.Remove(filepath.Join(dir, fmt.Sprintf("%064x", i)))
		}
	})
}

// benchPaired runs cache and alt in turn at each iteration, b's timer measuring both, and
// reports the median time of each (cache-ns, alt-ns) and their ratio (x-alt): interleaved
// at every iteration, the two see the same load on a busy machine, which sub-benchmarks run
// one after the other do not.
// after, when not nil, runs after both, untimed.
func benchPaired(b *testing.B, cache, alt, after func(i int)) {
	var tc, ta []time.Duration
	i := 0
	for b.Loop() {
		i++
		// Each goes first every other iteration: the first after a pause (the untimed
		// after, or the other's work) pays for what that pause left to the system.
		first, second := cache, alt
		if i%2 == 0 {
			first, second = alt, cache
		}
		t0 := time.Now()
		first(i)
		t1 := time.Now()
		second(i)
		d1, d2 := t1.Sub(t0), time.Since(t1)
		if i%2 == 0 {
			d1, d2 = d2, d1
		}
		tc, ta = append(tc, d1), append(ta, d2)
		if after != nil {
			b.StopTimer()
			after(i)
			b.StartTimer()
		}
	}
	mc, ma := median(tc), median(ta)
	b.ReportMetric(float64(mc), "cache-ns")
	b.ReportMetric(float64(ma), "alt-ns")
	b.ReportMetric(float64(mc)/float64(ma), "x-alt")
}

// median returns the median of d, which it sorts.
func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// makeShards makes the 256 shard directories of c's version, as a cache in use has them: the
// stores measured are those of the steady state, not the first in each shard, which makes
// it (plain-write has its directory made too).
func makeShards(b *testing.B, c *Cache) {
	for i := range 256 {
		if err := os.MkdirAll(filepath.Join(c.versionDir, fmt.Sprintf("%02x", i)), 0o700); err != nil {
			b.Fatal(err)
		}
	}
}

// plainWrite writes data to name through a temporary file in its directory, renamed into
// place: a store without a header, a checksum, compression or anything else.
func plainWrite(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	return err
}

// BenchmarkDiskHit loads the representative artifact from its entry file (no memory tier)
// at each compression setting, against the floor and gocache holding its msgp bytes.
func BenchmarkDiskHit(b *testing.B) {
	a := makeArtifact(1)
	benchHit(b, a, benchLevels)
}

// BenchmarkDiskHitSmall loads a value of about 1 KiB from its entry file (no memory tier), at
// the default settings, against the floor and gocache: the fixed costs of a hit.
func BenchmarkDiskHitSmall(b *testing.B) {
	a := makeArtifact(1)
	a.Code = a.Code[:640]
	a.Relocs, a.Traps = a.Relocs[:12], a.Traps[:8]
	a.Names = map[uint32]string{0: "main", 16: "init", 32: "helper"}
	benchHit(b, a, []int{0})
}

// benchHit runs the disk hits of a, stored by the cache at each of levels, then the floor and
// gocache reading its msgp encoding.
func benchHit(b *testing.B, a Artifact, levels []int) {
	raw, _ := a.MarshalMsg(nil)
	key := testKey{"hit", 1}
	for _, level := range levels {
		b.Run(levelName(level), func(b *testing.B) {
			ctx := context.Background()
			c, err := Open(Options{Dir: b.TempDir(), Namespace: "bench", CompressionLevel: level, MemoryBytes: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if level > 0 {
				c.codec.waitZstd() // a zstd level's first stores use s2 until it is made
			}
			if _, err := Load(ctx, c, key, func(context.Context, testKey) (Artifact, error) { return a, nil }); err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(entryFileOf[Artifact](c, key))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Load(ctx, c, key, noCompute); err != nil {
					b.Fatal(err)
				}
			}
			if st := c.Stats(); st.Errors != 0 || st.Corrupt != 0 || st.DiskHits == 0 {
				b.Fatalf("stats %+v", st)
			}
			b.ReportMetric(float64(fi.Size()), "file-bytes")
		})
	}
	// floor reads and decodes the value's msgp bytes by hand, at path.
	floor := func(b *testing.B, path string) {
		data, err := readFloor(path)
		if err != nil {
			b.Fatal(err)
		}
		var v Artifact
		if _, err := v.UnmarshalMsg(data); err != nil {
			b.Fatal(err)
		}
	}
	// floorFile writes the value's msgp bytes where the cache keeps its entries: a file in
	// a shard directory, three levels below the cache directory.
	floorFile := func(b *testing.B) string {
		path := filepath.Join(b.TempDir(), "bench", "0123456789abcdef", "ab", fmt.Sprintf("%064x", 1))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			b.Fatal(err)
		}
		if err := plainWrite(path, raw); err != nil {
			b.Fatal(err)
		}
		return path
	}
	b.Run("floor", func(b *testing.B) {
		path := floorFile(b)
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			floor(b, path)
		}
	})
	b.Run("paired", func(b *testing.B) {
		ctx := context.Background()
		c, err := Open(Options{Dir: b.TempDir(), Namespace: "bench", MemoryBytes: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if _, err := Load(ctx, c, key, func(context.Context, testKey) (Artifact, error) { return a, nil }); err != nil {
			b.Fatal(err)
		}
		path := floorFile(b)
		benchPaired(b, func(int) {
			if _, err := Load(ctx, c, key, noCompute); err != nil {
				b.Fatal(err)
			}
		}, func(int) { floor(b, path) }, nil)
	})
	b.Run("gocache", func(b *testing.B) {
		gc, err := gocache.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		id := gocache.ActionID(sha256.Sum256([]byte("hit")))
		if err := gc.PutBytes(id, raw); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			data, _, err := gc.GetBytes(id)
			if err != nil {
				b.Fatal(err)
			}
			var v Artifact
			if _, err := v.UnmarshalMsg(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
