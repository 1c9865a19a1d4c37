package cache

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// The records of the miss explainer. Every store appends a record of its key to the record
// file of the key's type (explain-<16 hex>.rec in the namespace directory), so that a later
// miss, in this process or another, can be explained against the keys stored before it.
// A record file is a sequence of frames:
//
//	frame   = "cgr2" | len uint32 | crc32c(body) uint32 | body        (little endian)
//	body    = digest [32]byte | time int64 (Unix ns) | text(version) | text(value type)
//	          | flags byte (1: the key has more leaves than the record) | uvarint n | n × uint64, sorted: a hash of each leaf's path, type and value
//	          | n × leaf
//	leaf    = shared(path) | shared(type) | text(value)
//	text(s) = uvarint len | s
//	shared(s) = uvarint prefix shared with the previous leaf's | text(the rest of s)
//
// The sorted hashes let a miss find the closest record by merging two sorted lists, without
// decoding any record but that one. A frame that does not check is skipped: appends of
// several processes and a file cut to its newer half both leave whole frames behind.
const recordMagic = "cgr2"

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// A record is what the explainer keeps of a stored key.
type record struct {
	digest  keyhash.Digest
	time    time.Time
	version string // the version directory's name
	value   string // the value type's identity, with its schema
	partial bool   // the key had more leaves than the record holds
	n       int    // leaves
	hashes  []byte // n sorted uint64
	leaves  []byte // n encoded leaves
}

// A keyRecord is what a miss knows of its own key: its leaves, at most maxLeaves of them,
// and their sorted hashes.
type keyRecord struct {
	leaves  []keyhash.Leaf
	hashes  []uint64
	partial bool // the key has more leaves than the record holds
}

// newKeyRecord lists the leaves of k for a record: at most maxLeaves of them, and no more
// than fit in maxRecordBytes, so that a record file of maxRecordFile holds a few of them.
// Listing them calls the String methods of the key's enums, which may panic where hashing
// does not: such a key gets an empty record, and the Load goes on.
func newKeyRecord(k keyhash.Key) (kr keyRecord) {
	defer func() {
		if recover() != nil {
			kr = keyRecord{}
		}
	}()
	leaves := keyhash.Leaves(k, maxLeaves+1)
	partial := len(leaves) > maxLeaves
	leaves = leaves[:min(len(leaves), maxLeaves)]
	size := 0
	for i, l := range leaves {
		if size += 16 + len(l.Path) + len(l.Type) + len(l.Value); size > maxRecordBytes {
			leaves, partial = leaves[:i], true
			break
		}
	}
	hashes := make([]uint64, len(leaves))
	for i, l := range leaves {
		hashes[i] = leafHash(l)
	}
	slices.Sort(hashes)
	return keyRecord{leaves, hashes, partial}
}

// leafHash is FNV-1a over a leaf's path, type and value, each ended by a zero byte.
func leafHash(l keyhash.Leaf) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for _, s := range [3]string{l.Path, l.Type, l.Value} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h *= prime // ^ 0
	}
	return h
}

// appendRecordFrame appends the frame of a record of the key kr with digest d to dst.
func appendRecordFrame(dst []byte, d keyhash.Digest, t time.Time, version, value string, kr keyRecord) []byte {
	start := len(dst)
	dst = append(dst, recordMagic...)
	dst = append(dst, make([]byte, 8)...)
	body := len(dst)
	dst = append(dst, d[:]...)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(t.UnixNano()))
	dst = appendText(dst, version)
	dst = appendText(dst, value)
	var flags byte
	if kr.partial {
		flags = 1
	}
	dst = append(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(len(kr.leaves)))
	for _, h := range kr.hashes {
		dst = binary.LittleEndian.AppendUint64(dst, h)
	}
	var prevPath, prevType string
	for _, l := range kr.leaves {
		dst = appendShared(dst, prevPath, l.Path)
		dst = appendShared(dst, prevType, l.Type)
		dst = appendText(dst, l.Value)
		prevPath, prevType = l.Path, l.Type
	}
	binary.LittleEndian.PutUint32(dst[start+4:], uint32(len(dst)-body))
	binary.LittleEndian.PutUint32(dst[start+8:], crc32.Checksum(dst[body:], crc32c))
	return dst
}

