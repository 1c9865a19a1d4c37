package cache

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/s2"
)

// zstdCodecs returns codecs of the zstd level, their encoder made, released when tb ends.
func zstdCodecs(tb testing.TB, level int, maxRaw int64) *codecs {
	cd := new(codecs)
	cd.init(level, maxRaw)
	tb.Cleanup(cd.close)
	if cd.waitZstd() == nil {
		tb.Fatal("no zstd encoder")
	}
	return cd
}

// mustEncode returns the entry file for raw, encoded by cd.
func mustEncode(tb testing.TB, cd *codecs, ek *entryKey, typ string, raw []byte) []byte {
	tb.Helper()
	b, err := encodeEntry(cd, ek, typ, raw)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// randomBytes returns n bytes that do not compress.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestIncompressibleBailsOut: a large value that does not compress is stored raw, written
// from its own encoding, and deciding that costs the sample alone; a repetitive one is
// stored with s2.
func TestIncompressibleBailsOut(t *testing.T) {
	var cd codecs
	cd.init(0, DefaultMaxEntryBytes)
	defer cd.close()
	random := randomBytes(1<<20, 1)
	if samplePays(random, codecS2, nil, s2MinSaving) {
		t.Fatal("the sample of random bytes pays")
	}
	text := bytes.Repeat([]byte("the cache stores the entry of a key "), 1<<15)
	if !samplePays(text, codecS2, nil, s2MinSaving) {
		t.Fatal("the sample of repeated text does not pay")
	}
	var ek entryKey
	e, err := cd.encode(&ek, "T", random)
	if err != nil {
		t.Fatal(err)
	}
	if e.head[codecOffset] != codecRaw || &e.payload[0] != &random[0] || e.whole != nil {
		t.Fatalf("random bytes: codec %d, payload copied: %v", e.head[codecOffset], &e.payload[0] != &random[0])
	}
	// Deciding allocates the header alone, and the goroutine that takes the checksum of
	// so large a payload: no compressed copy is attempted.
	if n := testing.AllocsPerRun(10, func() { e, _ := cd.encode(&ek, "T", random); e.finish() }); n > 4 {
		t.Errorf("encoding an incompressible value: %v allocations", n)
	}
	if got, err := decodeEntry(&cd, e.bytes(), &ek, "T", DefaultMaxEntryBytes); err != nil || !bytes.Equal(got, random) {
		t.Fatalf("raw entry in two parts: %v", err)
	}
	e, err = cd.encode(&ek, "T", text)
	if err != nil {
		t.Fatal(err)
	}
	if e.head[codecOffset] != codecS2 || len(e.payload) > len(text)/4 {
		t.Fatalf("text: codec %d, %d bytes of %d", e.head[codecOffset], len(e.payload), len(text))
	}
	if got, err := decodeEntry(&cd, e.bytes(), &ek, "T", DefaultMaxEntryBytes); err != nil || !bytes.Equal(got, text) {
		t.Fatalf("s2 entry: %v", err)
	}
	// A sample that pays for a value whose whole does not: the compressed payload is
	// dropped, the value stored raw.
	mixed := append(bytes.Clone(text[:64<<10]), randomBytes(1<<20, 2)...)
	copy(mixed[len(mixed)-(8<<10):], text)
	for i := 1; i < sampleChunks-1; i++ { // every chunk of the sample in text
		at := i * ((len(mixed) - sampleChunk) / (sampleChunks - 1))
		copy(mixed[at:at+sampleChunk], text)
	}
	if !samplePays(mixed, codecS2, nil, s2MinSaving) {
		t.Fatal("the sample of the mixed value does not pay")
	}
	if e, _ = cd.encode(&ek, "T", mixed); e.head[codecOffset] != codecRaw {
		t.Fatalf("mixed value: codec %d, want raw", e.head[codecOffset])
	}
}

// TestS2Len: s2Len adds up to what s2.Decode produces, for blocks of every kind of
// operation, and refuses blocks cut short.
func TestS2Len(t *testing.T) {
	zeros := make([]byte, 1<<20)
	text := bytes.Repeat([]byte("abcdefgh ijklmnop "), 5000)
	for _, raw := range [][]byte{nil, []byte("x"), zeros, text, randomBytes(100<<10, 3), append(randomBytes(70000, 4), zeros[:300000]...)} {
		for _, block := range [][]byte{s2.Encode(nil, raw), s2.EncodeBetter(nil, raw), s2.EncodeBest(nil, raw), s2.EncodeSnappy(nil, raw)} {
			n, ok := s2Len(block, 1<<30)
			if !ok || n != uint64(len(raw)) {
				t.Errorf("s2Len of a block of %d bytes: %d, %v", len(raw), n, ok)
			}
			if len(block) > 2 {
				if n, ok := s2Len(block[:len(block)-1], 1<<30); ok && n == uint64(len(raw)) {
					t.Errorf("s2Len of a block cut short: %d, %v", n, ok)
				}
			}
			if _, ok := s2Len(block, uint64(len(raw))-1); ok && len(raw) > 0 {
				t.Errorf("s2Len past its limit: %v", ok)
			}
		}
	}
}

// TestForgedS2SizeDoesNotAllocate: an s2 entry whose header and block claim far more than
// the block's operations produce (with a valid checksum) is refused before its buffer is
// allocated.
func TestForgedS2SizeDoesNotAllocate(t *testing.T) {
	var cd codecs
	cd.init(0, DefaultMaxEntryBytes)
	var ek entryKey
	block := s2.Encode(nil, bytes.Repeat([]byte("ab"), 4096))
	_, k := binary.Uvarint(block)
	const claim = 200 << 20
	forged := binary.AppendUvarint(nil, claim)
	forged = append(forged, block[k:]...)
	b := appendHeader(nil, codecS2, &ek, "T")
	b = append(b, forged...)
	finishEntry(b, claim)
	n := allocatedBy(func() {
		if _, err := decodeEntry(&cd, b, &ek, "T", DefaultMaxEntryBytes); err != errMalformed {
			t.Errorf("forged s2 size: %v, want errMalformed", err)
		}
	})
	if n > 1<<20 {
		t.Fatalf("a %d-byte s2 entry claiming %d MiB allocated %d bytes", len(b), claim>>20, n)
	}
}

// TestUnknownCodec: an entry whose codec byte is unknown (a later format's, or damage with
// a valid checksum) is malformed, and so is an entry of format version 1.
func TestUnknownCodec(t *testing.T) {
	var cd codecs
	cd.init(0, DefaultMaxEntryBytes)
	var ek entryKey
	for _, codec := range []byte{3, 7, 255} {
		b := appendHeader(nil, codec, &ek, "T")
		b = append(b, "payload"...)
		finishEntry(b, 7)
		if _, err := decodeEntry(&cd, b, &ek, "T", DefaultMaxEntryBytes); err != errMalformed {
			t.Errorf("codec %d: %v, want errMalformed", codec, err)
		}
	}
	b := appendHeader(nil, codecRaw, &ek, "T")
	b = append(b, "payload"...)
	binary.LittleEndian.PutUint16(b[8:], 1)
	finishEntry(b, 7)
	if _, err := decodeEntry(&cd, b, &ek, "T", DefaultMaxEntryBytes); err != errMalformed {
		t.Errorf("format version 1: %v, want errMalformed", err)
	}
}

// TestEntryPathBytes: the path a hit opens is entryPath's.
func TestEntryPathBytes(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir()})
	ek := entryKey{1, 2, 3, 0xff}
	if got, want := string(c.appendEntryPath(nil, &ek)), c.entryPath(&ek)+"\x00"; got != want {
		t.Fatalf("appendEntryPath = %q, entryPath = %q", got, want)
	}
}

