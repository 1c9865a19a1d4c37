package keyhash

import (
	"encoding/hex"
	"fmt"
	"io"
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
}

type frame struct {
	name string
	elem int // index of the current element of a list, map or set; -1 elsewhere
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
	var b strings.Builder
	for i, f := range t.frames {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.name)
		if f.elem >= 0 {
			fmt.Fprintf(&b, "[%d]", f.elem)
		}
	}
	if name != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(name)
	}
	return b.String()
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
	t.line(fmt.Sprintf("%s %s fingerprint %016x...", t.path(name), typ, fp))
	t.frames = append(t.frames, frame{name: name, elem: -1})
}

func (t *tracer) open(name, kind string, n int) {
	t.line(fmt.Sprintf("%s %s len %d", t.path(name), kind, n))
	t.frames = append(t.frames, frame{name: name, elem: -1})
}

func (t *tracer) elem(i int) {
	if len(t.frames) > 0 {
		t.frames[len(t.frames)-1].elem = i
	}
}

func (t *tracer) pop() {
	if len(t.frames) > 0 {
		t.frames = t.frames[:len(t.frames)-1]
	}
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
		s += " (" + t.note + ")"
		t.note = ""
	}
	return s
}

func (t *tracer) valuef(name, typ string, v any) {
	name, typ = declared(name, typ)
	t.line(t.annotated(fmt.Sprintf("%s %s = %v", t.path(name), typ, v)))
}

func (t *tracer) quoted(name, typ, s string) {
	name, typ = declared(name, typ)
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
	name, typ = declared(name, typ)
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
	t.line(fmt.Sprintf("%s pointer = %s", t.path(name), v))
}

func (t *tracer) finish(d Digest) {
	t.frames = t.frames[:0]
	t.out.WriteString(tracePrefix + "= " + d.String() + "\n")
	io.WriteString(t.w, t.out.String())
	t.out.Reset()
}
