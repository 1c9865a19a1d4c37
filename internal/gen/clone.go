package gen

import (
	"fmt"
	"go/types"
	"reflect"
	"strings"

	"github.com/dave/jennifer/jen"
)

// cloneMethod is the name of the deep-copy method generated for value structs. The cache's
// memory tier looks for it (cache.Cloner) to keep a decoded value and hand out copies of it
// instead of decoding the value's encoding on every hit.
const cloneMethod = "CachegenClone"

// sizeMethod is the name of the method generated beside CachegenClone that estimates the
// heap bytes a decoded value retains beyond its own struct: the memory tier charges them to
// its budget when it keeps the value decoded.
const sizeMethod = "CachegenSize"

// reuseMethodName is the name of the marker method generated for value structs whose UnmarshalMsg
// is cachegen's own code throughout: it leaves nothing in its receiver that points into the
// receiver, so the memory tier may decode into a pooled target and copy the value out.
const reuseMethodName = "CachegenReusable"

// cloneFuncs returns the CachegenClone methods of the structs of set that can have one, and
// a comment naming those that cannot and why. A CachegenClone returns what decoding the
// struct's msgp encoding would return: the same values, sharing nothing mutable with the
// receiver, with the same nil and empty slices and maps (msgp decodes a []byte and a map
// as non-nil, any other empty slice as nil) and times in UTC without a monotonic reading.
// A struct gets none when a field's type is one whose copy cachegen cannot derive from the
// model (an interface, a type with hand-written msgp methods or another package's struct, a
// named slice, map or pointer type) or whose msgp tag options change what decoding
// produces; a struct holding one of those gets none either.
func cloneFuncs(pkg *Package, set []*Struct) []jen.Code {
	c := &cloner{pkg: pkg, in: map[*Struct]bool{}, why: map[*Struct]string{}}
	for _, s := range set {
		c.in[s] = true
	}
	for _, s := range set {
		if why := c.structWhy(s); why != "" {
			c.why[s] = why
		}
	}
	// What holds a struct without a copy has none either, until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, s := range set {
			if c.why[s] != "" {
				continue
			}
			for _, f := range s.Fields {
				if !f.serialized() {
					continue
				}
				if r := c.blocked(f.valNode(pkg.model, s.Name())); r != nil {
					c.why[s] = fmt.Sprintf("field %s holds %s, which has none", f.Name(), r.Name())
					changed = true
					break
				}
			}
		}
	}
	var out []jen.Code
	var none []string
	for _, s := range set {
		if why := c.why[s]; why != "" {
			none = append(none, fmt.Sprintf("%s has no %s: %s. The cache decodes its encoding on every memory hit.", s.Name(), cloneMethod, why))
		}
	}
	head := fmt.Sprintf("Deep copies for the cache's memory tier (cache.Cloner): %s returns what decoding the value's msgp encoding would return.", cloneMethod)
	text := wrapComment(head)
	for _, l := range none {
		text += "\n" + wrapComment(l)
	}
	out = append(out, comments(text))
	for _, s := range set {
		if c.why[s] == "" {
			out = append(out, c.method(s), c.sizeMethod(s))
		}
	}
	for _, s := range set {
		if c.reusable(s, map[*Struct]bool{}) {
			out = append(out, reuseMethod(s))
		}
	}
	return out
}

// A cloner decides which structs get a CachegenClone and writes them.
type cloner struct {
	pkg *Package
	in  map[*Struct]bool   // the structs that get msgp serializers in this file
	why map[*Struct]string // why a struct of in gets no CachegenClone
	n   int                // counter for local names
}

// structWhy returns why s cannot have a CachegenClone by its own fields, or "".
func (c *cloner) structWhy(s *Struct) string {
	if conflict := declaredName(s, cloneMethod); conflict != "" {
		return "it declares " + conflict
	}
	for i, f := range s.Fields {
		if !f.serialized() {
			continue
		}
		if why := tagOptionsWhy(s.Type.Tag(i)); why != "" {
			return "field " + f.Name() + " " + why
		}
		n := f.valNode(c.pkg.model, s.Name())
		if why := c.nodeWhy(n); why != "" {
			return "field " + f.Name() + " " + why
		}
		if !c.pkg.code.nameable(f.Var.Type()) {
			return "field " + f.Name() + " has a type this package cannot name"
		}
	}
	return ""
}

