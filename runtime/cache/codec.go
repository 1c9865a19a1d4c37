package cache

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// The codecs of an entry's payload, in its header's codec byte. A reader takes any other
// value for a malformed entry.
const (
	codecRaw  = 0 // the msgp encoding itself
	codecZstd = 1 // a zstd frame of it (Options.CompressionLevel 1 to 22)
	codecS2   = 2 // an s2 block of it (the default)
)

// Whether a value is compressed is decided on a sample: sampleChunks pieces of sampleChunk
// bytes spread over it, compressed alone, must save the codec's share of their bytes
// (s2MinSaving, zstdMinSaving: at least 1/n of them). A smaller value is compressed whole,
// and the result judged. Values that do not compress (random bytes, compressed media) cost
// the sample only.
const (
	sampleChunk   = 4 << 10
	sampleChunks  = 4
	s2MinSaving   = 4  // s2 must save a quarter: less is not worth decoding at every hit
	zstdMinSaving = 16 // zstd, asked for by a level, must save a sixteenth
)

// splitWrite is the raw size from which an entry stored raw is written from the value's own
// encoding, after its header, instead of being copied after it into one buffer.
const splitWrite = 32 << 10

// minCompress is the size below which values are stored raw: compressing them saves little
// and costs a frame header.
const minCompress = 128

// largeEntry is the raw size above which a zstd entry is compressed and decompressed by a
// codec of its own, and decompressed into a buffer that grows as output arrives; an s2 entry
// above it that claims much more than its payload's size is measured before it is decoded.
const largeEntry = 1 << 20

// sampleScratch holds the compressed sample chunks.
var sampleScratch = sync.Pool{New: func() any { return new([sampleChunk + sampleChunk/2]byte) }}

// codecs compress and decompress the payloads of a Cache's entries. s2 needs no state; the
// zstd encoder and decoder are made on first use.
type codecs struct {
	// level is Options.CompressionLevel: 0 for s2, negative for raw, 1 to 22 for zstd.
	level  int
	zlevel zstd.EncoderLevel
	maxRaw int64

	// zenc is the shared zstd encoder. Making one takes 0.3 to 0.8 ms, which no store
	// waits for: the first store that wants it starts making it in the background, and the
	// stores until it is ready use s2.
	zenc     atomic.Pointer[zstd.Encoder]
	zencOnce sync.Once
	making   sync.WaitGroup
	// zdec is the shared zstd decoder, made by the first read of a zstd entry; zdecMade
	// says whether it was, so that close releases only what exists.
	zdec     func() (*zstd.Decoder, error)
	zdecMade atomic.Bool
}

// init sets the codecs up for a Cache of level (Options.CompressionLevel) whose values are at
// most maxRaw bytes.
func (cd *codecs) init(level int, maxRaw int64) {
	cd.level, cd.maxRaw = level, maxRaw
	cd.zlevel = zstd.SpeedDefault
	if level > 0 {
		cd.zlevel = zstd.EncoderLevelFromZstd(level)
	}
	cd.zdec = sync.OnceValues(func() (*zstd.Decoder, error) {
		cd.zdecMade.Store(true)
		return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(largeEntry), zstd.WithDecodeAllCapLimit(true))
	})
}

// close releases the zstd codecs, once no encoding or decoding runs.
func (cd *codecs) close() {
	cd.making.Wait()
	if enc := cd.zenc.Load(); enc != nil {
		enc.Close()
	}
	if cd.zdecMade.Load() {
		if dec, err := cd.zdec(); err == nil {
			dec.Close()
		}
	}
}

// zstdEncoder returns the shared zstd encoder, or nil while it is being made.
func (cd *codecs) zstdEncoder() *zstd.Encoder {
	if enc := cd.zenc.Load(); enc != nil {
		return enc
	}
	cd.zencOnce.Do(func() {
		cd.making.Add(1)
		go func() {
			defer cd.making.Done()
			// The options are valid: NewWriter cannot fail, and a failure would leave
			// the stores on s2.
			if enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(cd.zlevel), zstd.WithEncoderCRC(false)); err == nil {
				cd.zenc.Store(enc)
			}
		}()
	})
	return nil
}

// waitZstd waits until the shared zstd encoder is made, and returns it (tests use it to write
// zstd entries).
func (cd *codecs) waitZstd() *zstd.Encoder {
	cd.zstdEncoder()
	cd.making.Wait()
	return cd.zenc.Load()
}

// An entryParts is the contents of an entry file in two parts, written one after the other:
// head (the header and the value type's identity) and payload. whole is both in one buffer
// when they are (a compressed or small entry), nil when the payload is the value's own
// encoding. crc, when not nil, delivers the checksum of a large payload's entry, taken in the
// background while the payload is written: head's checksum field is zero until finish.
type entryParts struct {
	head, payload, whole []byte
	crc                  chan uint32
}

// backgroundCRC is the payload size from which an entry's checksum is taken while its payload
// is written (on another core, when one is free), rather than before.
const backgroundCRC = 1 << 20

