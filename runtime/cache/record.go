package cache

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// The records of the miss explainer. Every store appends a record of its key to the record
// file of the key's type (explain-<16 hex>.rec in the namespace directory), so that a later
// miss, in this process or another, can be explained against the keys stored before it.
// A record file is a sequence of frames:
//
//	frame   = "cgr3" | len uint32 | crc32c(body) uint32 | body        (little endian)
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
const recordMagic = "cgr3"

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
// encoded as in a record's body, and their sorted hashes.
type keyRecord struct {
	n       int      // leaves
	leaves  []byte   // n encoded leaves
	hashes  []uint64 // their hashes, sorted
	partial bool     // the key has more leaves than the record holds
	failed  bool     // listing the leaves panicked: there is nothing to record
	// prevPath and prevType are the last leaf's, which the next one is encoded after;
	// size adds up the leaves' sizes against maxRecordBytes.
	prevPath []byte
	prevType string
	size     int
}

// newKeyRecord lists the leaves of k for a record: at most maxLeaves of them, and no more
// than fit in maxRecordBytes, so that a record file of maxRecordFile holds a few of them.
// Listing them calls the String methods of the key's enums, which may panic where hashing
// does not: such a key gets an empty record, and the Load goes on.
func newKeyRecord(k keyhash.Key) (kr keyRecord) {
	defer func() {
		if recover() != nil {
			kr = keyRecord{failed: true}
		}
	}()
	if b, ok := recordBuffers.Get().(*keyRecordBuffers); ok {
		kr.leaves, kr.hashes = b.leaves[:0], b.hashes[:0]
	} else {
		kr.leaves = make([]byte, 0, 4096)
		kr.hashes = make([]uint64, 0, 256)
	}
	// The arena bound: a record holds maxRecordBytes of leaves, and renaming the entries of
	// nested maps leaves copies behind; a deep key stops there, not after seconds of it.
	if !keyhash.VisitLeaves(k, maxLeaves+1, 4*maxRecordBytes, kr.add) {
		kr.partial = true
	}
	kr.prevPath = nil
	slices.Sort(kr.hashes)
	return kr
}

// keyRecordBuffers are the buffers of a key record that was released, for the next.
type keyRecordBuffers struct {
	leaves []byte
	hashes []uint64
}

// recordBuffers holds the buffers of released key records: a miss makes one, and a Load
// of many misses would otherwise allocate and collect them at each.
var recordBuffers sync.Pool

// release hands kr's buffers to the next newKeyRecord; kr is empty after it. Only what
// newKeyRecord made is released, once its frame is made (or the miss made none).
func (kr *keyRecord) release() {
	if cap(kr.leaves) <= 4*maxRecordBytes && cap(kr.hashes) <= 2*maxLeaves {
		recordBuffers.Put(&keyRecordBuffers{kr.leaves, kr.hashes})
	}
	*kr = keyRecord{}
}

// keyRecordOf makes the record of a key whose leaves are listed.
func keyRecordOf(leaves []keyhash.Leaf) keyRecord {
	var kr keyRecord
	for _, l := range leaves {
		kr.add([]byte(l.Path), l.Type, []byte(l.Value))
	}
	kr.prevPath = nil
	slices.Sort(kr.hashes)
	return kr
}

// add appends a leaf to kr, unless kr is full: then kr is partial. path must stay unchanged
// until the next add (VisitLeaves's arena, or a Leaf's own bytes).
func (kr *keyRecord) add(path []byte, typ string, value []byte) {
	if kr.partial {
		return
	}
	kr.size += 16 + len(path) + len(typ) + len(value)
	if kr.n == maxLeaves || kr.size > maxRecordBytes {
		kr.partial = true
		return
	}
	kr.n++
	kr.hashes = append(kr.hashes, leafHash(path, typ, value))
	kr.leaves = appendShared(kr.leaves, kr.prevPath, path)
	kr.leaves = appendShared(kr.leaves, kr.prevType, typ)
	kr.leaves = appendText(kr.leaves, value)
	kr.prevPath, kr.prevType = path, typ // the caller keeps path until the next add
}

