package gen

import (
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/dave/jennifer/jen"
	"github.com/tinylib/msgp/gen"
	"github.com/tinylib/msgp/parse"
)

// msgpPath is the import path of msgp's runtime, which the serializers call.
const msgpPath = "github.com/tinylib/msgp/msgp"

// Decoding limits written into every generated file. A count above them is an error rather
// than an allocation; UnmarshalMsg also refuses any count larger than the bytes left in its
// input (each element takes at least one), so garbage cannot make it allocate more than a
// small multiple of its input.
const (
	limitPrefix = "cachegen"
	arrayLimit  = 1 << 30
	mapLimit    = 1 << 30
)

// valueChecker decides which structs get msgp methods and refuses, at the field, every type
// that msgp cannot round-trip exactly (msgp itself would drop such a field with a warning).
// It walks the same model as the key emitter.
type valueChecker struct {
	pkg *Package
	// adopted is the struct being checked when its fields are declared in another package
	// (type O dep.S): they cannot be tagged msg:"-".
	adopted *Struct
	// path holds the named types being checked, outermost first, to find types that
	// contain each other.
	path []*types.Named
}

// msgpLocalName matches the identifiers msgp's generated methods declare locally: a type of
// that name could not be named inside them.
var msgpLocalName = regexp.MustCompile(`^(z|o|b|s|bts|field|err|dc|en|msgp|z[a-z]\d{4})$`)

func msgpLocal(name string) bool { return msgpLocalName.MatchString(name) }

// check validates s and every same-package struct it reaches, appending problems to errs,
// and returns the structs involved (s first) so that they all get methods.
func (c *valueChecker) check(s *Struct, errs *ErrorList) []*Struct {
	seen := map[*Struct]bool{}
	reported := map[*Node]bool{}
	c.path = c.path[:0]
	var order []*Struct
	var visit func(s *Struct, at site)
	visit = func(s *Struct, at site) {
		if i := slices.Index(c.path, s.Named.Origin()); i >= 0 && i < len(c.path)-1 {
			// msgp inlines small named types into the types that use them; two that
			// contain each other make its generator recurse until the stack overflows.
			errs.add(at.pos, "%s: %s and %s contain each other, which msgp's generator cannot handle (it inlines one into the other without end); break the cycle with a type that has serializers of its own, or leave the value type without msgp serializers",
				at.path, s.Name(), c.path[len(c.path)-1].Obj().Name())
			return
		}
		if seen[s] {
			return
		}
		seen[s] = true
		order = append(order, s)
		if msgpLocal(s.Name()) {
			errs.add(s.Pos, "%s: msgp's generated code uses %s as a local name, so it cannot name this type; rename the type", s.Name(), s.Name())
			return
		}
		c.path = append(c.path, s.Named.Origin())
		defer func() { c.path = c.path[:len(c.path)-1] }()
		if s.Named.TypeParams().Len() > 0 {
			errs.add(s.Pos, "%s: generic structs cannot get msgp serializers; use a non-generic value type", s.Name())
			return
		}
		if s.unusable != "" {
			errs.add(s.Pos, "%s: %s", s.Name(), s.unusable)
			return
		}
		if lock := containsLock(s.Named, nil); lock != "" {
			errs.add(s.Pos, "%s holds a lock (%s), which msgp's methods on %s values would copy; keep the lock out of the value type", s.Name(), lock, s.Name())
			return
		}
		if conflict := declaredName(s, msgpMethods...); conflict != "" {
			errs.add(s.Pos, "%s: it declares %s, which msgp's generated methods would collide with; rename it, or leave %s without msgp serializers", s.Name(), conflict, s.Name())
			return
		}
		for i, f := range s.Fields {
			if !f.serialized() {
				continue
			}
			at := site{pos: f.Pos, path: s.path(f)}
			checkMsgpTag(s.Type.Tag(i), f.Var.Type(), at, errs)
			c.adopted = nil
			if f.Adopted {
				c.adopted = s
			}
			c.node(f.valNode(c.pkg.model, s.Name()), at, errs, reported, func(r *Struct, path string) {
				if !r.Key && !r.Value && r.Via == "" {
					r.Via = path
				}
				visit(r, site{pos: at.pos, path: path})
			})
			c.adopted = nil
		}
	}
	visit(s, site{pos: s.Pos, path: s.Name()})
	return order
}

