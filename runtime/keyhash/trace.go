package keyhash

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
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
	leaves  []Leaf
	limit   int    // leaves recorded at most; the later ones cost a check each
	pbuf    []byte // scratch for paths and values
}

// full reports whether the tracer has collected its limit of leaves: the callers then skip
// the work of making one.
func (t *tracer) full() bool { return t.collect && len(t.leaves) >= t.limit }

// takeNote returns the pending note, made safe to show on one line (a String method may
// return anything: control characters are escaped, and a long one is cut), and clears it.
func (t *tracer) takeNote() string {
	n := t.note
	t.note = ""
	if len(n) > maxShown {
		n = n[:maxShown] + "..."
	}
	for _, r := range n {
		if !strconv.IsPrint(r) || r == '\t' {
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
	t.pending = ""
	t.note = ""
}

// path returns the dotted path of the open frames, ending with name.
func (t *tracer) path(name string) string {
	t.pbuf = t.appendPath(t.pbuf[:0], name)
	return string(t.pbuf)
}

// appendPath appends the dotted path of the open frames, ending with name, to b.
func (t *tracer) appendPath(b []byte, name string) []byte {
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
	if name != "" {
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, name...)
	}
	return b
}

// record notes a leaf (collect mode).
func (t *tracer) record(name, typ, value string) {
	if t.note != "" {
		value += " (" + t.takeNote() + ")"
	}
	if len(t.leaves) < t.limit {
		t.leaves = append(t.leaves, Leaf{Path: t.path(name), Type: typ, Value: value})
	}
}

// digestOf shows a long value by its length and a short SHA-256.
func digestOf(p []byte) string {
	sum := sha256.Sum256(p)
	b := strconv.AppendInt(make([]byte, 0, 40), int64(len(p)), 10)
	b = append(b, " bytes, sha256 "...)
	return string(hex.AppendEncode(b, sum[:6]))
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
}

func (t *tracer) open(name, kind string, n int) {
	if t.full() {
		t.note = ""
	} else if t.collect {
		t.record(name, kind, "len "+strconv.Itoa(n))
	} else {
		t.line(fmt.Sprintf("%s %s len %d", t.path(name), kind, n))
	}
	t.frames = append(t.frames, frame{name: name, elem: -1, kind: kind, start: len(t.leaves)})
}

func (t *tracer) elem(i int) {
	if len(t.frames) > 0 {
		t.frames[len(t.frames)-1].elem = i
	}
}

func (t *tracer) pop() {
	if len(t.frames) == 0 {
		return
	}
	if f := t.frames[len(t.frames)-1]; t.collect && (f.kind == "map" || f.kind == "set") {
		f.elem = -1
		t.frames[len(t.frames)-1] = f
		t.nameEntries(t.path(""), f)
	}
	t.frames = t.frames[:len(t.frames)-1]
}

// nameEntries renames the leaves of the entries of the map or set at base, base[i]..., after
// their content: a map entry after its key (whose own leaves then go), a set element after
// its values. The order of a map's entries is Go's iteration order, which means nothing.
func (t *tracer) nameEntries(base string, f frame) {
	type entry struct{ id, keys []string }
	entries := map[string]*entry{}
	var order []string
	for _, l := range t.leaves[f.start:] {
		rest, ok := strings.CutPrefix(l.Path, base+"[")
		if !ok {
			continue
		}
		i, sub, ok := strings.Cut(rest, "]")
		if !ok {
			continue
		}
		e := entries[i]
		if e == nil {
			e = &entry{}
			entries[i] = e
			order = append(order, i)
		}
		if f.kind == "map" && (sub == ".key" || strings.HasPrefix(sub, ".key.") || strings.HasPrefix(sub, ".key[")) {
			e.keys = append(e.keys, l.Value)
		} else {
			e.id = append(e.id, l.Value)
		}
	}
	ids := map[string]string{}
	for _, i := range order {
		e := entries[i]
		id := e.keys
		if f.kind == "set" {
			id = e.id
		}
		ids[i] = base + "[" + strings.Join(id, ", ") + "]"
	}
	kept := t.leaves[:f.start]
	for _, l := range t.leaves[f.start:] {
		if rest, ok := strings.CutPrefix(l.Path, base+"["); ok {
			if i, sub, ok := strings.Cut(rest, "]"); ok {
				if f.kind == "map" && (sub == ".key" || strings.HasPrefix(sub, ".key.") || strings.HasPrefix(sub, ".key[")) {
					continue
				}
				l.Path = ids[i] + strings.TrimPrefix(sub, ".value")
			}
		}
		kept = append(kept, l)
	}
	t.leaves = kept
}

// formatValue formats v as fmt.Sprint does, without fmt for the common kinds.
func formatValue(v any) string {
	switch v := v.(type) {
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int8:
		return strconv.FormatInt(int64(v), 10)
	case int16:
		return strconv.FormatInt(int64(v), 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint:
		return strconv.FormatUint(uint64(v), 10)
	case uint8:
		return strconv.FormatUint(uint64(v), 10)
	case uint16:
		return strconv.FormatUint(uint64(v), 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	}
	return fmt.Sprint(v)
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
		t.record(name, typ, formatValue(v))
		return
	}
	t.line(t.annotated(fmt.Sprintf("%s %s = %v", t.path(name), typ, v)))
}

func (t *tracer) quoted(name, typ, s string) {
	if t.full() {
		t.note = ""
		return
	}
	name, typ = declared(name, typ)
	if t.collect {
		if len(s) > maxShown {
			t.record(name, typ, digestOf([]byte(s)))
		} else {
			t.record(name, typ, strconv.Quote(s))
		}
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
		if len(p) <= 16 {
			t.record(name, typ, hex.EncodeToString(p))
		} else {
			t.record(name, typ, digestOf(p))
		}
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
		t.record(name, "pointer", v)
		return
	}
	t.line(fmt.Sprintf("%s pointer = %s", t.path(name), v))
}

func (t *tracer) finish(d Digest) {
	if t.collect {
		return
	}
	t.frames = t.frames[:0]
	t.out.WriteString(tracePrefix + "= " + d.String() + "\n")
	io.WriteString(t.w, t.out.String())
	t.out.Reset()
}

// Leaves returns the first max values that enter the digest of k (all of them when max <=
// 0), in order, with their field path and type: what a miss explainer compares between two
// keys. It is for the miss path, not the hot path: it builds a string per value, and a value
// past max costs about a check.
func Leaves(k Key, max int) []Leaf {
	if max <= 0 {
		max = math.MaxInt
	}
	h := New()
	h.tr = &tracer{collect: true, limit: max, leaves: make([]Leaf, 0, min(max, 64))}
	k.HashKey(h)
	h.Sum()
	return h.tr.leaves
}