// leavesOf decodes the leaves of kr.
func (kr *keyRecord) leavesOf() []keyhash.Leaf { return decodeLeaves(kr.n, kr.leaves, nil) }

// leafHash hashes a leaf's path, type and value, each with its length, eight bytes at a
// time: a hint for finding the closest record and skipping the leaves two keys share, not a
// defence against crafted collisions (which could only mislead an explanation). The path is
// hashed without the marks that tell apart map entries that show alike (keyhash.EntryMark):
// an entry that gains a look-alike is renamed, and is still the entry it was.
func leafHash[T ~string | ~[]byte](path []byte, typ T, value []byte) uint64 {
	if bytes.Contains(path, []byte(keyhash.EntryMark)) {
		var buf [256]byte
		path = unmarked(buf[:0], path)
	}
	h := mixBytes(0x9e3779b97f4a7c15, path)
	h = mixBytes(h, typ)
	return mixBytes(h, value)
}

// unmarked appends path to dst without its entry marks: each keyhash.EntryMark followed by 16
// hex digits and "]" becomes "]".
func unmarked(dst, path []byte) []byte {
	mark := []byte(keyhash.EntryMark)
	for {
		i := bytes.Index(path, mark)
		if i < 0 {
			return append(dst, path...)
		}
		rest := path[i+len(mark):]
		if len(rest) > 16 && rest[16] == ']' && isHex(string(rest[:16]), 16) {
			dst = append(dst, path[:i]...)
			path = rest[16:] // from the "]"
			continue
		}
		dst = append(dst, path[:i+len(mark)]...)
		path = rest
	}
}

// mixBytes mixes s and its length into h.
func mixBytes[S ~string | ~[]byte](h uint64, s S) uint64 {
	const m1, m2 = 0xff51afd7ed558ccd, 0xc4ceb9fe1a85ec53
	n := len(s)
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = bits.RotateLeft64((h^w)*m1, 31) * m2
		s = s[8:]
	}
	var w uint64
	for i := len(s) - 1; i >= 0; i-- {
		w = w<<8 | uint64(s[i])
	}
	h = bits.RotateLeft64((h^w^uint64(n)<<56)*m1, 31) * m2
	return h ^ h>>29
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
	dst = binary.AppendUvarint(dst, uint64(kr.n))
	for _, h := range kr.hashes {
		dst = binary.LittleEndian.AppendUint64(dst, h)
	}
	dst = append(dst, kr.leaves...)
	binary.LittleEndian.PutUint32(dst[start+4:], uint32(len(dst)-body))
	binary.LittleEndian.PutUint32(dst[start+8:], crc32.Checksum(dst[body:], crc32c))
	return dst
}