// node validates the shape of one field's type. reach is called for same-package structs.
func (c *valueChecker) node(n *Node, at site, errs *ErrorList, reported map[*Node]bool, reach func(*Struct, string)) {
	ts := nodeString(n, c.pkg.Types)
	switch n.Kind {
	case KindTime, KindDuration:
		return
	case KindInvalid:
		if n.Invalid != "" {
			errs.add(at.pos, "%s: %s", at.path, n.Invalid)
		} else {
			errs.addErr(c.pkg.typeError(at))
		}
		return
	case KindInterface:
		// Even one whose methods are msgp's: decoding would call them on a nil interface.
		errs.add(at.pos, "%s: interface type %s cannot be serialized: its dynamic type would be lost; use a concrete type, or %s", at.path, ts, c.leaveOut())
		return
	case KindCustom:
		c.node(n.Under, at, errs, reported, reach)
	case KindHashKey, KindForeignStruct, KindNamed, KindMarshal:
		if n.Struct == nil && n.foreign(c.pkg.Types) && !foreignBasic(n) {
			if via := promotedMsgp(n.Type); !n.Msgp && via != "" {
				errs.add(at.pos, "%s: %s has msgp methods only by promotion from its embedded field %s, which serialize that field and drop the others; use a struct of your package with the same fields (it gets serializers), or %s",
					at.path, ts, via, c.leaveOut())
			} else if !n.Msgp {
				errs.add(at.pos, "%s: %s is declared in another package and has no msgp methods (DecodeMsg, EncodeMsg, MarshalMsg, UnmarshalMsg, Msgsize), so it cannot be serialized; use a type that has them, or %s",
					at.path, ts, c.leaveOut())
			} else if part := c.pkg.code.unnameable(n.Type); n.Msgp && !isInterface(n.Type) && part != "" && !reported[n] {
				// Its methods are called, and must be guarded, by name (ownMethodGuards).
				reported[n] = true
				errs.add(at.pos, "%s: %s is serialized by its msgp methods, but it names %s, so generated code cannot guard that it still declares them itself; use a struct of your package with the same fields (it gets serializers), or %s",
					at.path, ts, part, c.leaveOut())
			}
			return
		}
		if n.Msgp {
			return // hand-written serializers
		}
		if !checkNamed(c.pkg, n, at, errs, reported) {
			return
		}
		if n.TypeArgs().Len() > 0 {
			if !reported[n] {
				reported[n] = true
				errs.add(at.pos, "%s: generic type %s cannot get msgp serializers; use a non-generic type", at.path, ts)
			}
			return
		}
		if n.Struct != nil {
			reach(n.Struct, at.path)
			return
		}
		if n.Recursive {
			if !reported[n] {
				reported[n] = true
				errs.add(at.pos, "%s: %s contains itself, and msgp inlines named types of this kind: it cannot serialize it; use a struct for the recursive part", at.path, ts)
			}
			return
		}
		if msgpLocal(n.Named.Obj().Name()) {
			if !reported[n] {
				reported[n] = true
				errs.add(at.pos, "%s: msgp's generated code uses %s as a local name, so it cannot name the type %s; rename the type", at.path, n.Named.Obj().Name(), ts)
			}
			return
		}
		c.path = append(c.path, n.Named.Origin())
		c.node(n.Under, at, errs, reported, reach)
		c.path = c.path[:len(c.path)-1]
	case KindBasic:
		switch n.Basic {
		case types.UnsafePointer:
			errs.add(at.pos, "%s: unsafe.Pointer cannot be serialized; %s", at.path, c.leaveOut())
		case types.Uintptr:
			errs.add(at.pos, "%s: uintptr cannot be serialized (an address is meaningless in another process); use uint64, or %s", at.path, c.leaveOut())
		}
	case KindPointer:
		switch n.Elem.Type.Underlying().(type) {
		case *types.Array, *types.Map:
			errs.add(at.pos, "%s: msgp generates code that does not compile for a pointer to %s; use the %s itself", at.path, typeString(n.Elem.Type, c.pkg.Types), kindWord(n.Elem.Type))
			return
		}
		if _, ok := n.Elem.Type.Underlying().(*types.Pointer); ok {
			errs.add(at.pos, "%s: a pointer to a pointer cannot round-trip (msgp writes a non-nil pointer to nil as nil); use one pointer, or %s", at.path, c.leaveOut())
			return
		}
		c.node(n.Elem, at, errs, reported, reach)
	case KindSlice, KindArray:
		if n.Kind == KindArray && n.Elem.Kind == KindNamed && n.Elem.Under != nil && isByteNode(n.Elem.Under) {
			errs.add(at.pos, "%s: msgp writes an array of %s as bytes, with code that does not compile for a named byte type; use [%d]byte, or a slice", at.path, nodeString(n.Elem, c.pkg.Types), n.Len)
			return
		}
		c.node(n.Elem, at.elem("[]"), errs, reported, reach)
	case KindMap:
		if n.Key.Kind != KindBasic || !msgpMapKey(n.Key.Type) {
			errs.add(at.pos, "%s: map key type %s cannot be serialized; use string, a built-in integer type or bool as the key",
				at.path, typeString(n.Key.Type, c.pkg.Types))
			return
		}
		c.node(n.Elem, at.elem("[value]"), errs, reported, reach)
	case KindStruct:
		for _, f := range n.Fields {
			sub := site{pos: f.Pos, path: at.path + "." + f.Name()}
			if f.MsgSkip {
				// The generated file lists what msgp leaves out of a named struct only.
				errs.add(sub.pos, "%s: msg:\"-\" inside an anonymous struct is not supported for values; give the struct a name", sub.path)
				continue
			}
			if f.Name() != "_" {
				c.node(f.valNode(c.pkg.model, at.path), sub, errs, reported, reach)
			}
		}
	case KindFunc:
		errs.add(at.pos, "%s: func type %s cannot be serialized; %s", at.path, ts, c.leaveOut())
	case KindChan:
		errs.add(at.pos, "%s: channel type %s cannot be serialized; %s", at.path, ts, c.leaveOut())
	case KindTypeParam:
		errs.add(at.pos, "%s: type parameter %s cannot be serialized", at.path, ts)
	}
}

