package remotetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cachegen/cachegen/internal/bench"
	"github.com/cachegen/cachegen/runtime/cache"
)

// Bench runs the remote tier's benchmarks on the remote that rawURL names: the same
// code for each engine (runtime/cache, redisremote and s3remote), so that their figures
// compare. Sub-benchmarks:
//
//	hit/disk, hit/remote          the representative artifact (bench.NewArtifact) loaded by a
//	                              Cache without a memory tier (MemoryBytes -1), from its entry
//	                              file (the reference), then from the remote: before each
//	                              remote Load, its entry file is removed with the timer
//	                              stopped, so that the Load fetches the entry, checks its
//	                              tag, decodes it and writes the entry file again, as the
//	                              first Load of a fresh machine does, on a connection the
//	                              Remote keeps
//	hit16MiB/disk, hit16MiB/remote the same with an artifact of 16 MiB of code (MB/s)
//	miss/local                    a miss that stores the artifact (compute excluded: it
//	                              returns a prebuilt value), without a remote: MissStore's
//	                              level=0
//	miss/lookup                   the same with a read-only remote: the remote lookup (a miss)
//	                              that every local miss makes first, and no upload
//	miss/upload                   the same with a writable remote: the lookup, and the
//	                              upload queued, which runs in the background (uploads/op
//	                              and dropped/op say what became of them by the end of the
//	                              loop; the queue is drained after the timer stops)
func Bench(b *testing.B, rawURL string) {
	ctx := context.Background()
	keys := []cache.RemoteKey{{ID: "bench", HMAC: []byte("the benchmarks' secret, 32 bytes")}}
	open := func(b *testing.B, memoryBytes int64, remote, readOnly bool) *cache.Cache {
		b.Helper()
		// A version of its own: the entries of the other runs (-count) are not found.
		o := cache.Options{Dir: b.TempDir(), Namespace: "bench", Version: "bench-" + Unique(), MemoryBytes: memoryBytes}
		if remote {
			r, err := cache.OpenRemote(rawURL, cache.RemoteConfig{})
			if err != nil {
				b.Fatal(err)
			}
			o.Remote, o.RemoteKeys, o.RemoteReadOnly = r, keys, readOnly
		}
		c, err := cache.Open(o)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return c
	}
	noCompute := func(context.Context, bench.CompileKey) (bench.Artifact, error) {
		return bench.Artifact{}, errors.New("computed: a hit was expected")
	}

	hits := func(b *testing.B, a bench.Artifact) {
		raw, _ := a.MarshalMsg(nil)
		//cachegen:allow the benchmarks time the cache around a compute that returns a prebuilt value
		prebuilt := func(context.Context, bench.CompileKey) (bench.Artifact, error) { return a, nil }
		c := open(b, -1, true, false)
		key := bench.NewKey(4096)
		key.OptLevel = len(a.Code) // one key per value
		if _, err := cache.Load(ctx, c, key, prebuilt); err != nil {
			b.Fatal(err)
		}
		if err := c.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if st := c.Stats(); st.Uploads != 1 {
			b.Fatalf("the entry was not uploaded: %+v", st)
		}
		files, err := filepath.Glob(filepath.Join(c.Dir(), "*", "??", "*"))
		if err != nil || len(files) != 1 {
			b.Fatalf("entry files %v, %v: want one", files, err)
		}
		entry := files[0]
		b.Run("disk", func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cache.Load(ctx, c, key, noCompute); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("remote", func(b *testing.B) {
			before := c.Stats().RemoteHits
			n := uint64(0)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				if err := os.Remove(entry); err != nil {
					b.Fatal(err)
				}
				n++
				b.StartTimer()
				if _, err := cache.Load(ctx, c, key, noCompute); err != nil {
					b.Fatal(err)
				}
			}
			if st := c.Stats(); st.RemoteHits-before != n {
				b.Fatalf("%d remote hits in %d Loads: %+v", st.RemoteHits-before, n, st)
			}
		})
	}
	b.Run("hit", func(b *testing.B) { hits(b, bench.NewArtifact(1)) })
	b.Run("hit16MiB", func(b *testing.B) { hits(b, largeArtifact(16<<20)) })

	b.Run("miss", func(b *testing.B) {
		a := bench.NewArtifact(1)
		raw, _ := a.MarshalMsg(nil)
		//cachegen:allow the benchmarks time the cache around a compute that returns a prebuilt value
		prebuilt := func(context.Context, bench.CompileKey) (bench.Artifact, error) { return a, nil }
		for _, mode := range []string{"local", "lookup", "upload"} {
			b.Run(mode, func(b *testing.B) {
				c := open(b, 0, mode != "local", mode == "lookup")
				key := bench.NewKey(4096)
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					key.OptLevel = i
					if _, err := cache.Load(ctx, c, key, prebuilt); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				st := c.Stats()
				if err := c.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				lookups := uint64(i)
				if mode == "local" {
					lookups = 0
				}
				if st.Hits != 0 || st.Errors != 0 || st.RemoteErrors != 0 || st.RemoteMisses != lookups {
					b.Fatalf("stats %+v", st)
				}
				if mode == "upload" {
					b.ReportMetric(float64(st.Uploads)/float64(i), "uploads/op")
					b.ReportMetric(float64(st.UploadsDropped)/float64(i), "dropped/op")
				}
			})
		}
	})
}

// largeArtifact returns the representative artifact with n bytes of code drawn as
// bench.NewArtifact draws its 256 KiB, so that it compresses alike.
func largeArtifact(n int) bench.Artifact {
	a := bench.NewArtifact(2)
	r := rand.New(rand.NewPCG(5, 6))
	a.Code = make([]byte, n)
	for i := range a.Code {
		a.Code[i] = byte(r.ExpFloat64() * 24)
	}
	return a
}