// tagOptionsWhy refuses msgp tag options: omitempty, omitzero and allownil change what
// decoding produces from what a plain copy gives.
func tagOptionsWhy(tag string) string {
	for _, key := range []string{"msg", "msgpack"} {
		if val, ok := reflect.StructTag(tag).Lookup(key); ok && strings.Contains(val, ",") {
			return fmt.Sprintf("has tag options (%s:%q), which change what decoding produces", key, val)
		}
	}
	return ""
}

// nodeWhy returns why a value of node n cannot be copied by generated code, or "".
func (c *cloner) nodeWhy(n *Node) string {
	switch n.Kind {
	case KindBasic, KindTime, KindDuration:
		return ""
	case KindNamed, KindHashKey:
		if n.Struct != nil && c.in[n.Struct] && !n.Msgp {
			return "" // its own CachegenClone, decided by the fixpoint
		}
		if n.Under != nil && n.Under.Kind == KindBasic && !n.Msgp {
			return "" // an enum: copied by assignment
		}
		if n.Msgp {
			return "has hand-written or foreign msgp methods, whose copy cachegen cannot know"
		}
		return "is of a named type that is not a struct of this file or a basic type"
	case KindPointer:
		return c.nodeWhy(n.Elem)
	case KindSlice:
		if n.Elem.Kind != KindBasic && n.Elem.Under != nil && isByteNode(n.Elem.Under) {
			return "is a slice of a named byte type"
		}
		return c.nodeWhy(n.Elem)
	case KindArray:
		return c.nodeWhy(n.Elem)
	case KindMap:
		if n.Key.Kind != KindBasic {
			return "has a map key that is not a basic type"
		}
		return c.nodeWhy(n.Elem)
	case KindStruct:
		st := n.Type.(*types.Struct)
		for i, f := range n.Fields {
			if f.Name() == "_" {
				continue
			}
			if why := tagOptionsWhy(st.Tag(i)); why != "" {
				return why
			}
			if why := c.nodeWhy(f.valNode(c.pkg.model, "")); why != "" {
				return why
			}
		}
		return ""
	case KindInterface:
		return "is an interface, whose dynamic value cachegen cannot copy"
	}
	return "is of a kind cachegen does not copy"
}

// blocked returns a struct of the file without a CachegenClone that n reaches, or nil.
func (c *cloner) blocked(n *Node) *Struct {
	var found *Struct
	walkNodes(n, map[*Node]bool{}, func(n *Node) bool {
		if found != nil {
			return false
		}
		if n.Struct != nil && c.in[n.Struct] {
			if c.why[n.Struct] != "" {
				found = n.Struct
			}
			return false // its own method: its fields are its concern
		}
		return true
	})
	return found
}

// flat reports whether assignment copies a value of n completely and as decoding would
// produce it: nothing mutable is shared, and nothing needs normalising.
func (c *cloner) flat(n *Node) bool {
	switch n.Kind {
	case KindBasic, KindDuration:
		return true
	case KindNamed, KindHashKey:
		if n.Under != nil && n.Under.Kind == KindBasic {
			return true
		}
		if s := n.Struct; s != nil {
			for _, f := range s.Fields {
				if !f.serialized() || !c.flat(f.valNode(c.pkg.model, s.Name())) {
					return false
				}
			}
			return true
		}
		return false
	case KindArray:
		return c.flat(n.Elem)
	case KindStruct:
		for _, f := range n.Fields {
			if f.Name() == "_" || !c.flat(f.valNode(c.pkg.model, "")) {
				return false
			}
		}
		return true
	}
	return false
}

// local returns a fresh local name. The names have the form msgp's generated code uses
// (z, two letters, four digits), which cachegen refuses as type names, so none can shadow a
// type the code names.
func (c *cloner) local(kind byte) string {
	c.n++
	return fmt.Sprintf("z%c%04d", kind, c.n)
}

// cloneResult names the copy a CachegenClone returns: of the form of the locals (local), which
// no type or package of the code can have, as a plainer name such as zc could.
const cloneResult = "zr0000"

// spelledByte reports whether n, a uint8, was written byte: msgp tells []byte (binary) from
// []uint8 (an array) by the spelling.
func spelledByte(n *Node) bool {
	b, ok := n.Type.(*types.Basic)
	return ok && b.Name() == "byte"
}