// TestZstdEncoderInBackground: with a zstd level, the first stores do not wait for the zstd
// encoder, whatever codec they get, and later ones use it; every entry is a hit.
func TestZstdEncoderInBackground(t *testing.T) {
	opts := Options{Dir: t.TempDir(), CompressionLevel: 3, MemoryBytes: -1}
	c := open(t, opts)
	for i := range 3 {
		load(t, c, testKey{"first", i}, computeLarge)
	}
	c.codec.waitZstd()
	k := testKey{"later", 1}
	load(t, c, k, computeLarge)
	if b := readEntryFile(t, c, k); b[codecOffset] != codecZstd {
		t.Fatalf("codec %d once the encoder is made, want zstd", b[codecOffset])
	}
	c2 := open(t, opts)
	for i := range 3 {
		load(t, c2, testKey{"first", i}, failCompute2(computeLarge))
	}
	load(t, c2, k, failCompute2(computeLarge))
}

// entryWith returns the entry file of raw with its payload in codec, whether or not the
// Cache would choose it.
func entryWith(tb testing.TB, codec byte, ek *entryKey, typ string, raw []byte) []byte {
	b := appendHeader(nil, codec, ek, typ)
	switch codec {
	case codecRaw:
		b = append(b, raw...)
	case codecS2:
		b = append(b, s2.Encode(nil, raw)...)
	case codecZstd:
		b = zstdCodecs(tb, 3, 1<<20).waitZstd().EncodeAll(raw, b)
	}
	finishEntry(b, len(raw))
	return b
}
