package gen

import (
	"go/types"

	"golang.org/x/tools/go/types/typeutil"
)

// A Kind is the shape of a Node.
type Kind int

// The kinds of Node. Every type a generated struct's fields can hold is one of them; the
// kinds that cannot be hashed or serialized are kept in the model too, so that the walks that
// check it report them at the field that holds them.
const (
	KindInvalid       Kind = iota // the type checker could not resolve the type
	KindBasic                     // an unnamed basic type: Basic
	KindTime                      // time.Time
	KindDuration                  // time.Duration
	KindPointer                   // *Elem
	KindSlice                     // []Elem
	KindArray                     // [Len]Elem
	KindMap                       // map[Key]Elem
	KindStruct                    // an anonymous struct: Fields
	KindNamed                     // a named type hashed through its shape: Struct, or Under
	KindHashKey                   // a named type with a HashKey method of its own
	KindInterface                 // an interface; KeyBound says whether it embeds keyhash.Key
	KindTypeParam                 // a type parameter; KeyBound says whether keyhash.Key constrains it
	KindFunc                      // a func type
	KindChan                      // a channel type
	KindForeignStruct             // a struct of another package that is a key only by promotion from an embedded key
	KindMarshal                   // a type of another package hashed by its encoding: Method
	KindCustom                    // a type hashed by a function of the package marked //cachegen:hash: Func, Under
)

// A Node is the shape of one type, as far as generated code depends on it. A package's nodes
// form one graph (a named type has one node however often it is used, and a recursive type
// refers back to itself), and everything cachegen derives from a key is derived from that
// graph: the HashKey code, the guards that break the build when a type changes, the schema
// fingerprint, and the checks that report what cannot be hashed or serialized. Deriving them
// from one model is what keeps them from disagreeing about what a key depends on.
type Node struct {
	Kind Kind
	// Type is the type the node describes, aliases resolved.
	Type types.Type

	Invalid   string          // KindInvalid: why, when the type checker did not say
	Basic     types.BasicKind // KindBasic
	Elem, Key *Node           // KindPointer, KindSlice, KindArray, KindMap
	Len       int64           // KindArray
	Fields    []*Field        // KindStruct

	// Named is the named type of a KindNamed, KindHashKey, KindForeignStruct or named
	// KindInterface node.
	Named *types.Named
	// Spelled is how generated code names Named: Named itself, or an exported alias of it
	// when Named is not exported from its package; nil when there is no such name.
	Spelled types.Type
	// Struct is the model of a named struct of the package being generated (KindNamed).
	Struct *Struct
	// Under is the shape of any other KindNamed type's underlying type.
	Under *Node
	// Recursive is set on a KindNamed node whose Under reaches the node again without
	// passing through a struct's HashKey method: its code is a helper function that calls
	// itself, since inlining it would never end.
	Recursive bool
	// KeyBound: a KindInterface embeds keyhash.Key; a KindTypeParam is constrained by it.
	KeyBound bool
	// Msgp reports that the named type has msgp's five methods, or gets them in this run.
	Msgp bool
	// Method is the method that encodes a KindMarshal type: MarshalBinary, GobEncode or
	// MarshalText, each declared on the type with its decoding half (roundTrip).
	Method string
	// Func is the function of the package that hashes a KindCustom type, whose shape (for
	// serializers) is Under.
	Func *types.Func
}

// TypeArgs returns the type arguments of a named node's type.
func (n *Node) TypeArgs() *types.TypeList {
	if n.Named == nil {
		return nil
	}
	return n.Named.TypeArgs()
}

// foreign reports whether a named node's type is declared outside pkg.
func (n *Node) foreign(pkg *types.Package) bool {
	return n.Named != nil && n.Named.Obj().Pkg() != pkg
}

// A modeler builds the nodes of one package. Named types are memoized, so each has one node
// and a recursive type's node refers to itself.
type modeler struct {
	pkg  *Package
	run  *runIndex
	memo typeutil.Map // *types.Named (each instance of a generic type apart) -> *Node
	// custom holds the KindCustom node of each type hashed by a //cachegen:hash function.
	custom typeutil.Map
	stack  []frame // the named nodes being built, outermost first
	errs   *ErrorList
	// where is the path of the field whose type is being built, for messages about the
	// tags of an anonymous struct's fields.
	where string
}

