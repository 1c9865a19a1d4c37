package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
	gocache "github.com/rogpeppe/go-internal/cache"
)

// fillDir writes n entries of c (keys {prefix, i}, all with the value of {prefix, 0}, of
// size bytes of data) straight into its version directory, as n stores would leave them but
// without their temporary files, ledger and trims: a large cache directory made in seconds.
// Four writers share the work: creating files is mostly waiting on the file system.
func fillDir(tb testing.TB, c *Cache, prefix string, n, size int) {
	tb.Helper()
	vt := valueTypeOf[testKey, testValue](c)
	v := valueFor(testKey{prefix, 0}, size)
	raw, err := v.MarshalMsg(nil)
	if err != nil {
		tb.Fatal(err)
	}
	inParallel(tb, n, func(i int) error {
		mk := memKey{d: keyhash.Sum(testKey{prefix, i}), vt: vt}
		ek := c.entryKey(&mk)
		data, _, err := c.writeEntryData(&ek, vt, raw, false)
		if err != nil {
			return err
		}
		name := c.entryPath(&ek)
		err = os.WriteFile(name, data, 0o600)
		if errNotExist(err) {
			if err = os.MkdirAll(filepath.Dir(name), 0o700); err == nil {
				err = os.WriteFile(name, data, 0o600)
			}
		}
		return err
	})
}

// inParallel calls f for 0 to n-1, four at a time, and fails tb with the first error.
func inParallel(tb testing.TB, n int, f func(i int) error) {
	tb.Helper()
	const writers = 4
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := w; i < n; i += writers {
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			tb.Fatal(err)
		}
	}
}

// ageDirs sets the mtime of the shard directories of c's version a minute back, as those of a
// cache filled earlier: a directory modified in the last seconds is listed by every trim
// (see racyDir).
func ageDirs(tb testing.TB, c *Cache) {
	tb.Helper()
	des, err := os.ReadDir(c.versionDir)
	if err != nil {
		tb.Fatal(err)
	}
	then := time.Now().Add(-time.Minute)
	for _, de := range des {
		if de.IsDir() {
			os.Chtimes(filepath.Join(c.versionDir, de.Name()), then, then)
		}
	}
}

// goActionID is the action ID of entry i of Go's build cache in the benchmarks.
func goActionID(i int) gocache.ActionID {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	return sha256.Sum256(b[:])
}

// goData returns the output of entry i of Go's build cache in the benchmarks: data with i in
// its last 8 bytes. Go's cache names an output file by its content, so that entries of one
// content share one output file: it would hold half as many files as the cache's trim and
// ns/file are measured on.
func goData(data []byte, i int) []byte {
	d := append([]byte(nil), data...)
	binary.LittleEndian.PutUint64(d[len(d)-8:], uint64(i))
	return d
}

// fillGoCache puts entries into Go's build cache (go-internal/cache) in dir until it holds
// files files: each entry is two, its action (-a) and its output (-d), of its own content
// (goData). It fails tb if the cache holds another number of files.
func fillGoCache(tb testing.TB, g *gocache.Cache, dir string, files int, data []byte) {
	tb.Helper()
	inParallel(tb, files/2, func(i int) error { return g.PutBytes(goActionID(i), goData(data, i)) })
	n := 0
	for i := range 256 {
		names, err := readNames(filepath.Join(dir, fmt.Sprintf("%02x", i)))
		if err != nil && !errNotExist(err) {
			tb.Fatal(err)
		}
		n += len(names)
	}
	if n != files/2*2 {
		tb.Fatalf("Go's cache holds %d files, want %d", n, files/2*2)
	}
}

// readNames lists the names in dir.
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func hitCompute(context.Context, testKey) (testValue, error) { return testValue{}, errHitExpected }