// method writes the CachegenClone method of s.
func (c *cloner) method(s *Struct) jen.Code {
	c.n = 0
	var body []jen.Code
	for _, f := range s.Fields {
		if !f.serialized() {
			continue
		}
		n := f.valNode(c.pkg.model, s.Name())
		body = append(body, c.assign(jen.Id(cloneResult).Dot(f.Name()), jen.Id("z").Dot(f.Name()), n)...)
	}
	body = append(body, jen.Return())
	doc := fmt.Sprintf("%s returns a deep copy of z, equal to what decoding z's msgp encoding returns: it shares nothing that can be modified with z.", cloneMethod)
	return comments(wrapComment(doc)).
		Func().Params(jen.Id("z").Op("*").Id(s.Name())).Id(cloneMethod).Params().Params(jen.Id(cloneResult).Id(s.Name())).
		Block(body...)
}

// assign returns the statements that set dst (zero before) to a copy of src, a value of n.
// src is addressable.
func (c *cloner) assign(dst, src *jen.Statement, n *Node) []jen.Code {
	if c.flat(n) {
		return []jen.Code{jen.Add(dst).Op("=").Add(src)}
	}
	switch n.Kind {
	case KindTime:
		return []jen.Code{jen.Add(dst).Op("=").Add(src).Dot("UTC").Call()}
	case KindNamed, KindHashKey:
		return []jen.Code{jen.Add(dst).Op("=").Add(src).Dot(cloneMethod).Call()}
	case KindPointer:
		e := c.local('e')
		inner := []jen.Code{jen.Var().Id(e).Add(c.pkg.code.typ(n.Elem.Type))}
		inner = append(inner, c.assign(jen.Id(e), jen.Parens(jen.Op("*").Add(src)), n.Elem)...)
		inner = append(inner, jen.Add(dst).Op("=").Op("&").Id(e))
		return []jen.Code{jen.If(jen.Add(src).Op("!=").Nil()).Block(inner...)}
	case KindSlice:
		typ := c.pkg.code.typ(n.Type)
		// make and copy between locals, in consecutive statements, is compiled as one
		// allocation that is not zeroed first (for elements without pointers).
		from, l := c.local('f'), c.local('s')
		copied := []jen.Code{
			jen.Id(from).Op(":=").Add(src),
			jen.Id(l).Op(":=").Make(typ, jen.Len(jen.Id(from))),
			jen.Copy(jen.Id(l), jen.Id(from)),
			jen.Add(dst).Op("=").Id(l),
		}
		if isByteNode(n.Elem) && spelledByte(n.Elem) {
			// msgp decodes a []byte as non-nil, empty or not; a []uint8 is an array to
			// it, and decodes empty as nil like any other slice.
			return copied
		}
		var inner []jen.Code
		if c.flat(n.Elem) {
			inner = copied
		} else {
			inner = []jen.Code{jen.Add(dst).Op("=").Make(typ, jen.Len(src))}
			i := c.local('i')
			inner = append(inner, jen.For(jen.Id(i).Op(":=").Range().Add(src)).Block(
				c.assign(jen.Add(dst).Index(jen.Id(i)), jen.Add(src).Index(jen.Id(i)), n.Elem)...))
		}
		// msgp decodes any other empty slice as nil.
		return []jen.Code{jen.If(jen.Len(src).Op(">").Lit(0)).Block(inner...)}
	case KindArray:
		i := c.local('i')
		return []jen.Code{jen.For(jen.Id(i).Op(":=").Range().Add(src)).Block(
			c.assign(jen.Add(dst).Index(jen.Id(i)), jen.Add(src).Index(jen.Id(i)), n.Elem)...)}
	case KindMap:
		// msgp decodes a map as non-nil, empty or not.
		typ := c.pkg.code.typ(n.Type)
		if c.flat(n.Elem) {
			return []jen.Code{jen.If(jen.Add(src).Op("==").Nil()).Block(
				jen.Add(dst).Op("=").Add(typ).Values(),
			).Else().Block(
				jen.Add(dst).Op("=").Qual("maps", "Clone").Call(src),
			)}
		}
		k, v, e := c.local('k'), c.local('v'), c.local('e')
		loop := []jen.Code{jen.Var().Id(e).Add(c.pkg.code.typ(n.Elem.Type))}
		loop = append(loop, c.assign(jen.Id(e), jen.Id(v), n.Elem)...)
		loop = append(loop, jen.Add(dst).Index(jen.Id(k)).Op("=").Id(e))
		return []jen.Code{
			jen.Add(dst).Op("=").Make(typ, jen.Len(src)),
			jen.For(jen.List(jen.Id(k), jen.Id(v)).Op(":=").Range().Add(src)).Block(loop...),
		}
	case KindStruct:
		var out []jen.Code
		for _, f := range n.Fields {
			if f.Name() == "_" {
				continue
			}
			out = append(out, c.assign(jen.Add(dst).Dot(f.Name()), jen.Add(src).Dot(f.Name()), f.valNode(c.pkg.model, ""))...)
		}
		return out
	}
	panic(fmt.Sprintf("cachegen: no copy for %v", n.Type))
}

