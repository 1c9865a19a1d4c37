package cache

import (
	"encoding/binary"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
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
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(DefaultMaxEntryBytes), zstd.WithDecodeAllCapLimit(true))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
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
		if _, err := decodeEntry(dec, b, &ek, "T", DefaultMaxEntryBytes); err == nil {
			t.Fatal("a forged size decoded")
		}
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Fatalf("4 reads of a %d-byte entry allocated %d MiB", len(b), alloc>>20)
	}
}
