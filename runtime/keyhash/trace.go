package keyhash

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// A tracer records, for one digest, every value that enters it with its field path. It is
// only ever created by Hasher.Trace, so the untraced hot path pays one nil check per write.
type tracer struct {
	w       io.Writer
	out     strings.Builder
	frames  []frame
	pending string // field name of the next Begin, set by Field
	note    string // shown beside the next value: its String, set by Note
	// collect makes the tracer record leaves (Leaves) rather than print lines.
	collect bool
	spans   []leafSpan // the leaves collected, as offsets in arena
	arena   []byte     // their paths and values, which Leaves turns into one string
	limit   int        // leaves recorded at most; the later ones cost a check each
	// maxArena bounds the arena: renaming the entries of nested maps copies their leaves'
	// paths at each level, which a deep key would make quadratic.
	maxArena int
	stopped  bool   // a leaf was left out: the later ones are too, even once maps renamed
	pbuf     []byte // scratch for paths
	// prefix is the path of the open frames while prefixOK; every change of the frames
	// clears prefixOK.
	prefix   []byte
	prefixOK bool
	// entries and moved are scratch for putting the entries of a map or set in order.
	entries []entryLeaves
	moved   []leafSpan
}

// entryLeaves is one entry of a map or set being named: its name at arena[id0:id1], its
// leaves at spans[k0:k1].
type entryLeaves struct{ id0, id1, k0, k1 int }

// A leafSpan is a leaf while Leaves collects: where its path and value are in the arena.
type leafSpan struct {
	p0, p1, v0, v1 int
	typ            string
}

// full reports whether the tracer has collected its limit of leaves: the callers then skip
// the work of making one.
func (t *tracer) full() bool {
	if t.collect && !t.stopped && (len(t.spans) >= t.limit || len(t.arena) >= t.maxArena) {
		t.stopped = true
	}
	return t.stopped
}

// takeNote returns the pending note, made safe to show on one line (a String method may
// return anything: control characters are escaped, and a long one is cut), and clears it.
func (t *tracer) takeNote() string {
	n := t.note
	t.note = ""
	if len(n) > maxShown {
		n = n[:maxShown] + "..."
	}
	for _, r := range n {
		if !strconv.IsPrint(r) {
			q := strconv.Quote(n)
			return q[1 : len(q)-1]
		}
	}
	return n
}

type frame struct {
	name string
	elem int // index of the current element of a list, map or set; -1 elsewhere
	// kind is "map" or "set" for a group whose entries Leaves names by their content,
	// and start the index of the frame's first leaf.
	kind  string
	start int
}

// A Leaf is one value that entered a digest, as Leaves reports it: its field path (map and
// set entries named by their content, Flags["-g"], not by their order), its type as the
// source declares it, and its value: shown in full when short (numbers, enums with their
// String, strings up to 64 bytes), as its length and a short SHA-256 otherwise.
type Leaf struct {
	Path, Type, Value string
}

const (
	tracePrefix = "keyhash: "
	maxShown    = 64 // bytes or characters of a long value shown in the trace
)

func (t *tracer) reset() {
	t.out.Reset()
	t.frames = t.frames[:0]
	t.prefixOK = false
	t.pending = ""
	t.note = ""
}

// path returns the dotted path of the open frames, ending with name.
func (t *tracer) path(name string) string {
	t.pbuf = t.appendPath(t.pbuf[:0], name)
	return string(t.pbuf)
}

// appendPath appends the dotted path of the open frames, ending with name, to b. The path
// of the frames is kept until they change: the fields of a struct share it.
func (t *tracer) appendPath(b []byte, name string) []byte {
	if !t.prefixOK {
		t.prefix = t.appendFrames(t.prefix[:0])
		t.prefixOK = true
	}
	b = append(b, t.prefix...)
	if name != "" {
		if len(t.prefix) > 0 {
			b = append(b, '.')
		}
		b = append(b, name...)
	}
	return b
}

// appendFrames appends the dotted path of the open frames to b.
func (t *tracer) appendFrames(b []byte) []byte {
	for i, f := range t.frames {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, f.name...)
		if f.elem >= 0 {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(f.elem), 10)
			b = append(b, ']')
		}
	}
	return b
}

// record notes a leaf (collect mode): its path, and its value as value appends it.
func (t *tracer) record(name, typ string, value func([]byte) []byte) {
	if t.full() {
		t.note = ""
		return
	}
	sp := leafSpan{p0: len(t.arena), typ: typ}
	t.arena = t.appendPath(t.arena, name)
	sp.p1, sp.v0 = len(t.arena), len(t.arena)
	t.arena = value(t.arena)
	if t.note != "" {
		t.arena = append(append(append(t.arena, " ("...), t.takeNote()...), ')')
	}
	sp.v1 = len(t.arena)
	t.spans = append(t.spans, sp)
}

