package cache

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"testing"

	"github.com/klauspost/compress/s2"
)

// fuzzKey is the key whose entry file the fuzzer replaces.
var fuzzKey = testKey{"fuzz", 1}

func computeFuzz(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 600), nil }

// FuzzEntryFile puts arbitrary bytes where an entry file belongs: Load must neither panic
// nor return anything but the right value, and must repair the file. Its seeds are valid
// entries in each codec (raw, s2, zstd) and truncated ones; its corpus in
// testdata/fuzz/FuzzEntryFile holds damaged ones and another type's.
func FuzzEntryFile(f *testing.F) {
	c, err := Open(Options{Dir: f.TempDir(), Namespace: "fuzz", Version: "fuzz", MemoryBytes: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	ctx := context.Background()
	want, _ := computeFuzz(ctx, fuzzKey)
	mk := memKeyOf[testValue](c, fuzzKey)
	ek := c.entryKey(&mk)
	path := c.entryPath(&ek)
	dec := &c.codec
	if _, err := Load(ctx, c, fuzzKey, computeFuzz); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	// The right value in every codec, whichever the Cache picks for it.
	raw, _ := want.MarshalMsg(nil)
	for _, codec := range []byte{codecRaw, codecS2, codecZstd} {
		e := entryWith(f, codec, &ek, mk.vt.name, raw)
		f.Add(e)
		f.Add(e[:len(e)-1])
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o666); err != nil {
			t.Fatal(err)
		}
		v, err := Load(ctx, c, fuzzKey, computeFuzz)
		if err != nil || !v.equal(want) {
			t.Fatalf("Load = %q (%d bytes), %v; want %q", v.Name, len(v.Data), err, want.Name)
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, good) {
			if _, derr := decodeEntry(dec, got, &ek, mk.vt.name, c.opts.MaxEntryBytes); derr != nil {
				t.Fatalf("entry not repaired: %v, %v", err, derr)
			}
		}
		// The decoder alone: whatever it accepts must be the right value.
		raw, err := decodeEntry(dec, data, &ek, mk.vt.name, c.opts.MaxEntryBytes)
		if err != nil {
			return
		}
		var got testValue
		if rest, err := got.UnmarshalMsg(raw); err == nil && len(rest) == 0 && !got.equal(want) {
			t.Fatalf("accepted an entry with a wrong value %q", got.Name)
		}
	})
}

// FuzzDecodeChecksummed feeds decodeEntry inputs whose checksum it fixes first, so that the
// fuzzer reaches the size checks and the decompressor: whatever the header says, decodeEntry
// must not panic and must never return more than the announced, bounded size.
func FuzzDecodeChecksummed(f *testing.F) {
	c, err := Open(Options{Dir: f.TempDir(), Namespace: "fuzz", Version: "fuzz", MemoryBytes: -1, MaxEntryBytes: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	dec := &c.codec
	var ek entryKey
	for _, cd := range []*codecs{dec, zstdCodecs(f, 3, 1<<20)} {
		for _, raw := range [][]byte{bytes.Repeat([]byte("abc"), 200), []byte("short"), make([]byte, 4096)} {
			f.Add(mustEncode(f, cd, &ek, "T", raw))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < headerSize {
			return
		}
		data = bytes.Clone(data)
		copy(data[:8], magic)
		copy(data[16:48], ek[:])
		binary.LittleEndian.PutUint32(data[crcOffset:], 0)
		binary.LittleEndian.PutUint32(data[crcOffset:], crc32.Checksum(data, castagnoli))
		raw, err := decodeEntry(dec, data, &ek, "T", c.opts.MaxEntryBytes)
		if err != nil {
			return
		}
		if want := binary.LittleEndian.Uint64(data[48:]); uint64(len(raw)) != want || want > 1<<20 {
			t.Fatalf("decoded %d bytes, header says %d", len(raw), want)
		}
	})
}

// FuzzS2Len checks s2Len, which measures an s2 block before a hit allocates its buffer,
// against s2.Decode: a block that decodes must measure what it decodes to.
func FuzzS2Len(f *testing.F) {
	for _, raw := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("abc"), 300), make([]byte, 70000)} {
		f.Add(s2.Encode(nil, raw))
		f.Add(s2.EncodeBest(nil, raw))
	}
	f.Fuzz(func(t *testing.T, block []byte) {
		n, err := s2.DecodedLen(block)
		if err != nil || n > 1<<20 {
			return
		}
		out, err := s2.Decode(nil, block)
		if err != nil {
			return
		}
		if got, ok := s2Len(block, 1<<20); !ok || got != uint64(len(out)) {
			t.Fatalf("s2Len = %d, %v; the block decodes to %d bytes", got, ok, len(out))
		}
	})
}