func appendText(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendShared appends s as the length of the prefix it shares with prev and the rest.
func appendShared(dst []byte, prev, s string) []byte {
	n := 0
	for n < len(prev) && n < len(s) && prev[n] == s[n] {
		n++
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	return appendText(dst, s[n:])
}

// newestFrames returns the newest of the whole frames in b that fit in max bytes (at least
// the last one): what many stores queued at once may exceed a record file's bound, and the
// older ones would be rotated out at once.
func newestFrames(b []byte, max int64) []byte {
	for int64(len(b)) > max && len(b) >= 12 {
		n := int(binary.LittleEndian.Uint32(b[4:]))
		if n > len(b)-12 || 12+n == len(b) {
			break
		}
		b = b[12+n:]
	}
	return b
}

// parseRecords returns the records of a record file's bytes, oldest first, skipping what
// does not check.
func parseRecords(b []byte) []record {
	var out []record
	for {
		i := bytes.Index(b, []byte(recordMagic))
		if i < 0 {
			return out
		}
		b = b[i:]
		if len(b) < 12 {
			return out
		}
		n := binary.LittleEndian.Uint32(b[4:])
		if uint64(n) > uint64(len(b)-12) || crc32.Checksum(b[12:12+n], crc32c) != binary.LittleEndian.Uint32(b[8:]) {
			b = b[len(recordMagic):]
			continue
		}
		if r, ok := parseRecord(b[12 : 12+n]); ok {
			out = append(out, r)
		}
		b = b[12+n:]
	}
}

// parseRecord splits a record's body; the leaves stay encoded.
func parseRecord(b []byte) (record, bool) {
	var r record
	if len(b) < 40 {
		return r, false
	}
	copy(r.digest[:], b)
	r.time = time.Unix(0, int64(binary.LittleEndian.Uint64(b[32:])))
	b = b[40:]
	version, b, ok := cutText(b)
	if !ok {
		return r, false
	}
	value, b, ok := cutText(b)
	if !ok {
		return r, false
	}
	r.value = string(value)
	if len(b) == 0 {
		return r, false
	}
	r.partial, b = b[0]&1 != 0, b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxLeaves || uint64(len(b)-k) < 8*n {
		return r, false
	}
	b = b[k:]
	r.version, r.n = string(version), int(n)
	r.hashes, r.leaves = b[:8*n], b[8*n:]
	return r, true
}

// cutText reads a uvarint length and that many bytes.
func cutText(b []byte) (s, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// shared reads a string written by appendShared after prev.
func cutShared(b []byte, prev string) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(prev)) {
		return "", nil, false
	}
	rest, b, ok := cutText(b[k:])
	if !ok {
		return "", nil, false
	}
	return prev[:n] + string(rest), b, true
}

// leavesOf decodes the leaves of r; a record that does not decode has none.
func (r *record) leavesOf() []keyhash.Leaf {
	out := make([]keyhash.Leaf, 0, r.n)
	b := r.leaves
	var prev keyhash.Leaf
	for range r.n {
		var l keyhash.Leaf
		var v []byte
		var ok1, ok2, ok3 bool
		l.Path, b, ok1 = cutShared(b, prev.Path)
		if ok1 {
			l.Type, b, ok2 = cutShared(b, prev.Type)
		}
		if ok2 {
			v, b, ok3 = cutText(b)
		}
		if !ok3 {
			return nil
		}
		l.Value = string(v)
		out = append(out, l)
		prev = l
	}
	return out
}

// overlap counts the hashes that the sorted list now and the record r have in common.
func (r *record) overlap(now []uint64) int {
	n, i := 0, 0
	for j := 0; j < r.n && i < len(now); j++ {
		h := binary.LittleEndian.Uint64(r.hashes[8*j:])
		for i < len(now) && now[i] < h {
			i++
		}
		if i < len(now) && now[i] == h {
			n++
			i++
		}
	}
	return n
}