// appendDigest shows a long value by its length and a short SHA-256.
func appendDigest(b, p []byte) []byte {
	sum := sha256.Sum256(p)
	b = strconv.AppendInt(b, int64(len(p)), 10)
	b = append(b, " bytes, sha256 "...)
	return hex.AppendEncode(b, sum[:6])
}

func (t *tracer) line(s string) {
	t.out.WriteString(tracePrefix)
	t.out.WriteString(strings.Repeat("  ", len(t.frames)))
	t.out.WriteString(s)
	t.out.WriteByte('\n')
}

func (t *tracer) begin(typ string, fp uint64) {
	name := t.pending
	t.pending = ""
	if name == "" {
		name = typ[strings.LastIndexByte(typ, '.')+1:]
	}
	if !t.collect {
		t.line(fmt.Sprintf("%s %s fingerprint %016x...", t.path(name), typ, fp))
	}
	t.frames = append(t.frames, frame{name: name, elem: -1})
	t.prefixOK = false
}

func (t *tracer) open(name, kind string, n int) {
	if t.full() {
		t.note = ""
	} else if t.collect {
		t.record(name, kind, func(b []byte) []byte { return strconv.AppendInt(append(b, "len "...), int64(n), 10) })
	} else {
		t.line(fmt.Sprintf("%s %s len %d", t.path(name), kind, n))
	}
	t.frames = append(t.frames, frame{name: name, elem: -1, kind: kind, start: len(t.spans)})
	t.prefixOK = false
}

func (t *tracer) elem(i int) {
	if len(t.frames) > 0 {
		t.frames[len(t.frames)-1].elem = i
		t.prefixOK = false
	}
}

func (t *tracer) pop() {
	if len(t.frames) == 0 {
		return
	}
	if f := t.frames[len(t.frames)-1]; t.collect && (f.kind == "map" || f.kind == "set") && f.start < len(t.spans) {
		f.elem = -1
		t.frames[len(t.frames)-1] = f
		t.prefixOK = false
		t.pbuf = t.appendPath(t.pbuf[:0], "")
		t.nameEntries(t.pbuf, f)
	}
	t.frames = t.frames[:len(t.frames)-1]
	t.prefixOK = false
}