// A frame is a named node whose shape is being built.
type frame struct {
	n        *Node
	isStruct bool // a struct of the package: reaching it again is a HashKey call, not a cycle
}

// node returns the node of t, building it (and the nodes it reaches) on first use.
func (m *modeler) node(t types.Type) *Node {
	if a, ok := t.(*types.Alias); ok {
		n := m.node(types.Unalias(a))
		// A foreign named type that is not exported can still be named through an
		// exported alias of it, the way the source names it.
		if n.Named != nil && n.Spelled == nil && a.Obj().Exported() && a.TypeArgs().Len() == 0 && !hasTypeParams(a.Obj().Type()) {
			n.Spelled = a
			if n.Named.TypeArgs().Len() == 0 {
				m.pkg.code.spell[n.Named.Obj()] = a
			}
		}
		// The same for an instance of a generic type that is not exported: the alias names
		// that instance (type IntBox = ubox[int]).
		if t := n.Named; t != nil && t.TypeArgs().Len() > 0 && !t.Obj().Exported() && t.Obj().Pkg() != m.pkg.Types &&
			a.Obj().Exported() && a.TypeArgs().Len() == 0 && !hasTypeParams(a.Obj().Type()) && !mentionsTypeParam(t) && m.pkg.code.spellInst.At(t) == nil {
			m.pkg.code.spellInst.Set(t, a)
			if n.Spelled == nil || n.Spelled == a {
				n.Spelled = a
			}
		}
		return n
	}
	if fn, ok := m.pkg.hashFuncs.At(t).(*types.Func); ok {
		if n, ok := m.custom.At(t).(*Node); ok {
			return n
		}
		n := &Node{Kind: KindCustom, Type: t, Func: fn}
		m.custom.Set(t, n)
		n.Under = m.shape(t)
		return n
	}
	return m.shape(t)
}

// shape returns the node of t by the shape of its type, whatever function hashes it.
func (m *modeler) shape(t types.Type) *Node {
	switch t := t.(type) {
	case *types.Named:
		return m.named(t)
	case *types.Basic:
		if t.Kind() == types.Invalid {
			return &Node{Kind: KindInvalid, Type: t}
		}
		return &Node{Kind: KindBasic, Type: t, Basic: t.Kind()}
	case *types.Pointer:
		return &Node{Kind: KindPointer, Type: t, Elem: m.node(t.Elem())}
	case *types.Slice:
		return &Node{Kind: KindSlice, Type: t, Elem: m.node(t.Elem())}
	case *types.Array:
		return &Node{Kind: KindArray, Type: t, Len: t.Len(), Elem: m.node(t.Elem())}
	case *types.Map:
		return &Node{Kind: KindMap, Type: t, Key: m.node(t.Key()), Elem: m.node(t.Elem())}
	case *types.Struct:
		n := &Node{Kind: KindStruct, Type: t}
		for i := range t.NumFields() {
			n.Fields = append(n.Fields, m.field(t.Field(i), t.Tag(i), m.where, false))
		}
		return n
	case *types.Interface:
		return &Node{Kind: KindInterface, Type: t, KeyBound: hasHashKey(t)}
	case *types.TypeParam:
		return &Node{Kind: KindTypeParam, Type: t, KeyBound: hasHashKey(t)}
	case *types.Signature:
		return &Node{Kind: KindFunc, Type: t}
	case *types.Chan:
		return &Node{Kind: KindChan, Type: t}
	}
	return &Node{Kind: KindInvalid, Type: t}
}

// maxNesting bounds how many named types deep a shape may go. The type checker accepts some
// generic types whose instances nest without end (type Nest[T any] map[string]Nest[List[T]]);
// their model would never be finished.
const maxNesting = 100