// finish waits for the checksum taken in the background, if any, and sets it in the head. It
// reports whether it set it (the head was written without it).
func (e *entryParts) finish() bool {
	if e.crc == nil {
		return false
	}
	binary.LittleEndian.PutUint32(e.head[crcOffset:], <-e.crc)
	e.crc = nil
	return true
}

// bytes returns the entry file's contents in one buffer, copying them when they are in two.
func (e *entryParts) bytes() []byte {
	e.finish()
	if e.whole != nil {
		return e.whole
	}
	b := make([]byte, 0, len(e.head)+len(e.payload))
	return append(append(b, e.head...), e.payload...)
}

// encode returns the entry file for raw, the msgp encoding of a value of type typ: its
// payload compressed by the Cache's codec when a sample says that pays (see sampleChunks) and
// the result confirms it, raw otherwise. A large raw payload is raw itself, not a copy.
func (cd *codecs) encode(ek *entryKey, typ string, raw []byte) (entryParts, error) {
	codec, enc, minSaving := cd.choose(raw)
	hl := headerSize + len(typ)
	if codec == codecZstd && len(raw) > largeEntry {
		// A codec of its own, dropped after use: the shared one keeps, one per core,
		// buffers as large as the largest value it saw.
		var err error
		if enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(cd.zlevel), zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1)); err != nil {
			return entryParts{}, fmt.Errorf("cache: creating zstd encoder: %w", err)
		}
		defer enc.Close()
	}
	if codec == codecS2 && !s2Encodes(len(raw)) {
		codec = codecRaw
	}
	if codec != codecRaw && samplePays(raw, codec, enc, minSaving) {
		var b []byte
		if codec == codecS2 {
			b = make([]byte, hl, hl+s2.MaxEncodedLen(len(raw)))
			b = appendHeader(b[:0], codecS2, ek, typ)
			b = b[:hl+len(s2.Encode(b[hl:cap(b)], raw))]
		} else {
			b = appendHeader(make([]byte, 0, hl+len(raw)/2+64), codecZstd, ek, typ)
			b = enc.EncodeAll(raw, b)
		}
		if len(b)-hl <= len(raw)-len(raw)/minSaving {
			e := entryParts{head: b[:hl:hl], payload: b[hl:], whole: b}
			finishEntry(b, len(raw))
			return e, nil
		}
	}
	if len(raw) < splitWrite {
		b := appendHeader(make([]byte, 0, hl+len(raw)), codecRaw, ek, typ)
		b = append(b, raw...)
		finishEntry(b, len(raw))
		return entryParts{head: b[:hl:hl], payload: b[hl:], whole: b}, nil
	}
	e := entryParts{head: appendHeader(make([]byte, 0, hl), codecRaw, ek, typ), payload: raw}
	if len(raw) < backgroundCRC {
		finishParts(e.head, e.payload, len(raw))
		return e, nil
	}
	binary.LittleEndian.PutUint64(e.head[48:], uint64(len(raw)))
	binary.LittleEndian.PutUint64(e.head[56:], uint64(len(raw)))
	e.crc = make(chan uint32, 1)
	go func(crc chan<- uint32, head, payload []byte) {
		crc <- crc32.Update(crc32.Checksum(head, castagnoli), castagnoli, payload)
	}(e.crc, e.head, e.payload)
	return e, nil
}

// choose returns the codec to try on raw, with the zstd encoder when it is zstd, and the
// share of its bytes the codec must save (1/minSaving).
func (cd *codecs) choose(raw []byte) (codec byte, enc *zstd.Encoder, minSaving int) {
	switch {
	case cd.level < 0 || len(raw) < minCompress:
		return codecRaw, nil, 1
	case cd.level > 0 && len(raw) > largeEntry:
		return codecZstd, nil, zstdMinSaving // with an encoder of its own
	case cd.level > 0:
		if enc := cd.zstdEncoder(); enc != nil {
			return codecZstd, enc, zstdMinSaving
		}
	}
	if uint64(len(raw)) > 0xffffffff { // beyond the s2 block format
		return codecRaw, nil, 1
	}
	return codecS2, nil, s2MinSaving
}

// samplePays reports whether compressing a sample of raw with codec saves at least
// 1/minSaving of its bytes; it does not try a value that the sample would cover whole.
func samplePays(raw []byte, codec byte, enc *zstd.Encoder, minSaving int) bool {
	if len(raw) <= sampleChunks*sampleChunk {
		return true
	}
	scratch := sampleScratch.Get().(*[sampleChunk + sampleChunk/2]byte)
	defer sampleScratch.Put(scratch)
	in, out := 0, 0
	step := (len(raw) - sampleChunk) / (sampleChunks - 1)
	for i := range sampleChunks {
		chunk := raw[i*step : i*step+sampleChunk]
		in += len(chunk)
		if codec == codecS2 {
			out += len(s2.Encode(scratch[:], chunk))
		} else {
			out += len(enc.EncodeAll(chunk, scratch[:0]))
		}
	}
	return out <= in-in/minSaving
}

