package gen

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"go/types"
	"strings"
)

// schemaVersion is mixed into every fingerprint. Bump it when the encoding of any kind
// changes, so that digests computed by older generated code are never reused.
//
// v3: the fingerprint describes the whole shape of the key (named types by their structure,
// recursively), not the names of its field types.
const schemaVersion = "cachegen key schema v3"

// Fingerprint returns the schema fingerprint of s: a SHA-256 over a description of the whole
// shape its HashKey depends on. That is its package path, name and type parameters, and every
// field's name, embedding, cache options and type, where a type is described by its
// structure, down to the basic types: a named type by its name and what it is (so that
// `type Mode int32` becoming `type Mode float32`, or a nested struct gaining a field, changes
// the fingerprint), a recursive type by a reference back to its description. Excluded fields
// are described by their name and type only. Generated code writes the fingerprint first, so
// that two key types never share an encoding and any change to the schema changes every
// digest.
func (s *Struct) Fingerprint() [4]uint64 {
	sum := sha256.Sum256([]byte(s.Schema()))
	var fp [4]uint64
	for i := range fp {
		fp[i] = binary.LittleEndian.Uint64(sum[8*i:])
	}
	return fp
}

// Schema returns the text that Fingerprint hashes.
func (s *Struct) Schema() string {
	d := &describer{ids: map[*Node]int{}, structs: map[*Struct]int{}}
	fmt.Fprintf(&d.b, "%s\n", schemaVersion)
	d.structBody(s, nil)
	return d.b.String()
}

// describer writes the description of a shape. Each named type is described in full the
// first time and by its number afterwards, which makes the description of a recursive type
// finite and of a shared one short.
type describer struct {
	b       strings.Builder
	ids     map[*Node]int
	structs map[*Struct]int
	depth   int
}

func (d *describer) line(format string, args ...any) {
	d.b.WriteString(strings.Repeat("  ", d.depth))
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteByte('\n')
}

// structBody describes a named struct: its identity, then each field. n is the instance
// that reached it (nil for the struct being fingerprinted).
func (d *describer) structBody(s *Struct, n *Node) {
	if id, ok := d.structs[s]; ok {
		d.line("struct #%d", id)
		return
	}
	d.structs[s] = len(d.structs) + 1
	head := fmt.Sprintf("struct #%d %s.%s", d.structs[s], s.Obj.Pkg().Path(), s.Name())
	if tp := s.Named.TypeParams(); tp.Len() > 0 {
		for i := range tp.Len() {
			p := tp.At(i)
			head += fmt.Sprintf(" [%s %s]", p.Obj().Name(), types.TypeString(p.Constraint(), nil))
		}
	}
	d.line("%s", head)
	if s.unusable != "" {
		d.line("unusable")
	}
	d.fields(s.Fields)
}

func (d *describer) fields(fields []*Field) {
	d.depth++
	for _, f := range fields {
		opts := ""
		switch {
		case f.Skip:
			opts = "-"
		case f.Set:
			opts = "set"
		}
		if f.Node == nil {
			d.line("field %q embedded=%t opts=%q type=%s", f.Name(), f.Embedded(), opts, types.TypeString(f.Var.Type(), nil))
			continue
		}
		d.line("field %q embedded=%t opts=%q", f.Name(), f.Embedded(), opts)
		d.depth++
		d.node(f.Node)
		d.depth--
	}
	d.depth--
}

// node describes one shape.
func (d *describer) node(n *Node) {
	switch n.Kind {
	case KindBasic:
		d.line("%s", types.Typ[n.Basic].Name())
	case KindTime:
		d.line("time.Time")
	case KindDuration:
		d.line("time.Duration")
	case KindPointer, KindSlice, KindArray, KindMap:
		switch n.Kind {
		case KindPointer:
			d.line("pointer")
		case KindSlice:
			d.line("slice")
		case KindArray:
			d.line("array %d", n.Len)
		case KindMap:
			d.line("map")
		}
		d.depth++
		if n.Key != nil {
			d.node(n.Key)
		}
		d.node(n.Elem)
		d.depth--
	case KindStruct:
		d.line("struct")
		d.fields(n.Fields)
	case KindNamed:
		if id, ok := d.ids[n]; ok {
			d.line("named #%d", id)
			return
		}
		d.ids[n] = len(d.ids) + 1
		d.line("named #%d %s", d.ids[n], types.TypeString(n.Named, nil))
		d.depth++
		if n.Struct != nil {
			d.structBody(n.Struct, n)
		} else {
			d.node(n.Under)
		}
		d.depth--
	case KindHashKey:
		d.line("hashkey %s", types.TypeString(n.Named, nil))
	case KindCustom:
		d.line("hashed by %s.%s", n.Func.Pkg().Path(), n.Func.Name())
		d.depth++
		d.node(n.Under)
		d.depth--
	case KindMarshal:
		d.line("encoded %s %s", types.TypeString(n.Named, nil), n.Method)
	case KindInterface, KindTypeParam:
		d.line("dynamic %s", types.TypeString(n.Type, nil))
	default:
		d.line("unsupported %s", types.TypeString(n.Type, nil))
	}
}