// nameEntries renames the leaves of the entries of the map or set at base, base[i]..., after
// their content: a map entry after its key (whose own leaves then go), a set element after
// its values, and puts the entries in the order of their names. The order they came in is
// Go's iteration order, which means nothing: two listings of one key list the same leaves
// in the same order, and two keys that differ in values only list the same paths. An
// entry's leaves are consecutive (the entries are written one after the other), and the new
// paths go to the end of the arena, so that renaming allocates nothing once the arena and
// the scratch have grown.
func (t *tracer) nameEntries(base []byte, f frame) {
	// entryOf splits the path of a leaf of the group into its entry's index and the rest.
	entryOf := func(sp leafSpan) (index, sub []byte, ok bool) {
		path := t.arena[sp.p0:sp.p1]
		if len(path) <= len(base) || string(path[:len(base)]) != string(base) || path[len(base)] != '[' {
			return nil, nil, false
		}
		return bytes.Cut(path[len(base)+1:], []byte("]"))
	}
	// isKey reports whether a leaf is part of a map entry's key: "key", and below it, or
	// "*key" (what a key of pointer type points to).
	isKey := func(sub []byte) bool {
		if f.kind != "map" {
			return false
		}
		sub, _ = bytes.CutPrefix(sub, []byte("."))
		sub = bytes.TrimLeft(sub, "*")
		rest, ok := bytes.CutPrefix(sub, []byte("key"))
		return ok && (len(rest) == 0 || rest[0] == '.' || rest[0] == '[')
	}
	spans := t.spans[f.start:]
	kept := t.spans[:f.start]
	entries, sortable := t.entries[:0], true
	for i := 0; i < len(spans); {
		index, _, ok := entryOf(spans[i])
		if !ok {
			kept = append(kept, spans[i])
			// A leaf of no entry (a hand-written hash's) before the entries stays first;
			// among them, its place is unknown.
			sortable = sortable && len(entries) == 0
			i++
			continue
		}
		k0 := len(kept)
		// The entry's leaves: spans[i:j].
		j := i + 1
		for ; j < len(spans); j++ {
			if next, _, ok := entryOf(spans[j]); !ok || string(next) != string(index) {
				break
			}
		}
		// Its name, base[key, ...] or base[value, ...], at the end of the arena.
		id0 := len(t.arena)
		t.arena = append(append(t.arena, base...), '[')
		first := true
		for _, sp := range spans[i:j] {
			_, sub, _ := entryOf(sp)
			if isKey(sub) == (f.kind == "map") {
				if !first {
					t.arena = append(t.arena, ", "...)
				}
				first = false
				t.arena = append(t.arena, t.arena[sp.v0:sp.v1]...)
			}
		}
		t.arena = append(t.arena, ']')
		id1 := len(t.arena)
		for _, sp := range spans[i:j] {
			_, sub, _ := entryOf(sp)
			if isKey(sub) {
				continue
			}
			sp.p0 = len(t.arena)
			t.arena = append(t.arena, t.arena[id0:id1]...)
			t.arena = append(t.arena, bytes.TrimPrefix(sub, []byte(".value"))...)
			sp.p1 = len(t.arena)
			kept = append(kept, sp)
		}
		if len(kept) == k0 {
			// All the entry's leaves are in its name (a map[string]struct{}, Go's set):
			// a leaf of its own says it is there.
			v0 := len(t.arena)
			t.arena = append(t.arena, "present"...)
			kept = append(kept, leafSpan{p0: id0, p1: id1, v0: v0, v1: len(t.arena), typ: "entry"})
		}
		entries = append(entries, entryLeaves{id0, id1, k0, len(kept)})
		i = j
	}
	if sortable && len(entries) > 1 {
		// By name, and entries of one name by their leaves: two entries may show alike
		// (NaN keys, keys that differ in a field left out of the key, in a field of a
		// nested key whose own name cuts it), and their order must not be Go's either.
		name := func(e entryLeaves) []byte { return t.arena[e.id0:e.id1] }
		from := entries[0].k0 // where the entries begin in kept, the leaves of none before
		slices.SortFunc(entries, func(a, b entryLeaves) int {
			if c := bytes.Compare(name(a), name(b)); c != 0 {
				return c
			}
			return t.compareLeaves(kept[a.k0:a.k1], kept[b.k0:b.k1])
		})
		t.moved = append(t.moved[:0], kept[from:]...)
		kept = kept[:from]
		for i, e := range entries {
			k0 := len(kept)
			kept = append(kept, t.moved[e.k0-from:e.k1-from]...)
			entries[i].k0, entries[i].k1 = k0, len(kept)
		}
		// Entries that show alike but differ get names of their own, after their leaves,
		// so that no two leaves of different entries have one path: an explanation of a
		// change then names the entry that went and the one that came, rather than
		// pairing the leaves of two different entries.
		for i := 0; i < len(entries); {
			j := i + 1
			for j < len(entries) && bytes.Equal(name(entries[j]), name(entries[i])) {
				j++
			}
			if j-i > 1 {
				for _, e := range entries[i:j] {
					t.distinguish(kept[e.k0:e.k1], e.id1-e.id0)
				}
			}
			i = j
		}
	}
	t.entries = entries
	t.spans = kept
}