// foreignBasic reports whether n is a named basic type of another package (an enum such as
// api.Loader): msgp serializes it as its underlying type, through a replace directive.
func foreignBasic(n *Node) bool {
	return n.Kind == KindNamed && n.Under != nil && n.Under.Kind == KindBasic && !n.Msgp
}

// msgpMethods are the methods msgp generates.
var msgpMethods = []string{"DecodeMsg", "EncodeMsg", "MarshalMsg", "UnmarshalMsg", "Msgsize"}

// declaredName returns the first of names that s declares as a method or a field: generated
// methods of that name would not compile.
func declaredName(s *Struct, names ...string) string {
	for _, name := range names {
		for i := range s.Named.NumMethods() {
			if s.Named.Method(i).Name() == name {
				return "a method " + name
			}
		}
		for i := range s.Type.NumFields() {
			if s.Type.Field(i).Name() == name {
				return "a field " + name
			}
		}
	}
	return ""
}

// msgpMapKey reports whether msgp can use t as a map key: string itself, or (through its
// autoshim directive) a built-in integer or bool type.
func msgpMapKey(t types.Type) bool {
	b, ok := types.Unalias(t).(*types.Basic)
	if !ok {
		return false
	}
	switch b.Kind() {
	case types.String, types.Bool,
		types.Int, types.Int8, types.Int16, types.Int32, types.Int64,
		types.Uint, types.Uint8, types.Uint16, types.Uint32, types.Uint64:
		return true
	}
	return false
}

// hasMsgpMethods reports whether the named type t declares msgp's five methods itself (on t
// or *t). Methods promoted from an embedded field do not count, as for HashKey and the
// encodings (hasOwnMethod): they serialize that field alone, and a round trip would drop the
// others. An interface's methods do not count either: decoding needs a concrete value, and
// the dynamic type would be lost.
func hasMsgpMethods(t types.Type) bool {
	if isInterface(t) {
		return false
	}
	for _, m := range msgpMethods {
		if _, own := lookupMethod(t, true, m, anySignature); !own {
			return false
		}
	}
	return true
}