func appendText[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendShared appends s as the length of the prefix it shares with prev and the rest.
func appendShared[P, S ~string | ~[]byte](dst []byte, prev P, s S) []byte {
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
	recs, _ := parseRecordsTail(b)
	return recs
}

// parseRecordsTail returns the records of b, the bytes appended to a record file since a
// read, and where the bytes of the next read should start: after the last whole frame, or
// at a frame cut short by the end of b, which a writer may still be appending. A frame that
// does not check is skipped.
func parseRecordsTail(b []byte) (recs []record, end int) {
	all := len(b)
	cut := -1 // where a frame that runs past the end starts, if no whole frame follows it
	for {
		i := bytes.Index(b, []byte(recordMagic))
		if i < 0 {
			// The start of a magic, whose frame is on its way?
			for k := len(recordMagic) - 1; k > 0 && cut < 0; k-- {
				if bytes.HasSuffix(b, []byte(recordMagic[:k])) {
					cut = all - k
				}
			}
			break
		}
		if len(b)-i < 12 {
			if cut < 0 {
				cut = all - len(b) + i
			}
			break
		}
		b = b[i:]
		n := binary.LittleEndian.Uint32(b[4:])
		if uint64(n) > uint64(len(b)-12) {
			if cut < 0 && n <= maxRecordFile {
				cut = all - len(b)
			}
			b = b[len(recordMagic):]
			continue
		}
		if crc32.Checksum(b[12:12+n], crc32c) != binary.LittleEndian.Uint32(b[8:]) {
			b = b[len(recordMagic):]
			continue
		}
		if r, ok := parseRecord(b[12 : 12+n]); ok {
			recs = append(recs, r)
		}
		cut = -1
		b = b[12+n:]
	}
	if cut >= 0 {
		return recs, cut
	}
	return recs, all
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
	if len(b) > 0 && b[0] < 0x80 { // the common short text: a one-byte length
		n := int(b[0])
		if n > len(b)-1 {
			return nil, nil, false
		}
		return b[1 : 1+n], b[1+n:], true
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// leavesOf decodes the leaves of r; a record that does not decode has none.
func (r *record) leavesOf() []keyhash.Leaf { return decodeLeaves(r.n, r.leaves, nil) }

// sortedHashes returns the hashes of r's leaves.
func (r *record) sortedHashes() []uint64 {
	out := make([]uint64, r.n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(r.hashes[8*i:])
	}
	return out
}

// decodeLeaves decodes n leaves encoded as in a record, but those whose hash is in the
// sorted list skip, as a multiset: a hash listed once skips one leaf (a set may hold a value
// twice, and the other key once). When they do not decode, it returns none.
func decodeLeaves(n int, b []byte, skip []uint64) []keyhash.Leaf {
	var out []keyhash.Leaf
	var used []bool
	if len(skip) > 0 {
		used = make([]bool, len(skip))
	}
	var path, typ []byte
	for range n {
		l, ok := cutLeaf(b)
		if !ok || l.pathShared > len(path) || l.typeShared > len(typ) {
			return nil
		}
		b = b[l.size:]
		path = append(path[:l.pathShared], l.path...)
		typ = append(typ[:l.typeShared], l.typ...)
		if len(skip) > 0 {
			h := leafHash(path, typ, l.value)
			if i, found := slices.BinarySearch(skip, h); found {
				for i < len(skip) && skip[i] == h && used[i] {
					i++
				}
				if i < len(skip) && skip[i] == h {
					used[i] = true
					continue
				}
			}
		}
		out = append(out, keyhash.Leaf{Path: string(path), Type: string(typ), Value: string(l.value)})
	}
	if out == nil {
		out = []keyhash.Leaf{}
	}
	return out
}

// An encodedLeaf is a leaf of a record as encoded: its path and type each as the length of
// the prefix shared with the previous leaf's and the rest, its value, and the size of its
// encoding.
type encodedLeaf struct {
	pathShared, typeShared int
	path, typ, value       []byte
	size                   int
}

// cutLeaf reads the first leaf of b, encoded as in a record.
func cutLeaf(b []byte) (l encodedLeaf, ok bool) {
	rest := b
	if l.pathShared, l.path, rest, ok = cutSharedBytes(rest); !ok {
		return l, false
	}
	if l.typeShared, l.typ, rest, ok = cutSharedBytes(rest); !ok {
		return l, false
	}
	if l.value, rest, ok = cutText(rest); !ok {
		return l, false
	}
	l.size = len(b) - len(rest)
	return l, true
}

// cutSharedBytes reads what appendShared wrote: the length of the prefix shared with the
// previous string, and the rest.
func cutSharedBytes(b []byte) (shared int, rest, after []byte, ok bool) {
	if len(b) > 0 && b[0] < 0x80 { // the common short prefix: one byte
		rest, after, ok = cutText(b[1:])
		return int(b[0]), rest, after, ok
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxRecordFile { // the caller checks it against the previous string
		return 0, nil, nil, false
	}
	rest, after, ok = cutText(b[k:])
	return int(n), rest, after, ok
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