// sizes are the sizes CachegenSize counts with: those of gc on 64-bit platforms (on 32-bit
// ones the estimate is high, which errs on the side of the budget).
var sizes = types.SizesFor("gc", "amd64")

// Map costs in CachegenSize: a map's header, and per entry its key and value with a byte of
// control, times 3/2 for free slots (load factor and growth by doubling); a map that is not
// empty counts at least mapMinEntries entries, the group a small map allocates.
const (
	mapHeader     = 48
	mapMinEntries = 8
)

// heapless reports whether a value of n retains no memory beyond its own bytes.
func (c *cloner) heapless(n *Node) bool {
	switch n.Kind {
	case KindBasic:
		return n.Basic != types.String && n.Basic != types.UntypedString
	case KindDuration, KindTime:
		return true // a decoded time is in UTC, whose location is shared
	case KindNamed, KindHashKey:
		if n.Under != nil && n.Under.Kind == KindBasic {
			return c.heapless(n.Under)
		}
		if s := n.Struct; s != nil {
			for _, f := range s.Fields {
				if f.serialized() && !c.heapless(f.valNode(c.pkg.model, s.Name())) {
					return false
				}
			}
			return true
		}
		return false
	case KindArray:
		return c.heapless(n.Elem)
	case KindStruct:
		for _, f := range n.Fields {
			if f.Name() != "_" && !c.heapless(f.valNode(c.pkg.model, "")) {
				return false
			}
		}
		return true
	}
	return false
}

// sizeMethod writes the CachegenSize method of s, which has a CachegenClone.
func (c *cloner) sizeMethod(s *Struct) jen.Code {
	c.n = 0
	var body []jen.Code
	for _, f := range s.Fields {
		if !f.serialized() {
			continue
		}
		body = append(body, c.size(jen.Id("z").Dot(f.Name()), f.valNode(c.pkg.model, s.Name()))...)
	}
	body = append(body, jen.Return())
	doc := fmt.Sprintf("%s estimates the heap bytes z retains beyond its own struct (string bytes, slices' capacity, maps' entries, pointed-to values): what the cache's memory tier charges, with the struct's size, for keeping the value decoded.", sizeMethod)
	return comments(wrapComment(doc)).
		Func().Params(jen.Id("z").Op("*").Id(s.Name())).Id(sizeMethod).Params().Params(jen.Id("zs").Int()).
		Block(body...)
}

