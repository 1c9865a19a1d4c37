package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// The entry file format. All integers are little-endian.
//
//	offset size  field
//	0      8     magic "cachegen"
//	8      2     format version (formatVersion)
//	10     1     codec: 0 raw msgp, 1 zstd frame of it, 2 s2 block of it (codec.go)
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
	formatVersion = 2 // 2: the s2 codec
	headerSize    = 72
	maxTypeLen    = 1 << 12

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

// finishParts sets the sizes and the checksum of the entry whose header and type identity
// are head and whose payload (of rawSize bytes decoded) follows them.
func finishParts(head, payload []byte, rawSize int) {
	binary.LittleEndian.PutUint64(head[48:], uint64(rawSize))
	binary.LittleEndian.PutUint64(head[56:], uint64(len(payload)))
	binary.LittleEndian.PutUint32(head[crcOffset:], 0)
	crc := crc32.Update(crc32.Checksum(head, castagnoli), castagnoli, payload)
	binary.LittleEndian.PutUint32(head[crcOffset:], crc)
}

// encodeEntry returns the contents of the entry file for raw, the msgp encoding of a value of
// type typ, encoded by cd.
func encodeEntry(cd *codecs, ek *entryKey, typ string, raw []byte) ([]byte, error) {
	e, err := cd.encode(ek, typ, raw)
	if err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

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
// msgp encoding of its value, decoded by cd. Every check failure is errMalformed.
func decodeEntry(cd *codecs, b []byte, ek *entryKey, typ string, maxRaw int64) ([]byte, error) {
	rawSize, err := checkHead(b, ek, typ, int64(len(b)), maxRaw)
	if err != nil {
		return nil, err
	}
	hl := headerSize + len(typ)
	return checkDecode(cd, b[:hl], b[hl:], rawSize, false)
}

// checkDecode checks the checksum of the entry whose head (checked by checkHead, which
// returned rawSize) and payload are given, and decodes its payload with cd (see
// codecs.decode, and own there). The checksum is checked before the payload is decoded.
func checkDecode(cd *codecs, head, payload []byte, rawSize uint64, own bool) ([]byte, error) {
	want := binary.LittleEndian.Uint32(head[crcOffset:])
	crc := crc32.Update(0, castagnoli, head[:crcOffset])
	crc = crc32.Update(crc, castagnoli, []byte{0, 0, 0, 0})
	crc = crc32.Update(crc, castagnoli, head[crcOffset+4:])
	crc = crc32.Update(crc, castagnoli, payload)
	if crc != want {
		return nil, errMalformed
	}
	return cd.decode(head[codecOffset], payload, rawSize, own)
}