// promotedMsgp returns the embedded field of struct type t that msgp's five methods are
// promoted from, or "" when t does not have them all by promotion.
func promotedMsgp(t types.Type) string {
	via := ""
	for _, m := range msgpMethods {
		obj, index, _ := types.LookupFieldOrMethod(t, true, nil, m)
		st, ok := t.Underlying().(*types.Struct)
		if obj == nil || len(index) < 2 || !ok {
			return ""
		}
		if via == "" {
			via = st.Field(index[0]).Name()
		}
	}
	return via
}

// anySignature accepts every signature.
func anySignature(*types.Signature) bool { return true }

// msgpCode runs msgp's parser and generator in-process and appends to dst the methods of the
// structs in set, with limit constants. msgp reads syntax only, every type it is shown, and
// trips over some it need not see (aliases, for one), so it is not shown the package: it is
// shown a file synthesized from the type-checked model, holding the structs of set without
// the fields msgp's own tag drops, aliases resolved, and the same-package named types they refer to.
// Then every field the model keeps must be one msgp kept (a msg:"-" tag, for example, would
// make msgp drop it silently). others are the named non-struct types msgp inlines
// (inlinedTypes).
func msgpCode(dst []byte, pkg *Package, set []*Struct, others []*types.Named) (code []byte, errs ErrorList) {
	defer func() {
		if r := recover(); r != nil {
			code, errs = nil, ErrorList{{Pos: set[0].Pos, Msg: fmt.Sprintf("msgp failed on the value types of %s: %v", pkg.Path, r)}}
		}
	}()
	src, err := msgpSource(pkg, set, others)
	if err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("msgp input for %s: %v", pkg.Path, err)}}
	}
	dir, err := os.MkdirTemp("", "cachegen-msgp-")
	if err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("msgp: %v", err)}}
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "types.go")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("msgp: %v", err)}}
	}
	directives := []string{
		"maps autoshim",
		fmt.Sprintf("limit arrays:%d maps:%d", arrayLimit, mapLimit),
	}
	replaces, err := foreignReplaces(pkg, set, src)
	if err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("msgp input for %s: %v", pkg.Path, err)}}
	}
	directives = append(directives, replaces...)
	fs, err := parse.File(file, true, directives)
	if err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("msgp could not parse the value types of %s: %v", pkg.Path, err)}}
	}
	// The limit constants are declared in the package: their prefix must not collide with
	// its own identifiers.
	prefix := limitPrefix
	for i := 2; pkg.Types.Scope().Lookup(prefix+"limitArrays") != nil || pkg.Types.Scope().Lookup(prefix+"limitMaps") != nil; i++ {
		prefix = limitPrefix + strconv.Itoa(i)
	}
	fs.LimitPrefix = prefix
	// msgp stores a time as its instant; decoding it in UTC, rather than in the zone of
	// whatever machine reads the cache, makes a decoded value the same everywhere.
	fs.AsUTC = true

	want := map[string]*Struct{}
	for _, s := range set {
		want[s.Name()] = s
	}
	for name, elem := range fs.Identities {
		s, ok := want[name]
		if !ok {
			delete(fs.Identities, name) // a named type msgp inlines where it is used
			continue
		}
		st, ok := elem.(*gen.Struct)
		if !ok {
			errs.add(s.Pos, "%s: msgp did not read it as a struct", s.Name())
			continue
		}
		have := map[string]bool{}
		wire := map[string]string{}
		for _, f := range st.Fields {
			have[f.FieldName] = true
			if other, dup := wire[f.FieldTag]; dup {
				errs.add(fieldPos(s, f.FieldName), "%s.%s: its msgp name %q is also the name of %s; give one of them another name with a msg tag", s.Name(), f.FieldName, f.FieldTag, other)
			}
			wire[f.FieldTag] = f.FieldName
		}
		for _, f := range s.Fields {
			if f.serialized() && !have[f.Name()] {
				errs.add(f.Pos, "%s.%s: msgp would not serialize this field; drop it from values explicitly with msg:\"-\", so that the generated file lists it",
					s.Name(), f.Name())
			}
		}
	}
	for _, s := range set {
		if _, ok := fs.Identities[s.Name()]; !ok {
			errs.add(s.Pos, "%s: msgp did not find this type", s.Name())
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	dst = fmt.Appendf(dst, "\n// Decoding limits of the msgp serializers below.\nconst (\n\t%slimitArrays = %d\n\t%slimitMaps = %d\n)\n",
		prefix, arrayLimit, prefix, mapLimit)
	out := &guardWriter{b: dst, prefix: prefix}
	p := gen.NewPrinter(gen.Encode|gen.Decode|gen.Marshal|gen.Unmarshal|gen.Size, out, io.Discard)
	if err := fs.PrintTo(p); err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("msgp could not generate code for %s: %v", pkg.Path, err)}}
	}
	out.line(out.partial)
	return out.b, nil
}