// named returns the node of a named type.
func (m *modeler) named(t *types.Named) *Node {
	if n, ok := m.memo.At(t).(*Node); ok {
		m.noteCycle(n)
		return n
	}
	if len(m.stack) > maxNesting {
		return &Node{Kind: KindInvalid, Type: t, Invalid: "its type nests named types without end (an instantiation cycle); the type checker reports it where the type is declared"}
	}
	n := &Node{Type: t, Named: t}
	if p := t.Obj().Pkg(); p == m.pkg.Types || t.Obj().Exported() && (p == nil || importable(p.Path(), m.pkg.Types.Path())) {
		n.Spelled = t // else an exported alias may name it (node)
	}
	m.memo.Set(t, n)
	obj := t.Obj()
	foreign := obj.Pkg() != m.pkg.Types
	n.Msgp = hasMsgpMethods(t) || (foreign && m.run.msgp(t))
	switch {
	case obj.Pkg() != nil && obj.Pkg().Path() == "time" && obj.Name() == "Time":
		n.Kind = KindTime
		return n
	case obj.Pkg() != nil && obj.Pkg().Path() == "time" && obj.Name() == "Duration":
		n.Kind = KindDuration
		return n
	case isInterface(t):
		n.Kind, n.KeyBound = KindInterface, hasHashKey(t)
		return n
	case hasHashKey(t):
		// A HashKey of its own: hand-written, generated earlier, or (for a foreign type)
		// generated in this run. A struct of the package is still modelled, for values.
		n.Kind = KindHashKey
		if !foreign {
			m.shapeOf(n, t)
		}
		return n
	case foreign && m.run.hashKey(t):
		n.Kind = KindHashKey
		return n
	}
	if foreign && byEncoding(t.Underlying()) {
		if method := roundTrip(t); method != "" {
			n.Kind, n.Method = KindMarshal, method
			return n
		}
	}
	if foreign && isStructType(t) && m.pkg.promotedKey(t, 0) != "" {
		// A key only by promotion: refused where it is used.
		n.Kind = KindForeignStruct
		return n
	}
	n.Kind = KindNamed
	m.shapeOf(n, t)
	return n
}

// byEncoding reports whether a named type of another package whose underlying type is u is
// hashed by its encoding, when it has one. Only a struct is (and a pointer to one, whose
// method set is its own). Any other named type is hashed by its value, even when it has an
// encoding: a basic type, a slice, array or map, whose bytes and entries cachegen hashes
// exactly and totally (a map's by sorted entries), where an encoding may normalise (net.IP's
// MarshalText gives the 4- and 16-byte forms of an IPv4 address one text), fail (an IP of 3
// bytes; a failing encoding makes HashKey panic) or range over a map in random order; and a
// func or channel type is refused, whatever methods it has. Encodings are for what has
// structure that cachegen may not see.
func byEncoding(u types.Type) bool {
	_, ok := u.(*types.Struct)
	return ok
}

// roundTrip returns the method that encodes t when t (or *t) declares both halves of a
// standard encoding, in the order that loses least: MarshalBinary and UnmarshalBinary, then
// GobEncode and GobDecode (big.Float's keeps its precision and rounding mode, its text does
// not), then MarshalText and UnmarshalText. Decoding is then meant to be a function of the
// encoding, so that two values with one encoding are equal and hashing the encoding is
// injective (lossyEncodings lists where the standard library says it is not). It returns ""
// when t has none of the pairs.
//
// Methods promoted from an embedded field do not count, as for HashKey: they encode that
// field alone (dep.Wrapper{netip.Addr; Extra int} would be hashed as its Addr), and are called
// through a nil embedded pointer or interface. Such a struct is hashed field by field.
func roundTrip(t *types.Named) string {
	ptr := types.NewPointer(t)
	bytes := []types.Type{types.NewSlice(types.Typ[types.Byte])}
	for _, pair := range [][2]string{{"MarshalBinary", "UnmarshalBinary"}, {"GobEncode", "GobDecode"}, {"MarshalText", "UnmarshalText"}} {
		if hasOwnMethod(ptr, pair[0], nil, []types.Type{bytes[0], errorType}) &&
			hasOwnMethod(ptr, pair[1], bytes, []types.Type{errorType}) {
			return pair[0]
		}
	}
	return ""
}

// lossyEncodings maps the types of the standard library whose encoding, as roundTrip picks
// it, is documented not to round-trip exactly, to what it loses. They are accepted (they are
// what a user reaches for), with a warning at generation time and the loss written in the
// generated file.
var lossyEncodings = map[string]string{
	"regexp.Regexp": "it records the expression only, not Longest() or POSIX matching (CompilePOSIX), so regexps that match differently can share a key",
	"net/url.URL":   "it is String(), which normalises the URL (with a Host, Path \"a\" and \"/a\" encode alike), so URLs with different fields can share a key",
}