// decode returns the msgp encoding held by payload, the payload of an entry whose header
// says codec and rawSize (at most cd.maxRaw, checked). own says that payload is a buffer of
// its own, which a raw entry returns as it is; otherwise it is copied (the memory tier may
// keep the result, and must not keep the file's header alive). Anything that does not decode
// to exactly rawSize bytes is errMalformed.
func (cd *codecs) decode(codec byte, payload []byte, rawSize uint64, own bool) ([]byte, error) {
	stored := uint64(len(payload))
	switch codec {
	case codecRaw:
		if rawSize != stored {
			return nil, errMalformed
		}
		if own {
			return payload, nil
		}
		return append([]byte(nil), payload...), nil
	case codecS2:
		if n, err := s2.DecodedLen(payload); err != nil || uint64(n) != rawSize {
			return nil, errMalformed
		}
		// The buffer is allocated for the announced size: beyond what the file's own
		// size justifies, the block's operations must add up to it first, so that a
		// small forged block cannot make a read allocate a lot.
		if rawSize > 4*stored+largeEntry {
			if n, ok := s2Len(payload, rawSize); !ok || n != rawSize {
				return nil, errMalformed
			}
		}
		out, err := s2.Decode(make([]byte, rawSize), payload)
		if err != nil || uint64(len(out)) != rawSize {
			return nil, errMalformed
		}
		return out, nil
	case codecZstd:
		return cd.decodeZstd(payload, rawSize)
	}
	return nil, errMalformed
}

// decodeZstd decodes the zstd frame payload of rawSize bytes. Entries up to largeEntry go
// into a buffer of the announced size; larger ones, by a decoder of their own, into one that
// grows as output arrives, so that a forged size costs nothing.
func (cd *codecs) decodeZstd(payload []byte, rawSize uint64) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(payload); err != nil || (h.HasFCS && h.FrameContentSize != rawSize) {
		return nil, errMalformed
	}
	// The buffer is allocated for the announced size: bound that by what the payload can
	// decompress to, so that a small forged file cannot make a read allocate a lot. No
	// zstd block (at most 128 KiB) is stored in fewer than 4 bytes (an RLE block).
	stored := uint64(len(payload))
	if rawSize > stored/4*(128<<10) {
		return nil, errMalformed
	}
	dec, err := cd.zdec()
	if err == nil && rawSize > largeEntry {
		// A codec of its own, dropped after use: the shared one keeps, one per core,
		// buffers as large as the largest value it saw.
		if dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(cd.maxRaw))); err == nil {
			defer dec.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cache: creating zstd decoder: %w", err)
	}
	room := rawSize
	if rawSize > largeEntry {
		room = min(rawSize, 4*stored+largeEntry)
	}
	out, err := dec.DecodeAll(payload, make([]byte, 0, room))
	if err != nil || uint64(len(out)) != rawSize {
		return nil, errMalformed
	}
	return out, nil
}

// s2Len returns the length that the s2 block src decodes to, adding up its operations without
// carrying them out, and false when they run past its end or past limit bytes. It checks
// nothing else: s2.Decode does.
func s2Len(src []byte, limit uint64) (uint64, bool) {
	_, s := binary.Uvarint(src)
	if s <= 0 {
		return 0, false
	}
	var d uint64
	for s < len(src) {
		tag := src[s]
		var n uint64 // the operation's length
		switch tag & 3 {
		case 0: // literal bytes
			n = uint64(tag >> 2)
			s++
			if n >= 60 {
				k := int(n) - 59 // bytes of the length
				if s+k > len(src) {
					return 0, false
				}
				n = le(src[s : s+k])
				s += k
			}
			n++
			if n > uint64(len(src)-s) {
				return 0, false
			}
			s += int(n)
		case 1: // a copy with a 1-byte offset, or a repeat (offset 0)
			if s+2 > len(src) {
				return 0, false
			}
			offset := int(tag&0xe0)<<3 | int(src[s+1])
			n = uint64(tag >> 2 & 7)
			s += 2
			if offset == 0 && n >= 5 {
				k := int(n) - 4 // bytes of the length: 1, 2 or 3
				if s+k > len(src) {
					return 0, false
				}
				n = le(src[s:s+k]) + [3]uint64{4, 1 << 8, 1 << 16}[k-1]
				s += k
			}
			n += 4
		case 2: // a copy with a 2-byte offset
			n = 1 + uint64(tag>>2)
			s += 3
		case 3: // a copy with a 4-byte offset
			n = 1 + uint64(tag>>2)
			s += 5
		}
		if s > len(src) {
			return 0, false
		}
		if d += n; d > limit {
			return 0, false
		}
	}
	return d, true
}

// le returns the little-endian integer of b, 1 to 4 bytes.
func le(b []byte) uint64 {
	var n uint64
	for i := len(b) - 1; i >= 0; i-- {
		n = n<<8 | uint64(b[i])
	}
	return n
}

// s2Encodes reports whether s2 can encode n bytes in one block: not the last few sizes below
// 4 GiB, whose encoding could be longer than s2's bound.
func s2Encodes(n int) bool { return s2.MaxEncodedLen(n) >= 0 }