// fnvMix mixes the length of s, then its bytes, into the FNV-1a hash h.
func fnvMix[S ~string | ~[]byte](h uint64, s S) uint64 {
	for k := 0; k < 64; k += 8 {
		h = (h ^ (uint64(len(s)) >> k & 0xff)) * 1099511628211
	}
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// compareLeaves orders two lists of leaves by their paths, values and types, in turn.
func (t *tracer) compareLeaves(a, b []leafSpan) int {
	for i := range min(len(a), len(b)) {
		x, y := a[i], b[i]
		if c := bytes.Compare(t.arena[x.p0:x.p1], t.arena[y.p0:y.p1]); c != 0 {
			return c
		}
		if c := bytes.Compare(t.arena[x.v0:x.v1], t.arena[y.v0:y.v1]); c != 0 {
			return c
		}
		if c := strings.Compare(x.typ, y.typ); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// EntryMark begins what a listing of leaves (Leaves, VisitLeaves) adds to the name of a map
// entry or set element that another one of the same map or set shows alike (NaN keys, keys
// that differ in a field left out of the key): "base[key ·h]", h the 16 hex digits of a
// 64-bit hash of the entry's leaves (their paths below the entry, types and values). A
// miss explainer that compares two keys may read a path without these marks: an entry that
// was alone in its key and has look-alikes in the other is then the same entry. (A key
// string holding such a mark and its digits reads the same way.)
const EntryMark = " \u00b7"

// distinguish renames the leaves of an entry whose name, the first n bytes of each of their
// paths, "base[key]", another entry shows too: to "base[key ·h]" (EntryMark). Entries that
// are alike in every leaf get one name; as they are alike, no explanation can pair them
// wrongly.
func (t *tracer) distinguish(leaves []leafSpan, n int) {
	h := uint64(14695981039346656037)
	for _, sp := range leaves {
		h = fnvMix(h, t.arena[sp.p0+n:sp.p1])
		h = fnvMix(h, sp.typ)
		h = fnvMix(h, t.arena[sp.v0:sp.v1])
	}
	for i, sp := range leaves {
		p0 := len(t.arena)
		t.arena = append(t.arena, t.arena[sp.p0:sp.p0+n-1]...) // "base[key"
		t.arena = append(t.arena, EntryMark...)
		for k := 60; k >= 0; k -= 4 {
			t.arena = append(t.arena, "0123456789abcdef"[h>>k&0xf])
		}
		t.arena = append(t.arena, ']')
		t.arena = append(t.arena, t.arena[sp.p0+n:sp.p1]...)
		leaves[i].p0, leaves[i].p1 = p0, len(t.arena)
	}
}

// appendValue appends v as fmt.Sprint formats it, without fmt for the common kinds.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int8:
		return strconv.AppendInt(b, int64(v), 10)
	case int16:
		return strconv.AppendInt(b, int64(v), 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case uint:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case string:
		return append(b, v...)
	}
	return fmt.Append(b, v)
}

// declared splits a value's name as generated code writes it for a named type, "Target
// api.Target", into the field name and the declared type, which the trace shows instead of
// the basic type the Hasher writes.
func declared(name, typ string) (string, string) {
	if field, named, ok := strings.Cut(name, " "); ok {
		return field, named
	}
	return name, typ
}

// annotated returns s followed by the pending note, in parentheses, and clears it.
func (t *tracer) annotated(s string) string {
	if t.note != "" {
		s += " (" + t.takeNote() + ")"
	}
	return s
}

func (t *tracer) valuef(name, typ string, v any) {
	if t.full() {
		t.note = ""
		return
	}
	name, typ = declared(name, typ)
	if t.collect {
		t.record(name, typ, func(b []byte) []byte { return appendValue(b, v) })
		return
	}
	t.line(t.annotated(fmt.Sprintf("%s %s = %v", t.path(name), typ, v)))
}

// valueInt is valuef for integers, which a leaf lists without boxing them (a boxed integer
// past 255 is an allocation).
func (t *tracer) valueInt(name, typ string, v int64) {
	traceInteger(t, name, typ, v, func(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) })
}

// valueUint is valueInt for unsigned integers.
func (t *tracer) valueUint(name, typ string, v uint64) {
	traceInteger(t, name, typ, v, func(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) })
}

// traceInteger traces the integer v, which appendTo writes in decimal.
func traceInteger[T int64 | uint64](t *tracer, name, typ string, v T, appendTo func([]byte, T) []byte) {
	if !t.collect {
		t.valuef(name, typ, v)
		return
	}
	if t.full() {
		t.note = ""
		return
	}
	name, typ = declared(name, typ)
	t.record(name, typ, func(b []byte) []byte { return appendTo(b, v) })
}

func (t *tracer) quoted(name, typ, s string) {
	if t.full() {
		t.note = ""
		return
	}
	name, typ = declared(name, typ)
	if t.collect {
		t.record(name, typ, func(b []byte) []byte {
			if len(s) > maxShown {
				return appendDigest(b, unsafe.Slice(unsafe.StringData(s), len(s))) // read only: no copy
			}
			return appendQuoted(b, s)
		})
		return
	}
	shown := s
	if len(shown) > maxShown {
		shown = shown[:maxShown]
	}
	q := strconv.Quote(shown)
	if len(s) > maxShown {
		q += fmt.Sprintf("... (%d bytes)", len(s))
	}
	t.line(t.annotated(fmt.Sprintf("%s %s = %s", t.path(name), typ, q)))
}

func (t *tracer) bytes(name, typ string, p []byte) {
	if t.full() {
		return
	}
	name, typ = declared(name, typ)
	if t.collect {
		t.record(name, typ, func(b []byte) []byte {
			if len(p) <= 16 {
				return hex.AppendEncode(b, p)
			}
			return appendDigest(b, p)
		})
		return
	}
	shown := p
	if len(shown) > maxShown {
		shown = shown[:maxShown]
	}
	s := hex.EncodeToString(shown)
	if len(p) > maxShown {
		s += "..."
	}
	t.line(fmt.Sprintf("%s %s = %s (%d bytes)", t.path(name), typ, s, len(p)))
}