// trimmingCache opens another Cache on c's namespace and returns it once a background trim
// of it lists its first shard directory.
func trimmingCache(b *testing.B, c *Cache) *Cache {
	o, err := Open(Options{Dir: filepath.Dir(c.root), Namespace: "bench", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	if err != nil {
		b.Fatal(err)
	}
	listing := make(chan struct{})
	var once sync.Once
	o.trimStep = func() { once.Do(func() { close(listing) }) }
	o.startTrim(func() bool { return true })
	<-listing
	return o
}

// BenchmarkScale measures what a cache directory of 1000, 10000 and 100000 entries costs: a
// disk hit (hit), a miss that computes and stores (miss, the compute excluded: its value is
// made before), and a trim of the namespace within its budget, and the same in Go's build
// cache (go-internal/cache) holding as many files, in the same run. The trims:
// trim/cachegen is the background trim (the shard directories unchanged since the last trim
// are not listed), trim-full/cachegen is Cache.Trim (every entry listed), trim/gocache is
// Go's Trim (every file stat-ed; trim.txt removed before each, or it returns at once). The
// ns/file metric divides a trim by the files in the directory. close-during-trim/cachegen
// is Close while a background trim lists the whole directory with no state to go by, which
// Close waits for; close-during-relist/cachegen is Close while a background trim lists
// again every shard directory, all of them changed since the state recorded them and the
// namespace within its budget, which Close stops. The values are small (64 bytes of data):
// what is measured is the directory, not the codec.
func BenchmarkScale(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			c, err := Open(Options{Dir: b.TempDir(), Namespace: "bench", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			fillDir(b, c, "scale", n, 64)
			ageDirs(b, c)
			if err := c.Trim(); err != nil { // writes trim.txt and the trim's state
				b.Fatal(err)
			}
			gdir := b.TempDir()
			g, err := gocache.Open(gdir)
			if err != nil {
				b.Fatal(err)
			}
			v := valueFor(testKey{"scale", 0}, 64)
			raw, _ := v.MarshalMsg(nil)
			fillGoCache(b, g, gdir, n, raw)
			syncFS() // the trims measure listings, not the fills' writeback
			perFile := func(b *testing.B, start time.Time) {
				b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/float64(n), "ns/file")
			}

			b.Run("trim/cachegen", func(b *testing.B) {
				b.ReportAllocs()
				start := time.Now()
				for b.Loop() {
					if err := c.trim(false, nil); err != nil {
						b.Fatal(err)
					}
				}
				perFile(b, start)
			})
			b.Run("trim-full/cachegen", func(b *testing.B) {
				b.ReportAllocs()
				start := time.Now()
				for b.Loop() {
					if err := c.Trim(); err != nil {
						b.Fatal(err)
					}
				}
				perFile(b, start)
			})
			b.Run("trim/gocache", func(b *testing.B) {
				b.ReportAllocs()
				start := time.Now()
				for b.Loop() {
					os.Remove(filepath.Join(gdir, "trim.txt"))
					if err := g.Trim(); err != nil {
						b.Fatal(err)
					}
				}
				perFile(b, start)
			})
			if st := c.Stats(); st.Trimmed != 0 {
				b.Fatalf("the trims removed %d files: the directory is within its budget", st.Trimmed)
			}
			// Close while a background trim lists the whole directory (its state removed,
			// as before a first trim): ns/op is Close's, which waits for the trim.
			b.Run("close-during-trim/cachegen", func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					os.Remove(filepath.Join(c.root, stateFile))
					o := trimmingCache(b, c)
					b.StartTimer()
					o.Close()
				}
				b.StopTimer()
				if err := c.Trim(); err != nil { // the state again
					b.Fatal(err)
				}
			})
			// Close while a background trim lists every shard directory again, each
			// changed since the state recorded it (as after stores in all of them):
			// ns/op is Close's, which stops the trim.
			b.Run("close-during-relist/cachegen", func(b *testing.B) {
				des, err := os.ReadDir(c.versionDir)
				if err != nil {
					b.Fatal(err)
				}
				stopped := uint64(0)
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					then := time.Now().Add(-time.Minute + time.Duration(i+1)*time.Millisecond)
					for _, de := range des {
						os.Chtimes(filepath.Join(c.versionDir, de.Name()), then, then)
					}
					o := trimmingCache(b, c)
					b.StartTimer()
					o.Close()
					stopped += o.Stats().TrimsStopped
				}
				b.StopTimer()
				if stopped == 0 {
					b.Fatal("Close stopped no trim")
				}
				if err := c.Trim(); err != nil { // the state again
					b.Fatal(err)
				}
			})

			b.Run("hit/cachegen", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := Load(ctx, c, testKey{"scale", i * 7919 % n}, hitCompute); err != nil { // all keys hold the value of {"scale", 0}
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("hit/gocache", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, _, err := g.GetBytes(goActionID(i * 7919 % (n / 2))); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			// New keys across -count runs: the keys a run stored would be hits in the next.
			missed := 0
			b.Run("miss/cachegen", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Load(ctx, c, testKey{"miss", missed}, func(context.Context, testKey) (testValue, error) { return v, nil }); err != nil {
						b.Fatal(err)
					}
					missed++
				}
				if st := c.Stats(); st.Stores != uint64(missed) {
					b.Fatalf("stats %+v after %d misses: a miss was not a store", st, missed)
				}
			})
			gmissed := n
			b.Run("miss/gocache", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := g.PutBytes(goActionID(gmissed), goData(raw, gmissed)); err != nil { // a new output file, as a real miss writes
						b.Fatal(err)
					}
					gmissed++
				}
			})
		})
	}
}
