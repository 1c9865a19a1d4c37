package gen

import (
	"fmt"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
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

// keyEmitter writes the HashKey methods of a package's keys from the model of their types.
// It validates as it goes: a node that cannot be hashed becomes an error at the field that
// holds it (the first such field, for a named type), never a skipped field.
type keyEmitter struct {
	pkg  *Package
	errs *ErrorList
	// reach is called for a same-package named struct that a key contains and that has no
	// HashKey of its own; it gets one generated as if it were annotated. via is the path of
	// the field that reaches it.
	reach func(s *Struct, via string)
	// reported holds the named nodes whose problems have been reported, so that a type used
	// by many fields is reported once.
	reported map[*Node]bool
	// helpers holds the helper function of each recursive named type, in the order they
	// were needed; names are the identifiers in use (package scope and helpers).
	helpers []*helper
	byNode  map[helperKey]*helper
	names   *identSet
	// list collects, for the doc comment of the key (or the helper) being emitted, the
	// fields hashed by hand-written functions and by their encoding.
	listed *listing
	// owner is the struct of another package whose fields are being emitted, for messages.
	owner string
	// fix is what the user can do about a field inside a type of another package: exclude
	// the field of theirs that reaches it (with its tag, or exclude= for an adopted struct).
	fix string
	// warnings are problems that do not stop generation (an encoding known to lose
	// information), reported at the field.
	warnings ErrorList
}

// A listing is what a doc comment lists: the fields hashed by hand-written functions and by
// their encoding, and the helpers called, whose own listings are listed under the path of
// the call.
type listing struct {
	custom, marshaled []entry
	calls             []entry // path: where the helper is called; what: nothing
	helpers           []*helper
}

// An entry is one listed field: its path, what hashes it, and what a reviewer should know.
type entry struct{ path, what, note string }

// lines returns the entries of l of one kind, with those of the helpers it calls (not
// again inside themselves), their paths continued from the call: K.R.I.
func (l *listing) lines(kind func(*listing) []entry) (out, notes []string) {
	seen := map[*helper]bool{}
	var walk func(l *listing, prefix string)
	walk = func(l *listing, prefix string) {
		for _, en := range kind(l) {
			out = append(out, prefix+en.path+" ("+en.what+")")
			if en.note != "" {
				notes = append(notes, prefix+en.path+": "+en.note)
			}
		}
		for i, c := range l.calls {
			hp := l.helpers[i]
			if seen[hp] {
				continue // a helper that calls itself lists its fields once
			}
			seen[hp] = true
			walk(hp.list, prefix+c.path)
			seen[hp] = false
		}
	}
	walk(l, "")
	return out, notes
}

// A helper is the function that hashes a recursive named type, which cannot be inlined.
type helper struct {
	node *Node
	set  bool // hashes the slice as a set (cache:"set")
	name string
	// byPointer: the type holds a lock, which passing it by value would copy.
	byPointer bool
	// body is the function's body, emitted where the type is first reached (so that its
	// messages point at the user's field that reaches it), and list what it lists, with
	// paths relative to the helper's value.
	body []jen.Code
	list *listing
}

// helperKey identifies a helper: a recursive type, hashed as a set or not.
type helperKey struct {
	n   *Node
	set bool
}

// site is where an expression being hashed comes from, for error messages.
type site struct {
	pos  token.Position
	path string // Type.Field.Subfield, as the user reads it
}

// elem returns the site of an element of the collection at s, for messages: K.List[].
func (s site) elem(suffix string) site {
	switch {
	case strings.HasSuffix(s.path, "..."):
		return s
	case len(s.path) > 100: // a type that nests without end
		return site{pos: s.pos, path: s.path + "..."}
	}
	return site{pos: s.pos, path: s.path + suffix}
}

// label is the name a value has in the trace: a literal, or (in a helper function) the
// helper's name parameter, with a literal prefix and suffix.
type label struct {
	s     string // the literal; with isVar, what follows the name parameter
	pre   string // with isVar, what precedes the name parameter
	isVar bool
}

func lit(s string) label { return label{s: s} }

func (l label) code() jen.Code {
	if !l.isVar {
		return jen.Lit(l.s)
	}
	c := jen.Id("name")
	if l.pre != "" {
		c = jen.Lit(l.pre).Op("+").Id("name")
	}
	if l.s != "" {
		c = c.Op("+").Lit(l.s)
	}
	return c
}

// deref labels what a pointer labelled l points to: the star goes on the last segment of the
// path (O.*PL, not *O.PL).
func (l label) deref() label {
	if i := strings.LastIndex(l.s, "."); i >= 0 {
		l.s = l.s[:i+1] + "*" + l.s[i+1:]
		return l
	}
	if l.isVar {
		l.pre = "*" + l.pre
		return l
	}
	l.s = "*" + l.s
	return l
}

// typed labels a value of the named type typ: the trace shows typ rather than the basic
// type the Hasher writes ("Target api.Target"; names are for the trace only).
func (l label) typed(typ string) label {
	l.s += " " + typ
	return l
}

// hasStringMethod reports whether t's method set, or its pointer's, has String() string.
func hasStringMethod(t types.Type) bool {
	return hasMethod(types.NewPointer(t), "String", nil, []types.Type{types.Typ[types.String]})
}

// field labels field f of an anonymous struct labelled l.
func (l label) field(f string) label {
	if l.s == "" && !l.isVar {
		return lit(f)
	}
	l.s += "." + f
	return l
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
	e.listed = &listing{}
	for _, f := range s.Fields {
		if !f.hashed() {
			continue
		}
		at := site{pos: f.Pos, path: s.path(f)}
		reported := len(*e.errs)
		e.fix = fmt.Sprintf("exclude %s with cache:\"-\"", at.path)
		if f.Adopted {
			e.fix = fmt.Sprintf("exclude %s with %s exclude=%s", at.path, keyDirective, f.Name())
		}
		body = append(body, e.value(f.Node, "x."+f.Name(), lit(f.Name()), f.Set, 0, at)...)
		if f.Adopted {
			// The field cannot be tagged: the fix is on the directive.
			for _, err := range (*e.errs)[reported:] {
				err.Msg = strings.ReplaceAll(err.Msg, `exclude the field with cache:"-"`, fmt.Sprintf("exclude it with %s exclude=%s", keyDirective, f.Name()))
			}
		}
	}
	body = append(body, jen.Id("h").Dot("End").Call())

	doc := fmt.Sprintf("HashKey writes every field of %s to h, in declaration order, after the schema fingerprint of the type.", s.Name())
	recv := receiverType(s)
	if lock := containsLock(s.Named, nil); lock != "" {
		// A value receiver would copy the lock (go vet's copylocks check): only *T is a
		// keyhash.Key then.
		recv = jen.Op("*").Add(recv)
		doc += fmt.Sprintf("\nIts receiver is a pointer: %s holds a lock (%s), which a value receiver would copy.", s.Name(), lock)
	}
	skipped, excluded := s.Skipped(), s.ExcludedByDirective()
	if len(skipped) > 0 {
		doc += fmt.Sprintf("\nExcluded with cache:\"-\": %s.", strings.Join(skipped, ", "))
	}
	if len(excluded) > 0 {
		doc += fmt.Sprintf("\nExcluded by exclude= on the directive: %s.", strings.Join(excluded, ", "))
	}
	if len(skipped)+len(excluded) == 0 {
		doc += "\nNo field is excluded."
	}
	if custom, _ := e.listed.lines(func(l *listing) []entry { return l.custom }); len(custom) > 0 {
		doc += fmt.Sprintf("\nHashed by hand-written functions (%s): %s.", hashDirective, strings.Join(custom, ", "))
	}
	if marshaled, notes := e.listed.lines(func(l *listing) []entry { return l.marshaled }); len(marshaled) > 0 {
		doc += fmt.Sprintf("\nHashed by their encoding, which must round-trip exactly: %s.", strings.Join(marshaled, ", "))
		for _, note := range notes {
			doc += "\nWarning: " + note + "."
		}
	}
	return comments(doc).
		Func().Params(jen.Id("x").Add(recv)).Id("HashKey").
		Params(jen.Id("h").Op("*").Qual(keyhashPath, "Hasher")).
		Block(body...)
}

// helperFuncs returns the helper functions of recursive types, in the order they were
// first needed.
func (e *keyEmitter) helperFuncs() []jen.Code {
	var out []jen.Code
	for _, hp := range e.helpers {
		param := e.pkg.code.typ(hp.node.Named)
		if hp.byPointer {
			param = jen.Op("*").Add(param)
		}
		what := "a " + typeString(hp.node.Named, e.pkg.Types)
		if hp.set {
			what += ` tagged cache:"set"`
		}
		out = append(out, comments(fmt.Sprintf("%s hashes %s. It is a function, not inlined, because the type contains itself.",
			hp.name, what)).
			Func().Id(hp.name).Params(
			jen.Id("h").Op("*").Qual(keyhashPath, "Hasher"),
			jen.Id("name").String(),
			jen.Id("x").Add(param),
		).Block(hp.body...))
	}
	return out
}

// helperBody emits the body of helper hp, reached first at the user's field at: messages
// point there, with its path, and the helper's listing holds paths relative to at.
func (e *keyEmitter) helperBody(hp *helper, at site) {
	outerList, outerOwner := e.listed, e.owner
	e.listed = &listing{}
	if hp.node.Under.Kind == KindStruct && hp.node.foreign(e.pkg.Types) {
		e.owner = e.str(hp.node)
	}
	x := "x"
	if hp.byPointer {
		x = "*x"
	}
	hp.body = e.shape(hp.node.Under, x, label{isVar: true}, hp.set, 0, true, at)
	hp.list = e.listed
	for _, l := range [][]entry{hp.list.custom, hp.list.marshaled, hp.list.calls} {
		for i := range l {
			l[i].path = strings.TrimPrefix(l[i].path, at.path)
		}
	}
	e.listed, e.owner = outerList, outerOwner
}

// operand returns expr in a form that a selector, an index or a method call can follow:
// a dereference needs parentheses.
func operand(expr string) string {
	if strings.HasPrefix(expr, "*") {
		return "(" + expr + ")"
	}
	return expr
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

// value returns the statements that hash expr, whose shape is n. name labels it in the trace;
// set says the field is tagged cache:"set"; depth names loop variables.
func (e *keyEmitter) value(n *Node, expr string, name label, set bool, depth int, at site) []jen.Code {
	h := jen.Id("h")
	switch n.Kind {
	case KindTime:
		return []jen.Code{h.Clone().Dot("Time").Call(name.code(), jen.Id(expr))}
	case KindDuration:
		return []jen.Code{h.Clone().Dot("Duration").Call(name.code(), jen.Id(expr))}

	case KindTypeParam:
		if !n.KeyBound {
			e.errs.add(at.pos, "%s: type parameter %s is not constrained by keyhash.Key; constrain it (%s keyhash.Key) or exclude the field with cache:\"-\"",
				at.path, n.Type, n.Type)
			return nil
		}
		// Through Interface: a type argument may be an interface type or a pointer, so
		// the value's dynamic type is written and a nil value is tagged, not called.
		return []jen.Code{h.Clone().Dot("Interface").Call(name.code(), jen.Id(expr))}

	case KindInterface:
		if !n.KeyBound {
			if e.once(n) && n.foreign(e.pkg.Types) {
				e.errs.add(at.pos, "%s: interface type %s does not embed keyhash.Key, so its dynamic value cannot be hashed; hash its implementations with a function of yours marked %s (func(h *keyhash.Hasher, v %s)), or exclude the field with cache:\"-\"",
					at.path, e.str(n), hashDirective, e.str(n))
			} else if e.once(n) {
				e.errs.add(at.pos, "%s: interface type %s does not embed keyhash.Key, so its dynamic value cannot be hashed; embed keyhash.Key in the interface, hash it with a function marked %s, or exclude the field with cache:\"-\"",
					at.path, e.str(n), hashDirective)
			}
			return nil
		}
		return []jen.Code{h.Clone().Dot("Interface").Call(name.code(), jen.Id(expr))}

	case KindHashKey:
		// A type with its own HashKey (hand-written here, or from another package) hashes
		// itself.
		if !e.typeArgsOK(n, at) {
			return nil
		}
		if problem := hashKeyConstraint(e.pkg, n, at); problem != "" {
			if e.once(n) {
				e.errs.add(at.pos, "%s", problem)
			}
			return nil
		}
		if e.pkg.guardOwnHashKey(n) {
			// If the type lost its generated HashKey, the embedded key's would still
			// compile here, and hash that field alone: the Hasher checks at run time.
			return []jen.Code{jen.Id(operand(expr)).Dot("HashKey").Call(h.Clone().Dot("FieldOf").Call(name.code(), jen.Lit(typeID(n.Named.Origin()))))}
		}
		return []jen.Code{jen.Id(operand(expr)).Dot("HashKey").Call(h.Clone().Dot("Field").Call(name.code()))}

	case KindNamed:
		if !e.nameable(n, at) {
			return nil
		}
		if n.Struct != nil {
			s := n.Struct
			if s.unusable != "" {
				if e.once(n) {
					e.errs.add(at.pos, "%s: %s: %s", at.path, e.str(n), s.unusable)
				}
				return nil
			}
			for i := range n.TypeArgs().Len() {
				if !hasHashKey(s.Named.TypeParams().At(i)) {
					e.errs.add(at.pos, "%s: generic struct %s needs type parameters constrained by keyhash.Key to get a HashKey method",
						at.path, e.str(n))
					return nil
				}
			}
			if !e.typeArgsOK(n, at) {
				return nil
			}
			e.reach(s, at.path)
			return []jen.Code{jen.Id(operand(expr)).Dot("HashKey").Call(h.Clone().Dot("Field").Call(name.code()))}
		}
		if n.Recursive {
			hp := e.helperOf(n, set, at)
			if hp == nil {
				return nil
			}
			e.listed.calls = append(e.listed.calls, entry{path: at.path})
			e.listed.helpers = append(e.listed.helpers, hp)
			arg := jen.Id(expr)
			if hp.byPointer {
				arg = jen.Op("&").Id(operand(expr))
			}
			return []jen.Code{jen.Id(hp.name).Call(h, name.code(), arg)}
		}
		if n.Under.Kind == KindBasic {
			// The trace shows the declared type, and an enum's name beside its value.
			var out []jen.Code
			if hasStringMethod(n.Named) {
				// Through NoteString, which recovers: a String method that panics
				// must not make tracing crash a program that hashes fine.
				out = append(out, jen.If(jen.Id("h").Dot("Tracing").Call()).Block(
					jen.Id("h").Dot("NoteString").Call(jen.Id(operand(expr)).Dot("String"))))
			}
			return append(out, e.shape(n.Under, expr, name.typed(e.str(n)), set, depth, true, at)...)
		}
		if n.Under.Kind == KindStruct && n.foreign(e.pkg.Types) {
			outer := e.owner
			e.owner = e.str(n)
			defer func() { e.owner = outer }()
		}
		return e.shape(n.Under, expr, name, set, depth, true, at)

	case KindCustom:
		// A function of the package hashes the value; what it writes is framed by its
		// length, so it cannot run into the next field.
		e.listed.custom = append(e.listed.custom, entry{path: at.path, what: n.Func.Name()})
		return []jen.Code{
			jen.Id(n.Func.Name()).Call(h.Clone().Dot("Custom").Call(name.code(), jen.Lit(n.Func.Name())), jen.Id(expr)),
			h.Clone().Dot("EndCustom").Call(),
		}

	case KindMarshal:
		if !e.guardable(n, at) {
			return nil
		}
		return []jen.Code{jen.Block(e.marshaled(n, expr, name, at)...)}

	case KindForeignStruct:
		if e.once(n) {
			if via := e.pkg.promotedKey(n.Named, 0); via != "" {
				e.errs.add(at.pos, "%s: %s has a HashKey method only by promotion from its embedded field %s, which hashes that field and skips the others; give %s a HashKey method of its own, or exclude the field with cache:\"-\"",
					at.path, e.str(n), via, e.str(n))
			} else {
				e.errs.add(at.pos, "%s: %s is declared in another package and has no HashKey method, so cachegen cannot see all of its fields; give it a HashKey method (or wrap it in a type that has one), or exclude the field with cache:\"-\"",
					at.path, e.str(n))
			}
		}
		return nil
	}
	return e.shape(n, expr, name, set, depth, false, at)
}

// guardable reports whether generated code can guard that KindMarshal type n still declares
// its encoding itself (ownMethodGuards), which it must to call it: the guard names the type.
// It reports, once, a type it cannot name, rather than hash it unguarded.
func (e *keyEmitter) guardable(n *Node, at site) bool {
	part := e.pkg.code.unnameable(n.Type)
	if part == "" {
		return true
	}
	if e.once(n) {
		e.errs.add(at.pos, "%s: %s is hashed by its %s method, but it names %s, so generated code cannot guard that the type still declares that method itself; hash it with a function of yours marked %s (func(h *keyhash.Hasher, v %s)), or exclude the field with cache:\"-\" or exclude= on the directive",
			at.path, e.str(n), n.Method, part, hashDirective, e.str(n))
	}
	return false
}

// marshaled returns the statements that hash expr, of KindMarshal type n (or a pointer to
// one), by its encoding, and lists the field: the generated file names the method, and what
// the encoding is known to lose, for review.
func (e *keyEmitter) marshaled(n *Node, expr string, name label, at site) []jen.Code {
	en := entry{path: at.path, what: n.Method}
	if loss := lossy(n); loss != "" {
		t := e.str(n)
		if _, ok := n.Type.Underlying().(*types.Struct); ok && !hasOwnMethod(n.Type, n.Method, nil, []types.Type{types.NewSlice(types.Typ[types.Byte]), errorType}) {
			t = "*" + t // the methods are on the pointer
		}
		fix := fmt.Sprintf("to hash all of it, write a function marked %s for %s", hashDirective, t)
		en.note = fmt.Sprintf("%s of %s loses information: %s; %s", n.Method, t, loss, fix)
		e.warnings.add(at.pos, "%s: %s is hashed by %s, which loses information: %s; %s", at.path, t, n.Method, loss, fix)
	}
	e.listed.marshaled = append(e.listed.marshaled, en)
	return []jen.Code{
		jen.List(jen.Id("b"), jen.Id("err")).Op(":=").Id(operand(expr)).Dot(n.Method).Call(),
		jen.Id("h").Dot("Marshaled").Call(name.code(), jen.Lit(n.Method), jen.Id("b"), jen.Id("err")),
	}
}

// shape returns the statements that hash expr by the shape of its type, for an unnamed type
// or the underlying type of a named one (converted: a basic value is then converted to the
// type its Hasher method takes).
func (e *keyEmitter) shape(n *Node, expr string, name label, set bool, depth int, converted bool, at site) []jen.Code {
	h := jen.Id("h")
	switch n.Kind {
	case KindBasic:
		m, ok := basicMethods[n.Basic]
		if !ok {
			e.errs.add(at.pos, "%s: %s cannot be hashed (its value is an address, not content); exclude the field with cache:\"-\"",
				at.path, e.str(n))
			return nil
		}
		arg := jen.Id(expr)
		if converted {
			arg = jen.Id(m[1]).Call(jen.Id(expr))
		}
		return []jen.Code{h.Clone().Dot(m[0]).Call(name.code(), arg)}

	case KindPointer:
		if n.Elem.Kind == KindMarshal {
			if !e.guardable(n.Elem, at) {
				return nil
			}
			// The pointer has the methods: no block, no dereference, unless the pointer
			// type is named (type AP *netip.Addr), whose method set is empty.
			recv := expr
			if converted {
				recv = "*" + operand(expr)
			}
			return []jen.Code{jen.If(h.Clone().Dot("Ptr").Call(name.code(), jen.Id(expr).Op("!=").Nil())).Block(e.marshaled(n.Elem, recv, name.deref(), at)...)}
		}
		inner := e.value(n.Elem, "*"+expr, name.deref(), false, depth, at)
		if inner == nil {
			return nil
		}
		return []jen.Code{jen.If(h.Clone().Dot("Ptr").Call(name.code(), jen.Id(expr).Op("!=").Nil())).Block(inner...)}

	case KindSlice:
		if set {
			return e.unordered("Set", "EndSet", n.Elem, nil, expr, name, depth, at)
		}
		if isByteNode(n.Elem) {
			return []jen.Code{h.Clone().Dot("Bytes").Call(name.code(), jen.Id(expr))}
		}
		if n.Elem.Kind == KindBasic && n.Elem.Basic == types.String {
			return []jen.Code{h.Clone().Dot("Strings").Call(name.code(), jen.Id(expr))}
		}
		return e.list(n.Elem, expr, name, depth, at)

	case KindArray:
		if isByteNode(n.Elem) {
			return []jen.Code{h.Clone().Dot("ByteArray").Call(name.code(), jen.Id(operand(expr)+"[:]"))}
		}
		return e.list(n.Elem, expr, name, depth, at)

	case KindMap:
		return e.unordered("Map", "EndMap", n.Key, n.Elem, expr, name, depth, at)

	case KindStruct:
		// An anonymous struct is hashed inline: the enclosing type's fingerprint already
		// covers its layout.
		var out []jen.Code
		ok := true
		for _, f := range n.Fields {
			fat := site{pos: f.Pos, path: at.path + "." + f.Name()}
			if f.Var.Pkg() != e.pkg.Types && e.owner != "" {
				// A field of another package's struct: the user's field that reaches
				// it is where something can be done.
				fat.pos = at.pos
			}
			if !f.Var.Exported() && f.Var.Pkg() != e.pkg.Types {
				e.errs.add(at.pos, "%s: field %s of this struct type is unexported in package %s, so generated code cannot read it; give the type a HashKey method, or exclude the field with cache:\"-\"",
					at.path, f.Name(), f.Var.Pkg().Path())
				ok = false
				continue
			}
			if !f.hashed() {
				continue
			}
			reported := len(*e.errs)
			sub := e.value(f.Node, operand(expr)+"."+f.Name(), name.field(f.Name()), f.Set, depth, fat)
			if f.Var.Pkg() != e.pkg.Types && e.owner != "" {
				// A field of another package's struct cannot be tagged: the fix is on the
				// user's field that reaches the struct, or a function that hashes it.
				for _, err := range (*e.errs)[reported:] {
					err.Msg = strings.ReplaceAll(err.Msg, `exclude the field with cache:"-"`,
						fmt.Sprintf("%s (the fields of %s cannot be tagged), or hash %s with a function marked %s", e.fix, e.owner, e.owner, hashDirective))
				}
			}
			if sub == nil {
				ok = false
			}
			out = append(out, sub...)
		}
		if !ok {
			return nil
		}
		if len(out) == 0 {
			return []jen.Code{jen.Comment("an empty struct writes nothing")}
		}
		return out

	case KindInvalid:
		if n.Invalid != "" {
			e.errs.add(at.pos, "%s: %s", at.path, n.Invalid)
		} else {
			e.errs.addErr(e.pkg.typeError(at))
		}
	case KindFunc:
		e.errs.add(at.pos, "%s: func type %s cannot be hashed; if it does not affect the result, exclude the field with cache:\"-\", otherwise put what it computes in the key",
			at.path, e.str(n))
	case KindChan:
		e.errs.add(at.pos, "%s: channel type %s cannot be hashed; exclude the field with cache:\"-\"",
			at.path, e.str(n))
	default:
		return e.value(n, expr, name, set, depth, at)
	}
	return nil
}

// once reports whether the problems of named node n are still to be reported, and marks
// them reported. Unnamed nodes are reported wherever they occur.
func (e *keyEmitter) once(n *Node) bool {
	if n.Named == nil {
		return true
	}
	if e.reported[n] {
		return false
	}
	e.reported[n] = true
	return true
}

// str writes n's type as the user reads it in the package's source.
func (e *keyEmitter) str(n *Node) string {
	return nodeString(n, e.pkg.Types)
}

// nodeString writes n's type as the source names it: through its exported alias, for a
// type that is not exported.
func nodeString(n *Node, pkg *types.Package) string {
	if n.Spelled != nil {
		return typeString(n.Spelled, pkg)
	}
	return typeString(n.Type, pkg)
}

// nameable reports whether generated code can name the named type of n, and whether it
// builds in every configuration the generated file builds in; it reports why not.
func (e *keyEmitter) nameable(n *Node, at site) bool {
	return checkNamed(e.pkg, n, at, e.errs, e.reported)
}

// checkNamed reports, once per node, a named type that generated code cannot name (a
// foreign type that is not exported, reached without an exported alias) or that is
// declared in a file that builds only under a constraint.
func checkNamed(pkg *Package, n *Node, at site, errs *ErrorList, reported map[*Node]bool) bool {
	obj := n.Named.Obj()
	problem := ""
	if part := pkg.code.unnameable(n.Named); part != "" {
		problem = fmt.Sprintf("%s: %s names %s, so generated code cannot name it to guard its shape; give %s a HashKey method, or exclude the field with cache:\"-\"",
			at.path, typeString(n.Named, pkg.Types), part, typeString(n.Named, pkg.Types))
	} else if part := pkg.code.unnameable(n.Named.Underlying()); n.Under != nil && part != "" && n.Under.Kind == KindStruct && n.foreign(pkg.Types) {
		problem = fmt.Sprintf("%s: %s is a struct of package %s that generated code cannot read (it names %s); hash it with a function of yours marked %s (func(h *keyhash.Hasher, v %s)), or exclude the field with cache:\"-\" or exclude= on the directive",
			at.path, typeString(n.Named, pkg.Types), obj.Pkg().Path(), part, hashDirective, typeString(n.Named, pkg.Types))
	} else if part := pkg.code.unnameable(n.Named.Underlying()); n.Under != nil && part != "" {
		problem = fmt.Sprintf("%s: the underlying type of %s names %s, so generated code cannot guard its shape; give %s a HashKey method, or exclude the field with cache:\"-\"",
			at.path, typeString(n.Named, pkg.Types), part, typeString(n.Named, pkg.Types))
	} else if unnamedConstraint(pkg.code, n.Named) && mentionsTypeParam(n.Named) {
		problem = fmt.Sprintf("%s: the constraint of a type parameter of %s is not exported by package %s, so generated code cannot guard the type's shape for every instance; use it with type arguments that are not type parameters, or exclude the field with cache:\"-\"",
			at.path, typeString(n.Named, pkg.Types), obj.Pkg().Path())
	} else if why := pkg.constraint(pkg.Fset.Position(obj.Pos()).Filename); why != "" {
		problem = fmt.Sprintf("%s: type %s is declared in %s, which builds only %s, but cachegen writes one file for every build; move %s to a file without a constraint",
			at.path, typeString(n.Named, pkg.Types), filepath.Base(pkg.Fset.Position(obj.Pos()).Filename), why, obj.Name())
	}
	if problem == "" {
		problem = hashKeyConstraint(pkg, n, at)
	}
	if problem == "" {
		return true
	}
	if !reported[n] {
		reported[n] = true
		errs.add(at.pos, "%s", problem)
	}
	return false
}

// hashKeyConstraint returns why a named type's HashKey method exists only in some builds:
// declared in a file with a constraint, or in a file this build excludes.
func hashKeyConstraint(pkg *Package, n *Node, at site) string {
	obj := n.Named.Obj()
	if file := pkg.hashKeyElsewhere[obj.Name()]; file != "" && obj.Pkg() == pkg.Types {
		return fmt.Sprintf("%s: %s has a HashKey method in %s, which this build excludes: the generated code would hash %s differently in another build, or collide with that method; declare HashKey in a file without a constraint",
			at.path, obj.Name(), file, obj.Name())
	}
	m, _, _ := types.LookupFieldOrMethod(n.Named, true, nil, "HashKey")
	fn, ok := m.(*types.Func)
	if !ok || !hasHashKey(n.Named) {
		return ""
	}
	file := pkg.Fset.Position(fn.Pos()).Filename
	if why := pkg.constraint(file); why != "" {
		return fmt.Sprintf("%s: the HashKey method of %s is declared in %s, which builds only %s: in other builds the generated code would not compile; declare it in a file without a constraint",
			at.path, typeString(n.Named, pkg.Types), filepath.Base(file), why)
	}
	return ""
}

// unnamedConstraint reports whether a constraint of generic type n's type parameters cannot
// be named in the generated file.
func unnamedConstraint(c *coder, n *types.Named) bool {
	tp := n.Origin().TypeParams()
	for i := range tp.Len() {
		if !c.nameable(tp.At(i).Constraint()) {
			return true
		}
	}
	return false
}

// typeArgsOK reports whether every type argument of a generic key's instance is hashed by a
// HashKey that covers the whole of it: a type that has HashKey only by promotion from an
// embedded key satisfies keyhash.Key, but would be hashed as that embedded field alone.
func (e *keyEmitter) typeArgsOK(n *Node, at site) bool {
	ok := true
	for i := range n.TypeArgs().Len() {
		arg := n.TypeArgs().At(i)
		if e.pkg.keyLike(arg) {
			continue
		}
		if via := e.pkg.promotedKey(arg, 0); via != "" {
			base := arg
			if p, ok := types.Unalias(arg).(*types.Pointer); ok {
				base = p.Elem()
			}
			e.errs.add(at.pos, "%s: type argument %s of %s has a HashKey method only by promotion from its embedded field %s, which hashes that field and skips the others; annotate %s %s, or give it a HashKey method of its own",
				at.path, typeString(arg, e.pkg.Types), e.str(n), via, typeString(base, e.pkg.Types), keyDirective)
			ok = false
		}
	}
	return ok
}

// guardOwnHashKey reports whether a key of another package, n, needs its HashKey checked at
// run time: a struct that embeds a key, whose HashKey cachegen generates (in this run, or in
// a generated file). Were its package to stop generating it, the promoted one would compile.
func (pkg *Package) guardOwnHashKey(n *Node) bool {
	if !n.foreign(pkg.Types) {
		return false
	}
	st, ok := n.Named.Underlying().(*types.Struct)
	if !ok {
		return false
	}
	embeds := false
	for i := range st.NumFields() {
		if f := st.Field(i); f.Embedded() && pkg.keyLike(f.Type()) {
			embeds = true
		}
	}
	if !embeds {
		return false
	}
	if pkg.model.run.hashKey(n.Named) {
		return true
	}
	m, _, _ := types.LookupFieldOrMethod(n.Named, true, nil, "HashKey")
	fn, ok := m.(*types.Func)
	if !ok {
		return false
	}
	return pkg.generated(pkg.Fset.Position(fn.Pos()).Filename)
}

// generated reports, once per file, whether cachegen wrote the file: its first line is
// generatedHeader.
func (pkg *Package) generated(filename string) bool {
	if g, ok := pkg.generatedFiles[filename]; ok {
		return g
	}
	g := false
	if f, err := os.Open(expandGOROOT(filename)); err == nil {
		head := make([]byte, len(generatedHeader))
		_, err := io.ReadFull(f, head)
		f.Close()
		g = err == nil && isOurs(head)
	}
	pkg.generatedFiles[filename] = g
	return g
}

// keyLike reports whether t, or the type it points to, has a HashKey method of its own or
// gets one in this run: a key annotated in this package, or a struct of another package of
// the run.
func (pkg *Package) keyLike(t types.Type) bool {
	if hasHashKey(t) {
		return true
	}
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	if n.Obj().Pkg() == pkg.Types {
		st := pkg.byObj[n.Origin().Obj()]
		return st != nil && st.Key
	}
	return pkg.model.run.hashKey(n)
}

// promotedKey returns the embedded field through which struct t (or the struct t points to)
// is a key only by promotion, or "" if it is not. Such a HashKey hashes that field alone.
func (pkg *Package) promotedKey(t types.Type, depth int) string {
	if depth > 8 || pkg.keyLike(t) {
		return ""
	}
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	st, ok := t.Underlying().(*types.Struct)
	if !ok {
		return ""
	}
	for i := range st.NumFields() {
		f := st.Field(i)
		if !f.Embedded() {
			continue
		}
		if pkg.keyLike(f.Type()) {
			return f.Name()
		}
		if via := pkg.promotedKey(f.Type(), depth+1); via != "" {
			return f.Name() + "." + via
		}
	}
	return ""
}

// helperOf returns the helper function of recursive node n, planning it on first use.
func (e *keyEmitter) helperOf(n *Node, set bool, at site) *helper {
	if hp, ok := e.byNode[helperKey{n, set}]; ok {
		return hp
	}
	if mentionsTypeParam(n.Named) {
		if e.once(n) {
			e.errs.add(at.pos, "%s: the recursive type %s depends on a type parameter of the key; cachegen hashes recursive types with a helper function per type, which cannot take the key's type parameters: use a struct (its HashKey method can) or a non-generic type",
				at.path, e.str(n))
		}
		return nil
	}
	name := "cachegenHash" + n.Named.Obj().Name()
	if set {
		name += "Set"
	}
	hp := &helper{node: n, set: set, name: e.names.fresh(name), byPointer: containsLock(n.Named, nil) != ""}
	e.byNode[helperKey{n, set}] = hp
	e.helpers = append(e.helpers, hp)
	e.helperBody(hp, at)
	return hp
}

// list hashes a slice or an array: its length, then its elements.
func (e *keyEmitter) list(elem *Node, expr string, name label, depth int, at site) []jen.Code {
	i := loopVar("i", depth)
	inner := e.value(elem, operand(expr)+"["+i+"]", lit(""), false, depth+1, at.elem("[]"))
	if inner == nil {
		return nil
	}
	h := jen.Id("h")
	return []jen.Code{
		h.Clone().Dot("List").Call(name.code(), jen.Len(jen.Id(expr))),
		jen.For(jen.Id(i).Op(":=").Range().Id(expr)).Block(
			append([]jen.Code{h.Clone().Dot("Elem").Call(jen.Id(i))}, inner...)...,
		),
		h.Clone().Dot("EndList").Call(),
	}
}

// unordered hashes a map (key and elem) or a set (key only) as entries sorted by encoding.
func (e *keyEmitter) unordered(open, end string, key, elem *Node, expr string, name label, depth int, at site) []jen.Code {
	for _, part := range []*Node{key, elem} {
		if part == nil {
			continue
		}
		if lock := containsLock(part.Type, nil); lock != "" {
			e.errs.add(at.pos, "%s: %s holds a lock (%s), which ranging over the %s copies; store pointers, or exclude the field with cache:\"-\"",
				at.path, typeString(part.Type, e.pkg.Types), lock, strings.ToLower(open))
			return nil
		}
	}
	k, v := loopVar("k", depth), loopVar("v", depth)
	keyName := "key"
	if elem == nil {
		keyName = ""
	}
	body := []jen.Code{jen.Id("h").Dot("Entry").Call()}
	ks := e.value(key, k, lit(keyName), false, depth+1, at.elem("[key]"))
	body = append(body, ks...)
	ok := ks != nil
	// A variable that nothing is written from (an empty struct) is not declared: Go
	// refuses unused variables.
	kv, vv := "_", "_"
	if !writesNothing(key, 0) {
		kv = k
	}
	rangeVars := jen.Id("_").Op(",").Id(kv)
	if elem != nil {
		vs := e.value(elem, v, lit("value"), false, depth+1, at.elem("[value]"))
		ok = ok && vs != nil
		body = append(body, vs...)
		if !writesNothing(elem, 0) {
			vv = v
		}
		rangeVars = jen.Id(kv).Op(",").Id(vv)
	}
	if !ok {
		return nil
	}
	h := jen.Id("h")
	loop := rangeVars.Op(":=").Range().Id(expr)
	if kv == "_" && (elem == nil || vv == "_") {
		loop = jen.Range().Id(expr)
	} else if elem != nil && vv == "_" {
		loop = jen.Id(kv).Op(":=").Range().Id(expr)
	}
	return []jen.Code{
		h.Clone().Dot(open).Call(name.code(), jen.Len(jen.Id(expr))),
		jen.For(loop).Block(body...),
		h.Clone().Dot(end).Call(),
	}
}

// containsLock returns the lock type that a value of t holds (not through a pointer), as go
// vet's copylocks check finds them: a type whose pointer has Lock and Unlock methods, held in
// a struct field or an array. It returns "" if there is none.
func containsLock(t types.Type, seen map[types.Type]bool) string {
	if seen == nil {
		seen = map[types.Type]bool{}
	}
	if seen[t] {
		return ""
	}
	seen[t] = true
	if n, ok := types.Unalias(t).(*types.Named); ok {
		lock, _, _ := types.LookupFieldOrMethod(types.NewPointer(n), false, n.Obj().Pkg(), "Lock")
		unlock, _, _ := types.LookupFieldOrMethod(types.NewPointer(n), false, n.Obj().Pkg(), "Unlock")
		_, isLock := lock.(*types.Func)
		_, isUnlock := unlock.(*types.Func)
		// Promoted methods are found where the field that holds them is.
		if isLock && isUnlock && isLockShape(n) {
			return typeString(n, nil)
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		for i := range u.NumFields() {
			if l := containsLock(u.Field(i).Type(), seen); l != "" {
				return l
			}
		}
	case *types.Array:
		return containsLock(u.Elem(), seen)
	}
	return ""
}

// isLockShape reports whether a named type declares Lock or Unlock itself, rather than
// having them by promotion from a field.
func isLockShape(n *types.Named) bool {
	for i := range n.NumMethods() {
		if name := n.Method(i).Name(); name == "Lock" || name == "Unlock" {
			return true
		}
	}
	return false
}

// writesNothing reports whether hashing a value of shape n writes nothing and so does not use
// the value: an empty struct, or one whose fields are all excluded.
func writesNothing(n *Node, depth int) bool {
	switch {
	case depth > 32:
		return false
	case n.Kind == KindStruct:
		for _, f := range n.Fields {
			if f.hashed() && !writesNothing(f.Node, depth+1) {
				return false
			}
		}
		return true
	case n.Kind == KindNamed && n.Under != nil && !n.Recursive:
		return writesNothing(n.Under, depth+1)
	}
	return false
}

// isByteNode reports whether n is byte (uint8) itself, not a named type over it: only then
// is a slice of it assignable to []byte.
func isByteNode(n *Node) bool {
	return n.Kind == KindBasic && n.Basic == types.Uint8
}

// hasHashKey reports whether t, or a pointer to it, has the method HashKey(*keyhash.Hasher).
// For a type parameter it asks the constraint, and for an interface its method set.
//
// A HashKey promoted from an embedded field does not count: it would hash that field only,
// and skip every other field of t.
func hasHashKey(t types.Type) bool {
	found, own := lookupMethod(t, true, "HashKey", func(sig *types.Signature) bool {
		return sig.Params().Len() == 1 && sig.Results().Len() == 0 && isHasherPtr(sig.Params().At(0).Type())
	})
	return found && own
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