// size returns the statements that add to zs the heap bytes a value of n at src retains
// beyond its own bytes. src is addressable.
func (c *cloner) size(src *jen.Statement, n *Node) []jen.Code {
	if c.heapless(n) {
		return nil
	}
	add := func(e jen.Code) jen.Code { return jen.Id("zs").Op("+=").Add(e) }
	switch n.Kind {
	case KindBasic:
		return []jen.Code{add(jen.Len(src))}
	case KindNamed, KindHashKey:
		if n.Under != nil && n.Under.Kind == KindBasic {
			return []jen.Code{add(jen.Len(src))}
		}
		return []jen.Code{add(jen.Add(src).Dot(sizeMethod).Call())}
	case KindPointer:
		inner := []jen.Code{add(jen.Lit(int(sizes.Sizeof(n.Elem.Type))))}
		inner = append(inner, c.size(jen.Parens(jen.Op("*").Add(src)), n.Elem)...)
		return []jen.Code{jen.If(jen.Add(src).Op("!=").Nil()).Block(inner...)}
	case KindSlice:
		out := []jen.Code{add(jen.Cap(src).Op("*").Lit(int(sizes.Sizeof(n.Elem.Type))))}
		if !c.heapless(n.Elem) {
			i := c.local('i')
			out = append(out, jen.For(jen.Id(i).Op(":=").Range().Add(src)).Block(
				c.size(jen.Add(src).Index(jen.Id(i)), n.Elem)...))
		}
		return out
	case KindArray:
		i := c.local('i')
		return []jen.Code{jen.For(jen.Id(i).Op(":=").Range().Add(src)).Block(
			c.size(jen.Add(src).Index(jen.Id(i)), n.Elem)...)}
	case KindMap:
		entry := (int(sizes.Sizeof(n.Key.Type)) + int(sizes.Sizeof(n.Elem.Type)) + 1) * 3 / 2
		out := []jen.Code{jen.If(jen.Len(src).Op(">").Lit(0)).Block(
			add(jen.Lit(mapHeader).Op("+").Max(jen.Len(src), jen.Lit(mapMinEntries)).Op("*").Lit(entry)),
		).Else().If(jen.Add(src).Op("!=").Nil()).Block(add(jen.Lit(mapHeader)))}
		keys, vals := !c.heapless(n.Key), !c.heapless(n.Elem)
		if !keys && !vals {
			return out
		}
		var loop, vars []jen.Code
		k := jen.Id("_")
		if keys {
			k = jen.Id(c.local('k'))
			loop = append(loop, c.size(k, n.Key)...)
		}
		vars = append(vars, k)
		if vals {
			v := jen.Id(c.local('v'))
			loop = append(loop, c.size(v, n.Elem)...)
			vars = append(vars, v)
		}
		return append(out, jen.For(jen.List(vars...).Op(":=").Range().Add(src)).Block(loop...))
	case KindStruct:
		var out []jen.Code
		for _, f := range n.Fields {
			if f.Name() == "_" {
				continue
			}
			out = append(out, c.size(jen.Add(src).Dot(f.Name()), f.valNode(c.pkg.model, ""))...)
		}
		return out
	}
	panic(fmt.Sprintf("cachegen: no size for %v", n.Type))
}

// reusable reports whether decoding into a value of s runs only code cachegen generates for
// this file's structs and msgp's readers, which leave nothing in the receiver that points
// into it: no hand-written or foreign msgp methods, encodings or interfaces are reached.
// seen holds the structs being checked, which a recursive type reaches again.
func (c *cloner) reusable(s *Struct, seen map[*Struct]bool) bool {
	seen[s] = true
	for _, f := range s.Fields {
		if f.serialized() && !c.reusableNode(f.valNode(c.pkg.model, s.Name()), seen) {
			return false
		}
	}
	return true
}

func (c *cloner) reusableNode(n *Node, seen map[*Struct]bool) bool {
	switch n.Kind {
	case KindBasic, KindTime, KindDuration:
		return true
	case KindNamed, KindHashKey:
		if n.Msgp && !(n.Struct != nil && c.in[n.Struct]) {
			return false
		}
		if s := n.Struct; s != nil {
			return c.in[s] && (seen[s] || c.reusable(s, seen))
		}
		return n.Under != nil && c.reusableNode(n.Under, seen)
	case KindPointer, KindSlice, KindArray:
		return c.reusableNode(n.Elem, seen)
	case KindMap:
		return c.reusableNode(n.Key, seen) && c.reusableNode(n.Elem, seen)
	case KindStruct:
		for _, f := range n.Fields {
			if f.Name() != "_" && !c.reusableNode(f.valNode(c.pkg.model, ""), seen) {
				return false
			}
		}
		return true
	}
	return false
}

// reuseMethod writes the marker method of s, whose UnmarshalMsg leaves nothing in its
// receiver that points into the receiver.
func reuseMethod(s *Struct) jen.Code {
	doc := fmt.Sprintf("%s marks %s's UnmarshalMsg as cachegen's own code throughout, which leaves nothing in its receiver that points into the receiver: the cache may decode into a reused %[2]s and copy the value out.", reuseMethodName, s.Name())
	return comments(wrapComment(doc)).
		Func().Params(jen.Op("*").Id(s.Name())).Id(reuseMethodName).Params(jen.Op("*").Id(s.Name())).Block()
}