func (t *tracer) presence(name string, present bool) {
	v := "nil"
	if present {
		v = "present"
	}
	if t.full() {
		return
	}
	if t.collect {
		t.record(name, "pointer", func(b []byte) []byte { return append(b, v...) })
		return
	}
	t.line(fmt.Sprintf("%s pointer = %s", t.path(name), v))
}

func (t *tracer) finish(d Digest) {
	if t.collect {
		return
	}
	t.frames = t.frames[:0]
	t.prefixOK = false
	t.out.WriteString(tracePrefix + "= " + d.String() + "\n")
	io.WriteString(t.w, t.out.String())
	t.out.Reset()
}

// Leaves returns the first max values that enter the digest of k (all of them when max <=
// 0), in order, with their field path and type: what a miss explainer compares between two
// keys. A map's entries are named after their keys and a set's elements after their values,
// and come in the order of their names, whatever the order Go iterates them in; entries that
// would show alike are told apart by EntryMark and a hash, and an entry whose leaves are all
// in its name (a map[string]struct{}) is one leaf of type "entry" and value "present". It
// is for the miss path, not the hot path: it builds a string per value, and a value
// past max costs about a check. VisitLeaves lists the same without the strings.
func Leaves(k Key, max int) []Leaf {
	var arena []byte
	type span struct {
		p, v int
		typ  string
	}
	var spans []span
	VisitLeaves(k, max, 0, func(path []byte, typ string, value []byte) {
		arena = append(arena, path...)
		p := len(arena)
		arena = append(arena, value...)
		spans = append(spans, span{p, len(arena), typ})
	})
	all := string(arena)
	leaves := make([]Leaf, len(spans))
	start := 0
	for i, sp := range spans {
		leaves[i] = Leaf{Path: all[start:sp.p], Type: sp.typ, Value: all[sp.p:sp.v]}
		start = sp.v
	}
	return leaves
}

// leafPool holds Hashers set up to collect leaves, with the buffers they grew, for
// VisitLeaves.
var leafPool = sync.Pool{New: func() any {
	return &Hasher{buf: make([]byte, flushAt), lim: flushAt, sha: noDigest{}, tr: &tracer{collect: true}}
}}

// noDigest is the hash of the Hashers that only list leaves: the digest is not wanted, and
// SHA-256 would double the cost.
type noDigest struct{}

func (noDigest) Write(p []byte) (int, error) { return len(p), nil }
func (noDigest) Sum(b []byte) []byte         { return append(b, make([]byte, sha256.Size)...) }
func (noDigest) Reset()                      {}
func (noDigest) Size() int                   { return sha256.Size }
func (noDigest) BlockSize() int              { return sha256.BlockSize }

// VisitLeaves calls visit for each of the first max values that enter the digest of k (all
// of them when max <= 0), in order: the leaves that Leaves returns, as its path, its type
// and its value as Leaves shows them. It stops early, once it has listed about maxBytes
// bytes of paths and values (no bound when maxBytes <= 0), and reports whether it listed
// every leaf. The slices passed to visit are valid only during the call. Once its buffers
// have grown to the size of k's leaves it allocates nothing for strings, byte slices,
// integers, booleans and the lists, maps and structs of them, so a cache can record the
// leaves of every key it stores; a floating-point, complex or time value costs an
// allocation, and so does what the key's String methods allocate.
func VisitLeaves(k Key, max, maxBytes int, visit func(path []byte, typ string, value []byte)) (all bool) {
	if max <= 0 {
		max = math.MaxInt
	}
	if maxBytes <= 0 {
		maxBytes = math.MaxInt
	}
	h := leafPool.Get().(*Hasher)
	t := h.tr
	t.limit, t.maxArena, t.stopped = max, maxBytes, false
	// A panic in HashKey (a String method's) leaves h out of the pool: its state is
	// unknown.
	k.HashKey(h)
	h.Sum()
	for _, sp := range t.spans {
		visit(t.arena[sp.p0:sp.p1], sp.typ, t.arena[sp.v0:sp.v1])
	}
	all = !t.stopped
	t.spans, t.arena = t.spans[:0], t.arena[:0]
	h.Reset()
	if h.small() && cap(t.arena) <= maxPooled && cap(t.spans)*int(unsafe.Sizeof(leafSpan{})) <= maxPooled &&
		cap(t.pbuf) <= maxPooled {
		leafPool.Put(h)
	}
	return all
}

// appendQuoted appends s quoted as strconv.AppendQuote does, without its rune by rune work
// for the common string of printable ASCII that needs no escape.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