// lossy returns what the encoding of KindMarshal node n loses, or "" when nothing is known to.
func lossy(n *Node) string {
	if n.Named == nil || n.Named.Obj().Pkg() == nil {
		return ""
	}
	return lossyEncodings[n.Named.Obj().Pkg().Path()+"."+n.Named.Obj().Name()]
}

var errorType = types.Universe.Lookup("error").Type()

// hasMethod reports whether t's method set has an exported method name with exactly the
// parameter and result types given, promoted from an embedded field or not.
func hasMethod(t types.Type, name string, params, results []types.Type) bool {
	found, _ := lookupMethod(t, false, name, signature(params, results))
	return found
}

// hasOwnMethod is hasMethod for a method declared on t's type itself (a value or pointer
// receiver). A method promoted from an embedded field acts on that field alone, so it cannot
// stand for the whole value: this is the rule for every method cachegen lets hash a value
// (HashKey, and the encodings of roundTrip).
func hasOwnMethod(t types.Type, name string, params, results []types.Type) bool {
	found, own := lookupMethod(t, false, name, signature(params, results))
	return found && own
}

// signature returns a test for a signature with exactly the parameter and result types given.
func signature(params, results []types.Type) func(*types.Signature) bool {
	same := func(tup *types.Tuple, want []types.Type) bool {
		if tup.Len() != len(want) {
			return false
		}
		for i, w := range want {
			if !types.Identical(tup.At(i).Type(), w) {
				return false
			}
		}
		return true
	}
	return func(sig *types.Signature) bool {
		return !sig.Variadic() && same(sig.Params(), params) && same(sig.Results(), results)
	}
}

// lookupMethod finds the exported method name of t's method set (with addressable, of *t's
// too) whose signature passes match, and reports whether it is declared on the type itself
// rather than promoted from an embedded field.
func lookupMethod(t types.Type, addressable bool, name string, match func(*types.Signature) bool) (found, own bool) {
	obj, index, _ := types.LookupFieldOrMethod(t, addressable, nil, name)
	fn, ok := obj.(*types.Func)
	if !ok || !fn.Exported() || !match(fn.Type().(*types.Signature)) {
		return false, false
	}
	return true, len(index) == 1
}

func isInterface(t types.Type) bool {
	_, ok := t.Underlying().(*types.Interface)
	return ok
}

// shapeOf models what named type t is made of: the struct model of a struct of the package,
// or the shape of its underlying type (for a struct of another package, which cannot get
// methods here, the anonymous struct it is hashed as, field by field).
func (m *modeler) shapeOf(n *Node, t *types.Named) {
	if isStructType(t) && t.Obj().Pkg() == m.pkg.Types {
		m.stack = append(m.stack, frame{n, true})
		n.Struct = m.pkg.add(t.Obj(), m)
	} else {
		// By shape: a function marked //cachegen:hash for string hashes strings, not a
		// named type over string (type Name string), which is another type.
		m.stack = append(m.stack, frame{n, false})
		n.Under = m.shape(t.Underlying())
	}
	m.stack = m.stack[:len(m.stack)-1]
}

// noteCycle marks n recursive when it is reached again while its own shape is being built,
// unless a struct's HashKey lies between: a method call ends the recursion by itself.
func (m *modeler) noteCycle(n *Node) {
	for i := len(m.stack) - 1; i >= 0; i-- {
		f := m.stack[i]
		if f.isStruct {
			return // a struct's HashKey lies on the path
		}
		if f.n == n {
			n.Recursive = true
			return
		}
	}
}

