package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"

	"github.com/klauspost/compress/zstd"
)

// The entry file format. All integers are little-endian.
//
//	offset size  field
//	0      8     magic "cachegen"
//	8      2     format version (formatVersion)
//	10     1     codec: 0 raw msgp, 1 zstd-compressed msgp
//	11     1     reserved, 0
//	12     2     length T of the value type identity
//	14     2     reserved, 0
//	16     32    entry digest (key digest mixed with the version and the value type)
//	48     8     raw size: length of the msgp encoding
//	56     8     stored size: length of the payload
//	64     4     CRC-32C of the whole file with this field set to zero
//	68     4     reserved, 0
//	72     T     value type identity
//	72+T   ...   payload
const (
	magic         = "cachegen"
	formatVersion = 1
	headerSize    = 72
	maxTypeLen    = 1 << 12

	codecRaw  = 0
	codecZstd = 1

	codecOffset = 10
	crcOffset   = 64
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errMalformed is the one error for an entry file that is truncated, corrupted, foreign, of
// another version or value type, or too large: every such file is a miss.
var errMalformed = errors.New("cache: malformed entry")

// An entryKey is the digest that names an entry on disk.
type entryKey [sha256.Size]byte

// appendHeader appends the header and the type identity of an entry whose payload will
// follow; finishEntry fills in the sizes and the checksum once the payload is appended.
func appendHeader(b []byte, codec byte, ek *entryKey, typ string) []byte {
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint16(b, formatVersion)
	b = append(b, codec, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(typ)))
	b = append(b, 0, 0)
	b = append(b, ek[:]...)
	b = append(b, make([]byte, 24)...) // sizes, checksum, reserved
	return append(b, typ...)
}

// finishEntry sets the sizes and the checksum of the entry in b, whose header starts at 0.
func finishEntry(b []byte, rawSize int) {
	typLen := int(binary.LittleEndian.Uint16(b[12:]))
	binary.LittleEndian.PutUint64(b[48:], uint64(rawSize))
	binary.LittleEndian.PutUint64(b[56:], uint64(len(b)-headerSize-typLen))
	binary.LittleEndian.PutUint32(b[crcOffset:], 0)
	binary.LittleEndian.PutUint32(b[crcOffset:], crc32.Checksum(b, castagnoli))
}

// encodeEntry returns the file contents for raw, the msgp encoding of a value of type typ,
// compressed with enc unless enc is nil or compression does not pay.
func encodeEntry(enc *zstd.Encoder, ek *entryKey, typ string, raw []byte) []byte {
	codec := byte(codecRaw)
	if enc != nil && len(raw) >= minCompress {
		codec = codecZstd
	}
	room := len(raw)
	if codec == codecZstd {
		room = room/2 + 64
	}
	b := make([]byte, 0, headerSize+len(typ)+room)
	b = appendHeader(b, codec, ek, typ)
	start := len(b)
	if codec == codecZstd {
		b = enc.EncodeAll(raw, b)
		if len(b)-start >= len(raw) { // incompressible: store raw
			b = append(b[:start], raw...)
			b[codecOffset] = codecRaw
		}
	} else {
		b = append(b, raw...)
	}
	finishEntry(b, len(raw))
	return b
}

// minCompress is the size below which values are stored raw: compressing them saves little
// and costs a zstd frame header.
const minCompress = 128

// largeEntry is the raw size above which an entry is compressed and decompressed by a codec
// of its own, and decompressed into a buffer that grows as output arrives.
const largeEntry = 1 << 20

// checkHead checks the start of an entry file, head (at least its header and type name),
// against the expected digest and type and the file's size, and returns the raw size it
// announces. It is checked before the file is read, so that a file that is not an entry of
// ek (or is sparse, or lies about its sizes) costs no buffer of its size.
func checkHead(head []byte, ek *entryKey, typ string, fileSize, maxRaw int64) (uint64, error) {
	if len(head) < headerSize || string(head[:8]) != magic ||
		binary.LittleEndian.Uint16(head[8:]) != formatVersion ||
		head[11] != 0 || head[14] != 0 || head[15] != 0 ||
		binary.LittleEndian.Uint32(head[68:]) != 0 {
		return 0, errMalformed
	}
	typLen := int(binary.LittleEndian.Uint16(head[12:]))
	if typLen != len(typ) || len(head) < headerSize+typLen ||
		[sha256.Size]byte(head[16:48]) != *ek ||
		string(head[headerSize:headerSize+typLen]) != typ {
		return 0, errMalformed
	}
	rawSize := binary.LittleEndian.Uint64(head[48:])
	storedSize := binary.LittleEndian.Uint64(head[56:])
	if storedSize != uint64(fileSize)-uint64(headerSize+typLen) || rawSize > uint64(maxRaw) {
		return 0, errMalformed
	}
	return rawSize, nil
}

// decodeEntry checks the entry file b against the expected digest and type and returns the
// msgp encoding of its value. Every check failure is errMalformed. dec decompresses it
// (entries up to largeEntry go into a buffer of the announced size; larger ones into one that
// grows as output arrives, so that a forged size costs nothing).
func decodeEntry(dec *zstd.Decoder, b []byte, ek *entryKey, typ string, maxRaw int64) ([]byte, error) {
	rawSize, err := checkHead(b, ek, typ, int64(len(b)), maxRaw)
	if err != nil {
		return nil, err
	}
	codec := b[codecOffset]
	payload := b[headerSize+len(typ):]
	storedSize := uint64(len(payload))
	want := binary.LittleEndian.Uint32(b[crcOffset:])
	crc := crc32.Update(0, castagnoli, b[:crcOffset])
	crc = crc32.Update(crc, castagnoli, []byte{0, 0, 0, 0})
	crc = crc32.Update(crc, castagnoli, b[crcOffset+4:])
	if crc != want {
		return nil, errMalformed
	}
	switch codec {
	case codecRaw:
		if rawSize != storedSize {
			return nil, errMalformed
		}
		// A copy: the memory tier may keep it, and must not keep the file's header alive.
		return append([]byte(nil), payload...), nil
	case codecZstd:
		if dec == nil {
			return nil, errMalformed
		}
		var h zstd.Header
		if err := h.Decode(payload); err != nil || (h.HasFCS && h.FrameContentSize != rawSize) {
			return nil, errMalformed
		}
		// The buffer is allocated for the announced size: bound that by what the payload
		// can decompress to, so that a small forged file cannot make a read allocate a lot.
		// No zstd block (at most 128 KiB) is stored in fewer than 4 bytes (an RLE block).
		if rawSize > uint64(len(payload))/4*(128<<10) {
			return nil, errMalformed
		}
		room := rawSize
		if rawSize > largeEntry {
			room = min(rawSize, 4*storedSize+largeEntry)
		}
		out, err := dec.DecodeAll(payload, make([]byte, 0, room))
		if err != nil || uint64(len(out)) != rawSize {
			return nil, errMalformed
		}
		return out, nil
	}
	return nil, errMalformed
}