// A guardWriter appends the code msgp writes to b, line by line, adding the guards of
// line. It writes into the one buffer the generated file is assembled in: a large
// package's serializers are megabytes, and each copy of them into fresh memory costs its
// page faults.
type guardWriter struct {
	b         []byte
	partial   []byte // the start of a line not ended yet
	prefix    string
	unmarshal bool // the lines are those of an UnmarshalMsg
}

// Write appends the lines p ends, and keeps the start of the next one.
func (w *guardWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			break
		}
		line := p[:i+1]
		p = p[i+1:]
		if len(w.partial) > 0 {
			line = append(w.partial, line...)
		}
		w.line(line)
		w.partial = w.partial[:0]
	}
	return n, nil
}

// WriteString is Write, reading s in place.
func (w *guardWriter) WriteString(s string) (int, error) {
	w.Write(unsafe.Slice(unsafe.StringData(s), len(s))) // Write does not change what it reads
	return len(s), nil
}

// line appends a whole line of msgp's code to b. In every UnmarshalMsg, a check that an
// array or map count is no larger than its limit also checks it against the bytes left to
// decode, so that a forged header is an error before it is an allocation. A function starts
// at a line "func (", and only lines that compare with a limit are matched.
func (w *guardWriter) line(line []byte) {
	if bytes.HasPrefix(line, []byte("func (")) {
		w.unmarshal = bytes.Contains(line, []byte(") UnmarshalMsg(bts []byte)"))
	}
	if w.unmarshal && bytes.Contains(line, []byte("limit")) {
		line = limitCheck.ReplaceAllFunc(line, func(m []byte) []byte {
			sub := limitCheck.FindSubmatch(m)
			if string(sub[2]) != w.prefix {
				return m
			}
			return fmt.Appendf(nil, "if %s > %slimit%s || uint64(%s) > uint64(len(bts)) {", sub[1], w.prefix, sub[3], sub[1])
		})
	}
	w.b = append(w.b, line...)
}

// fieldPos returns the position of s's field name, or of s itself.
func fieldPos(s *Struct, name string) token.Position {
	for _, f := range s.Fields {
		if f.Name() == name {
			return f.Pos
		}
	}
	return s.Pos
}

// msgpOptions are the options of a msg or msgpack tag that keep a value's round trip exact.
// Others change what is encoded (flatten, extension) or refuse on decoding what encoding
// accepted (limit=N).
var msgpOptions = map[string]bool{"omitempty": true, "omitzero": true, "allownil": true}

// hasIsZero reports whether t has a method IsZero() bool.
func hasIsZero(t types.Type) bool {
	return hasMethod(types.NewPointer(t), "IsZero", nil, []types.Type{types.Typ[types.Bool]})
}

// kindWord names what t's underlying type is, for messages.
func kindWord(t types.Type) string {
	if _, ok := t.Underlying().(*types.Map); ok {
		return "map"
	}
	return "array"
}

// checkMsgpTag refuses msgp tag options that would break the round trip, or that msgp's code
// would not compile for the field's type t (omitzero calls an IsZero method).
func checkMsgpTag(tag string, t types.Type, at site, errs *ErrorList) {
	for _, key := range []string{"msg", "msgpack"} {
		val, ok := reflect.StructTag(tag).Lookup(key)
		if !ok {
			continue
		}
		parts := strings.Split(val, ",")
		for _, opt := range parts[1:] {
			if !msgpOptions[opt] {
				errs.add(at.pos, "%s: option %q of tag %s:%q is not supported: a cached value must decode to what was encoded", at.path, opt, key, val)
			}
			if opt == "omitzero" && !hasIsZero(t) {
				errs.add(at.pos, "%s: option omitzero of tag %s:%q needs a type with an IsZero method, which %s does not have (msgp's code calls it); use omitempty", at.path, key, val, typeString(t, nil))
			}
		}
	}
}