// field builds the model of one field of the struct named owner, reading its cache tag.
//
// Only the tags of fields declared in the package being generated are read. A field of
// another package's struct (hashed field by field, or adopted as type T other.S) carries
// the tags its own author wrote, who may know nothing of cachegen ("cache" is a common tag
// key): they are not the user's decisions, so they neither exclude a field nor make it a
// set, and a tag that would be an error here is no error. The user excludes such a field
// with exclude= on an adopting type's directive, or the whole field that holds the struct.
func (m *modeler) field(v *types.Var, tag, owner string, excluded bool) *Field {
	f := &Field{Var: v, Tag: tag, Pos: m.pkg.Fset.Position(v.Pos())}
	if v.Pkg() == m.pkg.Types {
		f.Skip, f.Set = parseTag(tag, f.Pos, owner+"."+v.Name(), m.errs)
	}
	f.MsgSkip = msgSkipped(tag)
	if excluded {
		if f.Skip {
			m.errs.add(f.Pos, "%s.%s is excluded both by its tag and by exclude= on the directive; keep one", owner, v.Name())
		}
		f.Skip, f.Set, f.Excluded = true, false, true
	}
	if f.Set && !isSlice(v.Type()) {
		m.errs.add(f.Pos, "%s.%s: cache:\"set\" applies to slices, not %s", owner, v.Name(), typeString(v.Type(), m.pkg.Types))
		f.Set = false
	}
	if !f.Skip && v.Name() != "_" {
		outer := m.where
		m.where = owner + "." + v.Name()
		f.Node = m.node(v.Type())
		m.where = outer
	}
	return f
}

// hasTypeParams reports whether t is a generic type (not an instance of one).
func hasTypeParams(t types.Type) bool {
	switch t := t.(type) {
	case *types.Named:
		return t.TypeParams().Len() > 0 && t.TypeArgs().Len() == 0
	case *types.Alias:
		return t.TypeParams().Len() > 0 && t.TypeArgs().Len() == 0
	}
	return false
}

// walkType calls visit for t and every type t is written with: an alias and what it stands
// for, a named type's type arguments (not its underlying type), the parts of composite types,
// signatures and interfaces. Each type is visited once; visit returns false to stop the walk.
func walkType(t types.Type, visit func(types.Type) bool) {
	seen := map[types.Type]bool{}
	stopped := false
	var walk func(types.Type)
	walk = func(t types.Type) {
		if stopped || t == nil || seen[t] {
			return
		}
		seen[t] = true
		if !visit(t) {
			stopped = true
			return
		}
		switch t := t.(type) {
		case *types.Alias:
			walk(types.Unalias(t))
		case *types.Named:
			for i := range t.TypeArgs().Len() {
				walk(t.TypeArgs().At(i))
			}
		case *types.Pointer:
			walk(t.Elem())
		case *types.Slice:
			walk(t.Elem())
		case *types.Array:
			walk(t.Elem())
		case *types.Map:
			walk(t.Key())
			walk(t.Elem())
		case *types.Chan:
			walk(t.Elem())
		case *types.Struct:
			for i := range t.NumFields() {
				walk(t.Field(i).Type())
			}
		case *types.Signature:
			for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
				for i := range tup.Len() {
					walk(tup.At(i).Type())
				}
			}
		case *types.Interface:
			for i := range t.NumEmbeddeds() {
				walk(t.EmbeddedType(i))
			}
			for i := range t.NumExplicitMethods() {
				walk(t.ExplicitMethod(i).Type())
			}
		case *types.Union:
			for i := range t.Len() {
				walk(t.Term(i).Type())
			}
		}
	}
	walk(t)
}

// mentionsTypeParam reports whether t refers to a type parameter anywhere.
func mentionsTypeParam(t types.Type) bool {
	found := false
	walkType(t, func(t types.Type) bool {
		_, found = t.(*types.TypeParam)
		return !found
	})
	return found
}

// containsInvalid reports whether the type checker failed to resolve any part of t, and so
// whether code that names t (a guard lists every field, excluded ones too) would not compile.
func containsInvalid(t types.Type) bool {
	bad := false
	walkType(t, func(t types.Type) bool {
		b, ok := t.(*types.Basic)
		bad = ok && b.Kind() == types.Invalid
		return !bad
	})
	return bad
}

// walkNodes calls visit for n and every node it reaches, each named node once; a struct of
// the package is entered through its fields. visit returns false to stop below a node.
func walkNodes(n *Node, seen map[*Node]bool, visit func(*Node) bool) {
	if n == nil {
		return
	}
	if n.Named != nil {
		if seen[n] {
			return
		}
		seen[n] = true
	}
	if !visit(n) {
		return
	}
	walkNodes(n.Elem, seen, visit)
	walkNodes(n.Key, seen, visit)
	walkNodes(n.Under, seen, visit)
	for _, f := range n.Fields {
		walkNodes(f.modelled(), seen, visit)
	}
	if n.Struct != nil {
		for _, f := range n.Struct.Fields {
			walkNodes(f.modelled(), seen, visit)
		}
	}
}
