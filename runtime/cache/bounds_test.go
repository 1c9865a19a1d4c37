package cache

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// TestMemoryCountsRetainedBytes: the memory tier's budget bounds what it keeps alive, not
// the length of the encodings: an encoding in a buffer sized by Msgsize (9 bytes per int64
// that encodes in 1) must not let the tier hold several times its budget.
func TestMemoryCountsRetainedBytes(t *testing.T) {
	const budget = 1 << 20
	var evicted atomic.Uint64
	m := newMemory(budget, &evicted)
	for i := range 10000 {
		data := make([]byte, 100, 900)
		var k memKey
		binary.LittleEndian.PutUint64(k.d[:], uint64(i))
		k.d[8] = byte(i) // spread over the shards
		m.put(k, data)
	}
	var retained int64
	for i := range m.shards {
		s := &m.shards[i]
		for _, e := range s.m {
			retained += int64(cap(e.data)) + memEntryOverhead
		}
	}
	if retained > budget {
		t.Fatalf("the memory tier retains %d bytes with a budget of %d", retained, budget)
	}
}

// TestForgedRawSizeDoesNotAllocate: a tiny entry file whose header claims the largest raw size
// (with a valid checksum, as anyone who writes the directory can make) must not make a read
// allocate that much.
func TestForgedRawSizeDoesNotAllocate(t *testing.T) {
	var cd codecs
	cd.init(0, DefaultMaxEntryBytes)
	defer cd.close()
	dec, err := cd.zdec()
	if err != nil {
		t.Fatal(err)
	}
	var ek entryKey
	// A zstd frame without a content size: one RLE block of 4096 zeros.
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3}
	block := uint32(1 | 1<<1 | 4096<<3) // last block, RLE, 4096 bytes
	frame = append(frame, byte(block), byte(block>>8), byte(block>>16), 0)
	if out, err := dec.DecodeAll(frame, make([]byte, 0, 4096)); err != nil || len(out) != 4096 {
		t.Fatalf("the test frame does not decode: %d bytes, %v", len(out), err)
	}
	b := appendHeader(nil, codecZstd, &ek, "T")
	b = append(b, frame...)
	finishEntry(b, DefaultMaxEntryBytes) // the claim, with a valid checksum
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 4 {
		if _, err := decodeEntry(&cd, b, &ek, "T", DefaultMaxEntryBytes); err == nil {
			t.Fatal("a forged size decoded")
		}
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Fatalf("4 reads of a %d-byte entry allocated %d MiB", len(b), alloc>>20)
	}
}

// allocatedBy returns the bytes f allocates.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// plantEntry writes b at the entry path of key k in c, as anyone who can write the directory
// could.
func plantEntry(t *testing.T, c *Cache, k testKey, b []byte) (name string, ek entryKey, typ string) {
	t.Helper()
	mk := memKey{d: keyhash.Sum(k), vt: valueTypeOf[testKey, testValue](c)}
	ek = c.entryKey(&mk)
	name = c.entryPath(&ek)
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	if b == nil {
		return name, ek, mk.vt.name
	}
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return name, ek, mk.vt.name
}

// TestLargeFilesAreCheckedBeforeTheyAreRead: a file at an entry path is read only after its
// header checks out, and never when it is sparse (the cache never writes holes): a file that
// takes no space on disk must not make a read allocate its apparent size.
func TestLargeFilesAreCheckedBeforeTheyAreRead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header bool
	}{{"zeros", false}, {"an entry's header, then a hole", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1})
			k := testKey{"sparse", 1}
			name, ek, typ := plantEntry(t, c, k, nil)
			head := make([]byte, headerSize+len(typ))
			if tc.header {
				head = appendHeader(nil, codecRaw, &ek, typ)
			}
			const size = 200 << 20
			binary.LittleEndian.PutUint64(head[48:], uint64(size-len(head)))
			binary.LittleEndian.PutUint64(head[56:], uint64(size-len(head)))
			if err := os.WriteFile(name, head, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(name, size); err != nil {
				t.Fatal(err)
			}
			n := allocatedBy(func() {
				if _, err := Load(context.Background(), c, k, computeSmall); err != nil {
					t.Fatal(err)
				}
			})
			if n > 16<<20 {
				t.Fatalf("a sparse %d MiB file made a Load allocate %d MiB", size>>20, n>>20)
			}
			if st := c.Stats(); st.Corrupt != 1 || st.Computes != 1 {
				t.Fatalf("stats %+v: want the file found corrupt, and the value computed", st)
			}
		})
	}
}

// TestForgedLargeRawSizeDoesNotAllocate: an entry announcing a raw size far beyond what its
// payload holds (which zstd's block format would allow for runs of one byte) is decompressed
// into a buffer that grows as output arrives, so garbage costs nothing.
func TestForgedLargeRawSizeDoesNotAllocate(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1})
	k := testKey{"bomb", 1}
	_, ek, typ := plantEntry(t, c, k, nil)
	b := appendHeader(nil, codecZstd, &ek, typ)
	payload := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58} // a frame header without a size
	for len(payload) < 4096 {
		payload = append(payload, 0xff)
	}
	b = append(b, payload...)
	finishEntry(b, len(payload)/4*(128<<10)) // the most such a payload could hold: 128 MiB
	plantEntry(t, c, k, b)
	n := allocatedBy(func() {
		if _, err := Load(context.Background(), c, k, computeSmall); err != nil {
			t.Fatal(err)
		}
	})
	if n > 16<<20 {
		t.Fatalf("a %d-byte entry made a Load allocate %d MiB", len(b), n>>20)
	}
	if st := c.Stats(); st.Corrupt != 1 {
		t.Fatalf("stats %+v: want the entry found corrupt", st)
	}
}

// TestCodecsDoNotKeepLargeBuffers: the Cache's zstd codecs must not keep, after use, buffers
// as large as the largest values they handled (one per core, they would hold many times the
// memory tier's budget until Close).
func TestCodecsDoNotKeepLargeBuffers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1, MaxBytes: 1 << 30})
	const size = 8 << 20
	compute := func(_ context.Context, k testKey) (testValue, error) {
		v := valueFor(k, size)
		for i := range v.Data { // compressible, but not trivially
			v.Data[i] = byte(i * i >> 7)
		}
		return v, nil
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	var wg sync.WaitGroup
	for round := range 2 { // stores, then disk hits
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := Load(context.Background(), c, testKey{"big", i}, compute); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if kept := int64(heap()) - int64(before); kept > 24<<20 {
			t.Fatalf("round %d: after 8 Loads of %d MiB values the Cache keeps %d MiB", round, size>>20, kept>>20)
		}
	}
	if st := c.Stats(); st.DiskHits != 8 {
		t.Fatalf("stats %+v: want 8 disk hits", st)
	}
}
