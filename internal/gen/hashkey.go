package gen

import (
	"fmt"
	"go/token"
	"go/types"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

// keyhashPath is the import path of the package generated HashKey methods feed.
const keyhashPath = "github.com/cachegen/cachegen/runtime/keyhash"

// basicMethods maps each hashable basic kind to the Hasher method that writes it and the Go
// type that method takes.
var basicMethods = map[types.BasicKind][2]string{
	types.Bool:       {"Bool", "bool"},
	types.Int:        {"Int", "int"},
	types.Int8:       {"Int8", "int8"},
	types.Int16:      {"Int16", "int16"},
	types.Int32:      {"Int32", "int32"},
	types.Int64:      {"Int64", "int64"},
	types.Uint:       {"Uint", "uint"},
	types.Uint8:      {"Uint8", "uint8"},
	types.Uint16:     {"Uint16", "uint16"},
	types.Uint32:     {"Uint32", "uint32"},
	types.Uint64:     {"Uint64", "uint64"},
	types.Uintptr:    {"Uintptr", "uintptr"},
	types.Float32:    {"Float32", "float32"},
	types.Float64:    {"Float64", "float64"},
	types.Complex64:  {"Complex64", "complex64"},
	types.Complex128: {"Complex128", "complex128"},
	types.String:     {"String", "string"},
}

// keyEmitter writes the statements that hash one struct's fields. It validates as it goes:
// a field whose type cannot be hashed becomes an error at the field, never a skipped field.
type keyEmitter struct {
	pkg  *Package
	errs *ErrorList
	// reach is called for a same-package named struct that a key contains and that has no
	// HashKey of its own; it gets one generated as if it were annotated.
	reach func(obj *types.TypeName, via string)
	// converted collects the named types whose values the code converts to their underlying
	// basic type, for the guard that breaks the build when that type changes.
	converted *namedSet
}

// site is where an expression being hashed comes from, for error messages.
type site struct {
	pos  token.Position
	path string // Type.Field.Subfield, as the user reads it
}

// elem returns the site of an element of the collection at s, for messages: K.List[].
func (s site) elem(suffix string) site {
	if i := strings.Index(s.path, " ("); i >= 0 {
		return site{pos: s.pos, path: s.path[:i] + suffix + s.path[i:]}
	}
	return site{pos: s.pos, path: s.path + suffix}
}

// hashKeyFunc returns the HashKey method of s.
func (e *keyEmitter) hashKeyFunc(s *Struct) jen.Code {
	fp := s.Fingerprint()
	body := []jen.Code{
		jen.Id("h").Dot("Begin").Call(
			jen.Lit(s.Obj.Pkg().Path()+"."+s.Name()+typeParamList(s.Named)),
			hexLit(fp[0]), hexLit(fp[1]), hexLit(fp[2]), hexLit(fp[3]),
		),
	}
	// Every instance of a generic key shares the fingerprint: its type arguments are
	// written after it, so that instances never share an encoding.
	for i := range s.Named.TypeParams().Len() {
		tp := s.Named.TypeParams().At(i).Obj().Name()
		if tp == "x" || tp == "h" {
			e.errs.add(s.Pos, "%s: rename type parameter %s: generated code uses x and h for the receiver and the Hasher", s.Name(), tp)
		}
		body = append(body, jen.Qual(keyhashPath, "TypeArg").Types(jen.Id(tp)).Call(jen.Id("h")))
	}
	for _, f := range s.Fields {
		if f.Skip || f.Name() == "_" {
			continue
		}
		at := site{pos: f.Pos, path: s.Name() + "." + f.Name()}
		if s.Via != "" {
			at.path += " (reached from " + s.Via + ")"
		}
		body = append(body, e.value(f.Var.Type(), "x."+f.Name(), f.Name(), f.Set, 0, at)...)
	}
	body = append(body, jen.Id("h").Dot("End").Call())

	doc := fmt.Sprintf("HashKey writes every field of %s to h, in declaration order, after the schema fingerprint of the type.", s.Name())
	if skipped := s.Skipped(); len(skipped) > 0 {
		doc += fmt.Sprintf("\nExcluded with cache:\"-\": %s.", strings.Join(skipped, ", "))
	} else {
		doc += "\nNo field is excluded."
	}
	return comments(doc).
		Func().Params(jen.Id("x").Add(receiverType(s))).Id("HashKey").
		Params(jen.Id("h").Op("*").Qual(keyhashPath, "Hasher")).
		Block(body...)
}

// operand returns expr in a form that a selector, an index or a method call can follow:
// a dereference needs parentheses.
func operand(expr string) string {
	if strings.HasPrefix(expr, "*") {
		return "(" + expr + ")"
	}
	return expr
}

// joinName names a field of an anonymous struct in the trace: Outer.Field.
func joinName(outer, field string) string {
	if outer == "" {
		return field
	}
	return outer + "." + field
}

// comments renders text as line comments, one per line of text.
func comments(text string) *jen.Statement {
	s := jen.Null()
	for line := range strings.SplitSeq(text, "\n") {
		s = s.Comment(line).Line()
	}
	return s
}

func hexLit(v uint64) jen.Code { return jen.Op(fmt.Sprintf("0x%016x", v)) }

// loopVar names the loop variables of nesting depth d: i, k, v at the top, i1, k1, v1 below.
func loopVar(base string, d int) string {
	if d == 0 {
		return base
	}
	return base + strconv.Itoa(d)
}

// value returns the statements that hash expr, of type t. name labels it in the trace.
func (e *keyEmitter) value(t types.Type, expr, name string, set bool, depth int, at site) []jen.Code {
	h := jen.Id("h")
	orig := t
	t = types.Unalias(t)

	if n, ok := t.(*types.Named); ok && n.Obj().Pkg() != nil {
		switch n.Obj().Pkg().Path() + "." + n.Obj().Name() {
		case "time.Time":
			return []jen.Code{h.Clone().Dot("Time").Call(jen.Lit(name), jen.Id(expr))}
		case "time.Duration":
			return []jen.Code{h.Clone().Dot("Duration").Call(jen.Lit(name), jen.Id(expr))}
		}
	}

	if tp, ok := t.(*types.TypeParam); ok {
		if !hasHashKey(tp) {
			e.errs.add(at.pos, "%s: type parameter %s is not constrained by keyhash.Key; constrain it (%s keyhash.Key) or exclude the field with cache:\"-\"",
				at.path, tp.Obj().Name(), tp.Obj().Name())
			return nil
		}
		// Through Interface: a type argument may be an interface type or a pointer, so
		// the value's dynamic type is written and a nil value is tagged, not called.
		return []jen.Code{h.Clone().Dot("Interface").Call(jen.Lit(name), jen.Id(expr))}
	}

	if _, isIface := t.Underlying().(*types.Interface); isIface {
		if !hasHashKey(t) {
			e.errs.add(at.pos, "%s: interface type %s does not embed keyhash.Key, so its dynamic value cannot be hashed; embed keyhash.Key in the interface, or exclude the field with cache:\"-\"",
				at.path, typeString(orig, e.pkg.Types))
			return nil
		}
		return []jen.Code{h.Clone().Dot("Interface").Call(jen.Lit(name), jen.Id(expr))}
	}

	if n, ok := t.(*types.Named); ok {
		// A type with its own HashKey (hand-written here, or from another package) hashes
		// itself.
		if hasHashKey(n) {
			return []jen.Code{jen.Id(operand(expr)).Dot("HashKey").Call(h.Clone().Dot("Field").Call(jen.Lit(name)))}
		}
		if _, isStruct := n.Underlying().(*types.Struct); isStruct {
			if n.Obj().Pkg() != e.pkg.Types {
				e.errs.add(at.pos, "%s: %s is declared in another package and has no HashKey method, so cachegen cannot see all of its fields; give it a HashKey method (or wrap it in a type that has one), or exclude the field with cache:\"-\"",
					at.path, typeString(orig, e.pkg.Types))
				return nil
			}
			for i := range n.TypeArgs().Len() {
				if !hasHashKey(n.Origin().TypeParams().At(i)) {
					e.errs.add(at.pos, "%s: generic struct %s needs type parameters constrained by keyhash.Key to get a HashKey method",
						at.path, typeString(orig, e.pkg.Types))
					return nil
				}
			}
			e.reach(n.Obj(), at.path)
			return []jen.Code{jen.Id(operand(expr)).Dot("HashKey").Call(h.Clone().Dot("Field").Call(jen.Lit(name)))}
		}
	}

	switch u := t.Underlying().(type) {
	case *types.Basic:
		m, ok := basicMethods[u.Kind()]
		if !ok {
			e.errs.add(at.pos, "%s: %s cannot be hashed (its value is an address, not content); exclude the field with cache:\"-\"",
				at.path, typeString(orig, e.pkg.Types))
			return nil
		}
		arg := jen.Id(expr)
		if n, named := t.(*types.Named); named {
			arg = jen.Id(m[1]).Call(jen.Id(expr))
			e.converted.add(n)
		}
		return []jen.Code{h.Clone().Dot(m[0]).Call(jen.Lit(name), arg)}

	case *types.Pointer:
		inner := e.value(u.Elem(), "*"+expr, "*"+name, false, depth, at)
		if inner == nil {
			return nil
		}
		return []jen.Code{jen.If(h.Clone().Dot("Ptr").Call(jen.Lit(name), jen.Id(expr).Op("!=").Nil())).Block(inner...)}

	case *types.Slice:
		if set {
			return e.unordered("Set", "EndSet", u.Elem(), nil, expr, name, depth, at)
		}
		if isByte(u.Elem()) {
			return []jen.Code{h.Clone().Dot("Bytes").Call(jen.Lit(name), jen.Id(expr))}
		}
		if isString(u.Elem()) {
			return []jen.Code{h.Clone().Dot("Strings").Call(jen.Lit(name), jen.Id(expr))}
		}
		return e.list(u.Elem(), expr, name, depth, at)

	case *types.Array:
		if isByte(u.Elem()) {
			return []jen.Code{h.Clone().Dot("ByteArray").Call(jen.Lit(name), jen.Id(operand(expr)+"[:]"))}
		}
		return e.list(u.Elem(), expr, name, depth, at)

	case *types.Map:
		return e.unordered("Map", "EndMap", u.Key(), u.Elem(), expr, name, depth, at)

	case *types.Struct:
		// An anonymous struct is hashed inline: the enclosing type's fingerprint already
		// covers its layout.
		var out []jen.Code
		ok := true
		for i := range u.NumFields() {
			f := u.Field(i)
			skip, fset := e.pkg.fieldTag(f, u.Tag(i), at.path, e.errs)
			if skip || f.Name() == "_" {
				continue
			}
			sub := e.value(f.Type(), operand(expr)+"."+f.Name(), joinName(name, f.Name()), fset, depth, site{pos: e.pkg.Fset.Position(f.Pos()), path: at.path + "." + f.Name()})
			if sub == nil {
				ok = false
			}
			out = append(out, sub...)
		}
		if !ok {
			return nil
		}
		if len(out) == 0 {
			return []jen.Code{jen.Comment(name + ": an empty struct writes nothing")}
		}
		return out

	case *types.Signature:
		e.errs.add(at.pos, "%s: func type %s cannot be hashed; if it does not affect the result, exclude the field with cache:\"-\", otherwise put what it computes in the key",
			at.path, typeString(orig, e.pkg.Types))
	case *types.Chan:
		e.errs.add(at.pos, "%s: channel type %s cannot be hashed; exclude the field with cache:\"-\"",
			at.path, typeString(orig, e.pkg.Types))
	default:
		e.errs.add(at.pos, "%s: type %s cannot be hashed; exclude the field with cache:\"-\"",
			at.path, typeString(orig, e.pkg.Types))
	}
	return nil
}

// list hashes a slice or an array: its length, then its elements.
func (e *keyEmitter) list(elem types.Type, expr, name string, depth int, at site) []jen.Code {
	i := loopVar("i", depth)
	inner := e.value(elem, operand(expr)+"["+i+"]", "", false, depth+1, at.elem("[]"))
	if inner == nil {
		return nil
	}
	h := jen.Id("h")
	return []jen.Code{
		h.Clone().Dot("List").Call(jen.Lit(name), jen.Len(jen.Id(expr))),
		jen.For(jen.Id(i).Op(":=").Range().Id(expr)).Block(
			append([]jen.Code{h.Clone().Dot("Elem").Call(jen.Id(i))}, inner...)...,
		),
		h.Clone().Dot("EndList").Call(),
	}
}

// unordered hashes a map (key and elem) or a set (key only) as entries sorted by encoding.
func (e *keyEmitter) unordered(open, end string, key, elem types.Type, expr, name string, depth int, at site) []jen.Code {
	k, v := loopVar("k", depth), loopVar("v", depth)
	keyName := "key"
	if elem == nil {
		keyName = ""
	}
	body := []jen.Code{jen.Id("h").Dot("Entry").Call()}
	ks := e.value(key, k, keyName, false, depth+1, at.elem("[key]"))
	body = append(body, ks...)
	rangeVars := jen.Id("_").Op(",").Id(k)
	ok := ks != nil
	if elem != nil {
		vs := e.value(elem, v, "value", false, depth+1, at.elem("[value]"))
		ok = ok && vs != nil
		body = append(body, vs...)
		rangeVars = jen.Id(k).Op(",").Id(v)
	}
	if !ok {
		return nil
	}
	h := jen.Id("h")
	return []jen.Code{
		h.Clone().Dot(open).Call(jen.Lit(name), jen.Len(jen.Id(expr))),
		jen.For(rangeVars.Op(":=").Range().Id(expr)).Block(body...),
		h.Clone().Dot(end).Call(),
	}
}

// isByte reports whether t is byte (uint8) itself, not a named type over it: only then is a
// slice of it assignable to []byte.
func isByte(t types.Type) bool {
	b, ok := types.Unalias(t).(*types.Basic)
	return ok && b.Kind() == types.Uint8
}

// isString reports whether t is string itself (so that []t and map[t]t are assignable to
// the parameters of Strings and StringMap).
func isString(t types.Type) bool {
	b, ok := types.Unalias(t).(*types.Basic)
	return ok && b.Kind() == types.String
}

// hasHashKey reports whether t, or a pointer to it, has the method HashKey(*keyhash.Hasher).
// For a type parameter it asks the constraint, and for an interface its method set.
//
// A HashKey promoted from an embedded field does not count: it would hash that field only,
// and skip every other field of t.
func hasHashKey(t types.Type) bool {
	obj, index, _ := types.LookupFieldOrMethod(t, true, nil, "HashKey")
	if len(index) != 1 {
		return false
	}
	fn, ok := obj.(*types.Func)
	if !ok {
		return false
	}
	sig := fn.Type().(*types.Signature)
	if sig.Params().Len() != 1 || sig.Results().Len() != 0 {
		return false
	}
	ptr, ok := sig.Params().At(0).Type().(*types.Pointer)
	if !ok {
		return false
	}
	named, ok := types.Unalias(ptr.Elem()).(*types.Named)
	return ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == keyhashPath && named.Obj().Name() == "Hasher"
}

// typeParamList returns "[T, U]" for a generic type, for the trace name.
func typeParamList(n *types.Named) string {
	tp := n.TypeParams()
	if tp.Len() == 0 {
		return ""
	}
	names := make([]string, tp.Len())
	for i := range tp.Len() {
		names[i] = tp.At(i).Obj().Name()
	}
	return "[" + strings.Join(names, ", ") + "]"
}