// inlinedTypes returns the same-package named types, other than the structs of set, that the
// fields of set use: msgp inlines them, converting to and from their underlying types.
func inlinedTypes(pkg *Package, set []*Struct) []*types.Named {
	var out []*types.Named
	seen := map[*Node]bool{}
	for _, s := range set {
		for _, f := range s.Fields {
			if !f.serialized() {
				continue
			}
			walkNodes(f.modelled(), seen, func(n *Node) bool {
				if n.Struct != nil || n.Msgp {
					return false // a struct of set, or one with serializers of its own
				}
				if n.Under != nil && !n.foreign(pkg.Types) {
					out = append(out, n.Named) // KindNamed, or KindHashKey over a non-struct
				}
				return n.Named == nil || n.Under != nil
			})
		}
	}
	return out
}

// foreignReplaces returns msgp's replace directives for the named basic types of other
// packages that the fields of set use, spelled as src (msgp's input) names them: msgp then
// converts them to and from their underlying types, as it does for the package's own.
func foreignReplaces(pkg *Package, set []*Struct, src []byte) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	names := map[string]string{} // import path -> name in src
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if imp.Name != nil {
			names[path] = imp.Name.Name
		}
	}
	var out []string
	seen := map[*Node]bool{}
	for _, s := range set {
		for _, fld := range s.Fields {
			if !fld.serialized() {
				continue
			}
			walkNodes(fld.modelled(), seen, func(n *Node) bool {
				if n.Struct != nil || n.Msgp {
					return false
				}
				if foreignBasic(n) && n.foreign(pkg.Types) {
					p := n.Named.Obj().Pkg()
					name, ok := names[p.Path()]
					if !ok {
						name = p.Name()
					}
					// As msgp's input names the type: through its exported alias, for a
					// type that is not exported (dep.Lower = dep.lower).
					tname := n.Named.Obj().Name()
					if a, ok := n.Spelled.(*types.Alias); ok {
						tname = a.Obj().Name()
					}
					out = append(out, fmt.Sprintf("replace %s.%s with:%s", name, tname, types.Typ[n.Under.Basic].Name()))
				}
				return n.Named == nil || n.Under != nil
			})
		}
	}
	return out, nil
}

// msgpSource writes the declarations msgp is shown: the structs of set, each field with its
// original tag and its type with aliases resolved, fields msgp's tag drops left out; and the
// same-package named non-struct types they use (others), which msgp inlines.
func msgpSource(pkg *Package, set []*Struct, others []*types.Named) ([]byte, error) {
	f := jen.NewFilePathName(pkg.Path, pkg.Name)
	// Packages are imported under their names, which the replace directives of their
	// named basic types use (foreignReplaces reads any other name back from the source).
	seen := map[*Node]bool{}
	for _, s := range set {
		for _, fld := range s.Fields {
			if !fld.serialized() {
				continue
			}
			walkNodes(fld.modelled(), seen, func(n *Node) bool {
				if foreignBasic(n) && n.foreign(pkg.Types) {
					f.ImportName(n.Named.Obj().Pkg().Path(), n.Named.Obj().Pkg().Name())
				}
				return n.Struct == nil
			})
		}
	}
	for _, s := range set {
		var fields []jen.Code
		for i, fld := range s.Fields {
			if !fld.serialized() {
				continue
			}
			fields = append(fields, pkg.code.msgpField(fld.Var, s.Type.Tag(i)))
		}
		f.Type().Id(s.Name()).Struct(fields...)
	}
	for _, n := range others {
		f.Type().Id(n.Obj().Name()).Add(pkg.code.typ(n.Underlying()))
	}
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var limitCheck = regexp.MustCompile(`if (zb\d+) > (\w+)limit(Arrays|Maps) \{`)

// leaveOut returns the fix that leaves a field out of values: msgp's tag, or, for a field of a
// struct declared in another package, which cannot be tagged, a struct of the user's own.
func (c *valueChecker) leaveOut() string {
	if s := c.adopted; s != nil {
		return fmt.Sprintf("leave it out of values with msg:\"-\", which a field of %s (declared in package %s) cannot carry: store a struct of your package with the fields you need instead of %s",
			s.Name(), s.Type.Field(0).Pkg().Path(), s.Name())
	}
	return `leave it out of values with msg:"-"`
}
