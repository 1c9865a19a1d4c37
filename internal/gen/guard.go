package gen

import (
	"fmt"
	"go/types"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"
	"golang.org/x/tools/go/types/typeutil"
)

// guardFunc returns the compile-time assertion for s: a conversion of an s value to an
// anonymous struct with the fields s had when the code was generated. Adding, removing,
// renaming, reordering or retyping a field without regenerating makes the conversion, and so
// the build, fail. The variable's name is chosen to be read in the compiler's message, which
// is what a CI log shows. Struct tags are ignored by conversions; cachegen -check covers them.
//
// An embedded field is written by its type's name, which is the field's: for an alias, the
// alias's name, which stays the same when the alias is made to stand for another type. Each
// such alias gets an assertion of what it stands for, written once per file (aliases).
func guardFunc(s *Struct, c *coder, aliases *aliasGuards) jen.Code {
	var spelled []*types.Alias
	c = c.recording(&spelled)
	v := s.Name() + "_changed_run_go_generate"
	fields := make([]jen.Code, len(s.Fields))
	for i, f := range s.Fields {
		fields[i] = c.field(f.Var, "")
	}
	fn := jen.Func().Id("_")
	if tp := s.Named.TypeParams(); tp.Len() > 0 {
		params := make([]jen.Code, tp.Len())
		for i := range tp.Len() {
			params[i] = jen.Id(tp.At(i).Obj().Name()).Add(c.typ(tp.At(i).Constraint()))
		}
		fn = fn.Types(params...)
	}
	body := []jen.Code{
		jen.Var().Id(v).Add(receiverType(s)),
		jen.Id("_").Op("=").Parens(jen.Op("*").Struct(fields...)).Call(jen.Op("&").Id(v)),
	}
	body = append(body, aliases.assert(c, spelled)...)
	return comments(fmt.Sprintf("A compile error below means %s has changed since cachegen generated this file:\nrun `go generate` to update it.", s.Name())).
		Add(fn.Params().Block(body...))
}

// aliasGuards writes the assertions that each alias a file's guards name an embedded field's
// type by still stands for the type it stood for when the file was generated. A struct
// conversion cannot see that: struct{ E; N int } is the same type whichever type E stands
// for, as is the guard of the type E used to stand for, while x.E is hashed as that type
// (int8(x.E) still compiles, and truncates, once type E = Level becomes type E = Level2).
// The assertion assigns a *E to a *Level, which compiles only while the types are identical:
// a conversion would still compile for another type of the same underlying type. Only what
// the alias finally stands for is asserted, not each alias of a chain (type E = F; type F =
// Level): it is what the generated code reads, and a change anywhere along the chain changes
// it.
//
// An assertion that mentions no type parameter goes in a function of its own, after the
// guards (plainFunc): in a generic guard, a type parameter could hide the package's type
// of the same name (type E = T, embedded in K[T any]). Those that do mention one are written
// in each generic guard that needs them.
type aliasGuards struct {
	// done holds the assertions of plain, by the types they relate (types.TypeString, with
	// package paths).
	done  map[string]bool
	plain []jen.Code
}

func newAliasGuards() *aliasGuards { return &aliasGuards{done: map[string]bool{}} }

// plainFunc returns the function of the assertions that mention no type parameter, or nil
// when there are none.
func (g *aliasGuards) plainFunc() jen.Code {
	if len(g.plain) == 0 {
		return nil
	}
	return comments("A compile error below means an alias that a struct above embeds now stands for another type\nthan when cachegen generated this file: run `go generate` to update it.").
		Func().Id("_").Params().Block(g.plain...)
}

// assert returns a block asserting what each alias in spelled that mentions a type
// parameter stands for, and keeps the others for plainFunc; and so for each alias those
// blocks spell in turn (type S = []struct{ E }), skipping those already asserted. c is the
// coder of the guard the returned blocks go in.
func (g *aliasGuards) assert(c *coder, spelled []*types.Alias) []jen.Code {
	local := map[string]bool{}
	var out []jen.Code
	for len(spelled) > 0 {
		a := spelled[0]
		spelled = spelled[1:]
		target := types.Unalias(a)
		if !c.nameable(target) {
			// What the alias stands for cannot be written here (a type another package does
			// not export): the alias is all the guards can name.
			continue
		}
		if n, ok := target.(*types.Named); ok {
			if s := c.spelling(n); s != nil && s.Obj() == a.Obj() {
				continue // written through the alias itself, how this file names the type
			}
		}
		key := types.TypeString(a, nil) + " = " + types.TypeString(target, nil)
		done := g.done
		generic := mentionsTypeParam(target)
		for i := range a.TypeArgs().Len() {
			generic = generic || mentionsTypeParam(a.TypeArgs().At(i))
		}
		if generic {
			done = local
		}
		if done[key] {
			continue
		}
		done[key] = true
		var more []*types.Alias
		rc := c.recording(&more)
		alias, want := rc.qualified(a.Obj(), a.TypeArgs()), rc.typ(target)
		v := a.Obj().Name() + "_changed_run_go_generate"
		if p := a.Obj().Pkg(); p != nil && p != c.pkg {
			v = p.Name() + "_" + v
		}
		name, what := typeString(a, c.pkg), typeString(target, c.pkg)
		if len(name)+len(what) > 60 || strings.Contains(name+what, "\n") {
			what = "the type below"
		}
		block := jen.Block(
			jen.Comment(fmt.Sprintf("%s is embedded above by its alias name: it must still stand for %s.", name, what)),
			jen.Var().Id(v).Op("*").Add(alias),
			jen.Var().Id("_").Op("*").Add(want).Op("=").Id(v),
		)
		if generic {
			out = append(out, block)
		} else {
			g.plain = append(g.plain, block)
		}
		spelled = append(spelled, more...)
	}
	return out
}

// namedGuard returns the assertion for the named non-struct types that generated code relies
// on the shape of: enums it converts to a basic type, named slices, maps, arrays and pointers
// it ranges over or dereferences (with any anonymous struct inside them), in this package or
// another, and the types msgp inlines. Each is a pointer conversion that compiles only while
// the type's underlying type is the one the code was generated for: changing `type Mode
// int8` to `type Mode int`, or `type IDs []int` to `type IDs map[int]int`, must not leave a
// stale file that builds. A generic type is guarded once, for all its instances, in a
// function with its type parameters.
//
// An embedded alias in an anonymous struct these write gets the assertion guardFunc writes.
func namedGuard(nodes []*Node, c *coder, aliases *aliasGuards) []jen.Code {
	pkg := c.pkg
	var spelled []*types.Alias
	c = c.recording(&spelled)
	const doc = "A compile error below means the underlying type of a named type that this file relies on\nhas changed since cachegen generated it: run `go generate` to update it."
	var plain []jen.Code
	var generic []jen.Code
	seen := map[*types.TypeName]bool{}
	for _, n := range nodes {
		origin := n.Named.Origin()
		v := origin.Obj().Name() + "_changed_run_go_generate"
		if p := origin.Obj().Pkg(); p != nil && p != pkg {
			v = p.Name() + "_" + v
		}
		tp := origin.TypeParams()
		constraintsOK := true
		for i := range tp.Len() {
			constraintsOK = constraintsOK && c.nameable(tp.At(i).Constraint())
		}
		// The generic type itself must be nameable too: an instance of a generic type
		// another package does not export is named through its exported alias, below.
		if tp.Len() > 0 && constraintsOK && c.nameable(origin) {
			// Once for every instance: the generic type, with its own type parameters.
			if seen[origin.Obj()] {
				continue
			}
			seen[origin.Obj()] = true
			params := make([]jen.Code, tp.Len())
			args := make([]jen.Code, tp.Len())
			for i := range tp.Len() {
				params[i] = jen.Id(tp.At(i).Obj().Name()).Add(c.typ(tp.At(i).Constraint()))
				args[i] = jen.Id(tp.At(i).Obj().Name())
			}
			body := []jen.Code{
				jen.Var().Id(v).Op("*").Add(c.qualified(origin.Obj(), nil).Types(args...)),
				jen.Id("_").Op("=").Parens(jen.Op("*").Add(c.typ(origin.Underlying()))).Call(jen.Id(v)),
			}
			body = append(body, aliases.assert(c, spelled)...)
			spelled = spelled[:0]
			generic = append(generic, comments(doc).Func().Id("_").Types(params...).Params().Block(body...))
			continue
		}
		// A non-generic type, or an instance of a generic type whose constraints this
		// file cannot name (the model refuses instances that depend on type parameters).
		plain = append(plain, jen.Block(
			jen.Var().Id(v).Op("*").Add(c.typ(n.Named)),
			jen.Id("_").Op("=").Parens(jen.Op("*").Add(c.typ(n.Named.Underlying()))).Call(jen.Id(v)),
		))
		plain = append(plain, aliases.assert(c, spelled)...)
		spelled = spelled[:0]
	}
	if len(plain) > 0 {
		generic = append([]jen.Code{comments(doc).Func().Id("_").Params().Block(plain...)}, generic...)
	}
	return generic
}

// receiverType returns s's type as a method receiver or variable type: T, or T[P, Q].
func receiverType(s *Struct) *jen.Statement {
	t := jen.Id(s.Name())
	if tp := s.Named.TypeParams(); tp.Len() > 0 {
		args := make([]jen.Code, tp.Len())
		for i := range tp.Len() {
			args[i] = jen.Id(tp.At(i).Obj().Name())
		}
		t = t.Types(args...)
	}
	return t
}

// A coder renders types as Go source in the generated file of pkg, every package qualified so
// that jennifer writes the imports.
type coder struct {
	pkg *types.Package
	// spell holds, for a type of another package that is not exported, the exported alias
	// the source names it by.
	spell map[*types.TypeName]*types.Alias
	// spellInst holds the same for an instance of a generic type of another package that is
	// not exported (type IntBox = ubox[int]): *types.Named -> *types.Alias.
	spellInst typeutil.Map
	// embeds, when not nil, collects each alias written as the type of an embedded field,
	// which a guard must assert the meaning of (aliasGuards).
	embeds *[]*types.Alias
}

// recording returns a coder that renders as c does and appends to *to each alias it writes
// as the type of an embedded field.
func (c *coder) recording(to *[]*types.Alias) *coder {
	r := *c
	r.embeds = to
	return &r
}

// aliasOf returns the exported alias generated code names foreign type t by, when t is not
// exported itself, or nil.
func (c *coder) aliasOf(t *types.Named) *types.Alias {
	if t.TypeArgs().Len() > 0 {
		a, _ := c.spellInst.At(t).(*types.Alias)
		return a
	}
	return c.spell[t.Obj()]
}

// spelling returns the exported alias typ writes t by, a type of another package that is not
// exported or is of a package this one cannot import, or nil.
func (c *coder) spelling(t *types.Named) *types.Alias {
	if obj := t.Obj(); obj.Pkg() != nil && obj.Pkg() != c.pkg && (!obj.Exported() || !importable(obj.Pkg().Path(), c.pkg.Path())) {
		return c.aliasOf(t)
	}
	return nil
}

// importable reports whether package pkg may import the package of path: not when path is
// inside an internal directory whose parent does not contain pkg.
func importable(path, pkg string) bool {
	parent, ok := "", false
	switch {
	case strings.HasSuffix(path, "/internal"):
		parent, ok = strings.TrimSuffix(path, "/internal"), true
	case strings.Contains(path, "/internal/"):
		parent, ok = path[:strings.LastIndex(path, "/internal/")], true
	case path == "internal" || strings.HasPrefix(path, "internal/"):
		return false // the standard library's own
	}
	return !ok || pkg == parent || strings.HasPrefix(pkg, parent+"/")
}

// nameable reports whether the generated file can name every named type in t.
func (c *coder) nameable(t types.Type) bool {
	return c.unnameable(t) == ""
}

// unnameable returns the first part of t that the generated file cannot name (a type, a
// field or a method another package does not export), or "".
func (c *coder) unnameable(t types.Type) string {
	foreign := func(obj types.Object) bool {
		return obj.Pkg() != nil && obj.Pkg() != c.pkg && !obj.Exported()
	}
	part := ""
	walkType(t, func(t types.Type) bool {
		switch t := t.(type) {
		case *types.Named:
			if foreign(t.Obj()) && c.aliasOf(t) == nil {
				part = "type " + t.Obj().Pkg().Name() + "." + t.Obj().Name() + ", which is not exported"
			} else if p := t.Obj().Pkg(); p != nil && !importable(p.Path(), c.pkg.Path()) && c.aliasOf(t) == nil {
				part = "type " + p.Name() + "." + t.Obj().Name() + ", of package " + p.Path() + ", which this package cannot import (an internal package)"
			}
		case *types.Struct:
			for i := range t.NumFields() {
				if f := t.Field(i); foreign(f) && part == "" {
					part = "field " + f.Name() + " of a struct of package " + f.Pkg().Name() + ", which is not exported"
				}
			}
		case *types.Interface:
			for i := range t.NumExplicitMethods() {
				if m := t.ExplicitMethod(i); foreign(m) && part == "" {
					part = "method " + m.Name() + " of an interface of package " + m.Pkg().Name() + ", which is not exported"
				}
			}
		}
		return part == ""
	})
	return part
}

// typ renders t. An alias is written as what it stands for, so that a guard notices when the
// alias is made to stand for another type; only where that cannot be named (a type another
// package does not export) is the alias written.
func (c *coder) typ(t types.Type) *jen.Statement {
	switch t := t.(type) {
	case *types.Alias:
		target := types.Unalias(t)
		if obj := t.Obj(); !c.nameable(target) && obj.Pkg() != nil && (obj.Exported() || obj.Pkg() == c.pkg) && t.TypeParams().Len() == 0 {
			return c.qualified(obj, t.TypeArgs())
		}
		return c.typ(target)
	case *types.Named:
		if a := c.spelling(t); a != nil {
			return c.qualified(a.Obj(), nil)
		}
		return c.qualified(t.Obj(), t.TypeArgs())
	case *types.Basic:
		return jen.Id(t.Name())
	case *types.TypeParam:
		return jen.Id(t.Obj().Name())
	case *types.Pointer:
		return jen.Op("*").Add(c.typ(t.Elem()))
	case *types.Slice:
		return jen.Index().Add(c.typ(t.Elem()))
	case *types.Array:
		return jen.Index(jen.Lit(int(t.Len()))).Add(c.typ(t.Elem()))
	case *types.Map:
		return jen.Map(c.typ(t.Key())).Add(c.typ(t.Elem()))
	case *types.Chan:
		switch t.Dir() {
		case types.SendOnly:
			return jen.Chan().Op("<-").Add(c.typ(t.Elem()))
		case types.RecvOnly:
			return jen.Op("<-").Chan().Add(c.typ(t.Elem()))
		}
		return jen.Chan().Add(c.typ(t.Elem()))
	case *types.Signature:
		return jen.Func().Add(c.signature(t))
	case *types.Struct:
		// Tags are part of an anonymous struct type's identity (only conversions ignore
		// them), so they are written too.
		fields := make([]jen.Code, t.NumFields())
		for i := range t.NumFields() {
			fields[i] = c.field(t.Field(i), t.Tag(i))
		}
		return jen.Struct(fields...)
	case *types.Interface:
		if t.Empty() {
			return jen.Id("any")
		}
		var items []jen.Code
		for i := range t.NumEmbeddeds() {
			items = append(items, c.typ(t.EmbeddedType(i)))
		}
		for i := range t.NumExplicitMethods() {
			m := t.ExplicitMethod(i)
			items = append(items, jen.Id(m.Name()).Add(c.signature(m.Type().(*types.Signature))))
		}
		return jen.Interface(items...)
	case *types.Union:
		var items []jen.Code
		for i := range t.Len() {
			term := t.Term(i)
			if i > 0 {
				items = append(items, jen.Op("|"))
			}
			if term.Tilde() {
				items = append(items, jen.Op("~"))
			}
			items = append(items, c.typ(term.Type()))
		}
		return jen.Add(items...)
	}
	panic(fmt.Sprintf("cachegen: no source form for type %T (%v)", t, t))
}

// fieldCode renders the declaration of struct field v, with its tag unless tag is "".
func (c *coder) field(v *types.Var, tag string) *jen.Statement {
	return c.fieldTagged(v, tag, tagCode)
}

// msgpField renders the declaration of struct field v for msgp's input, with its tag unless
// tag is "". msgp reads a tag only from a raw string (it trims backquotes, and finds no key
// in a quoted string), so the tag stays raw wherever a raw string holds it exactly, newlines
// included, as in the user's source.
func (c *coder) msgpField(v *types.Var, tag string) *jen.Statement {
	return c.fieldTagged(v, tag, func(tag string) jen.Code {
		if rawHolds(tag) {
			return jen.Op("`" + tag + "`")
		}
		return jen.Op(strconv.Quote(tag))
	})
}

// rawHolds reports whether a raw string literal holds s exactly: Go source holds no NUL,
// no byte order mark but at its start, and no invalid UTF-8, and a raw string loses its
// carriage returns and ends at a backquote.
func rawHolds(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsAny(s, "`\r\x00\uFEFF")
}

// fieldTagged renders the declaration of struct field v, with its tag (rendered by tagCode)
// unless tag is "".
func (c *coder) fieldTagged(v *types.Var, tag string, tagCode func(string) jen.Code) *jen.Statement {
	var code *jen.Statement
	if v.Embedded() {
		code = c.embedded(v.Type())
	} else {
		code = jen.Id(v.Name()).Add(c.typ(v.Type()))
	}
	if tag != "" {
		code = code.Add(tagCode(tag))
	}
	return code
}

// embedded renders the type of an embedded field. An alias is kept as it is written, since
// the field is named after it; a recording coder notes it.
func (c *coder) embedded(t types.Type) *jen.Statement {
	if p, ok := t.(*types.Pointer); ok {
		if a, ok := p.Elem().(*types.Alias); ok {
			return jen.Op("*").Add(c.embeddedAlias(a))
		}
	}
	if a, ok := t.(*types.Alias); ok {
		return c.embeddedAlias(a)
	}
	return c.typ(t)
}

// embeddedAlias renders alias a as the type of an embedded field, and notes it when c records.
func (c *coder) embeddedAlias(a *types.Alias) *jen.Statement {
	if c.embeds != nil {
		*c.embeds = append(*c.embeds, a)
	}
	return c.qualified(a.Obj(), a.TypeArgs())
}

// tagCode renders a struct tag as a string literal: a raw one where a raw string holds it
// exactly (as users write tags), else a quoted one. A raw string cannot hold a backquote or a
// NUL, and loses a carriage return.
func tagCode(tag string) jen.Code {
	if strconv.CanBackquote(tag) {
		return jen.Op("`" + tag + "`")
	}
	return jen.Op(strconv.Quote(tag))
}

func (c *coder) qualified(obj *types.TypeName, args *types.TypeList) *jen.Statement {
	var s *jen.Statement
	if obj.Pkg() == nil {
		s = jen.Id(obj.Name()) // error, comparable, any
	} else {
		s = jen.Qual(obj.Pkg().Path(), obj.Name())
	}
	if args.Len() > 0 {
		codes := make([]jen.Code, args.Len())
		for i := range args.Len() {
			codes[i] = c.typ(args.At(i))
		}
		s = s.Types(codes...)
	}
	return s
}

func (c *coder) signature(sig *types.Signature) *jen.Statement {
	tuple := func(t *types.Tuple, variadic bool) []jen.Code {
		out := make([]jen.Code, t.Len())
		for i := range t.Len() {
			pt := t.At(i).Type()
			if variadic && i == t.Len()-1 {
				out[i] = jen.Op("...").Add(c.typ(pt.(*types.Slice).Elem()))
				continue
			}
			out[i] = c.typ(pt)
		}
		return out
	}
	s := jen.Params(tuple(sig.Params(), sig.Variadic())...)
	if res := sig.Results(); res.Len() == 1 {
		s = s.Add(c.typ(res.At(0).Type()))
	} else if res.Len() > 1 {
		s = s.Params(tuple(res, false)...)
	}
	return s
}

// decodingHalf maps each encoding method roundTrip picks to its decoding half.
var decodingHalf = map[string]string{
	"MarshalBinary": "UnmarshalBinary",
	"GobEncode":     "GobDecode",
	"MarshalText":   "UnmarshalText",
}

// ownMethodGuards returns the assertions that each type of another package whose methods
// the generated code calls, rather than reading its fields, still declares them itself: the
// encoding a key is hashed by (with its decoding half, which makes it injective) and the
// msgp methods a value is serialized by. A struct-shape guard cannot see a method go away,
// and neither can a method expression on the type or an interface assertion: after
// type Wr struct{ Inner; Zone string } loses its own MarshalBinary, x.W.MarshalBinary() still
// compiles, through the method promoted from Inner, which encodes Inner alone.
//
// What does see it is Go's rule for selectors: a method or field is found at the shallowest
// depth, and two at that depth are ambiguous. Each type T gets a struct embedding T beside a
// decoy that holds a field named after each method, one level deeper than T's own methods:
//
//	type dep_Wr_methods_changed_run_go_generate struct {
//		dep.Wr
//		cachegenNotOwn // struct{ cachegenDecoy }; cachegenDecoy has a field MarshalBinary
//	}
//	var _ = (*dep_Wr_methods_changed_run_go_generate).MarshalBinary
//
// compiles while Wr declares MarshalBinary (depth 1); when Wr has it by promotion from an
// embedded field (depth 2), the selector is ambiguous; when it is deeper or gone, the
// selector finds the decoy's field, not a method. Either way the build fails at a name
// that says what to do.
func ownMethodGuards(pkg *Package, plan *filePlan, names *identSet) []jen.Code {
	c := pkg.code
	type guarded struct {
		n       *Node
		methods []string
		// tparams are the type parameters of the key or value whose field has the type,
		// when the type mentions them (dep.Box[T]): the guard is then generic in them.
		tparams *types.TypeParamList
	}
	var list []*guarded
	byNode := map[*Node]*guarded{}
	var s *Struct
	add := func(n *Node, methods ...string) {
		if !c.nameable(n.Type) {
			// The emitters refuse such a field (methodGuardProblem); nothing to guard.
			return
		}
		g := byNode[n]
		if g == nil {
			g = &guarded{n: n}
			if mentionsTypeParam(n.Type) {
				g.tparams = s.Named.TypeParams()
			}
			byNode[n] = g
			list = append(list, g)
		}
		for _, m := range methods {
			if !slices.Contains(g.methods, m) {
				g.methods = append(g.methods, m)
			}
		}
	}
	for _, s = range pkg.Structs {
		isKey, isValue := plan.hashKeys[s] != nil, plan.msgp[s]
		if !isKey && !isValue {
			continue
		}
		seen := map[*Node]bool{}
		for _, f := range s.Fields {
			walkNodes(f.modelled(), seen, func(n *Node) bool {
				switch {
				case n.Kind == KindCustom:
					return isValue // hashed by a function; serialized by its shape
				case n.Kind == KindMarshal && isKey:
					add(n, n.Method, decodingHalf[n.Method])
				}
				if isValue && n.Msgp && n.Struct == nil && n.foreign(pkg.Types) && !isInterface(n.Type) {
					add(n, msgpMethods...)
				}
				return n.Kind != KindMarshal
			})
		}
	}
	if len(list) == 0 {
		return nil
	}
	outer, decoy := names.fresh("cachegenNotOwn"), names.fresh("cachegenDecoy")
	var all []string
	var out []jen.Code
	for _, g := range list {
		obj := g.n.Named.Obj()
		name := names.fresh(obj.Pkg().Name() + "_" + obj.Name() + "_methods_changed_run_go_generate")
		// A type that mentions the type parameters of a generic key (dep.Box[T]) is guarded
		// for every instance, in a generic struct and a generic function:
		//
		//	type dep_Box_methods_changed_run_go_generate[T keyhash.Key] struct{ dep.Box[T]; cachegenNotOwn }
		//	func _[T keyhash.Key]() { _ = (*dep_Box_methods_changed_run_go_generate[T]).MarshalBinary }
		recv := jen.Id(name)
		decl := jen.Type().Id(name)
		var params []jen.Code
		if tp := g.tparams; tp.Len() > 0 {
			args := make([]jen.Code, tp.Len())
			params = make([]jen.Code, tp.Len())
			for i := range tp.Len() {
				params[i] = jen.Id(tp.At(i).Obj().Name()).Add(c.typ(tp.At(i).Constraint()))
				args[i] = jen.Id(tp.At(i).Obj().Name())
			}
			recv = recv.Types(args...)
			decl = decl.Types(params...)
		}
		exprs := make([]jen.Code, len(g.methods))
		for i, m := range g.methods {
			exprs[i] = jen.Id("_").Op("=").Parens(jen.Op("*").Add(recv.Clone())).Dot(m)
			if !slices.Contains(all, m) {
				all = append(all, m)
			}
		}
		code := comments(wrapComment(fmt.Sprintf("A compile error below means %s no longer declares %s itself: it lost a method, or has it only by promotion from an embedded field, which would cover that field alone. Run `go generate` to update this file.",
			typeString(g.n.Named, pkg.Types), strings.Join(g.methods, ", ")))).
			Add(decl.Struct(c.typ(g.n.Type), jen.Id(outer)))
		if params != nil {
			code = code.Line().Func().Id("_").Types(params...).Params().Block(exprs...)
		} else {
			code = code.Line().Var().Defs(exprs...)
		}
		out = append(out, code)
	}
	slices.Sort(all)
	fields := make([]jen.Code, len(all))
	for i, m := range all {
		fields[i] = jen.Id(m).Struct()
	}
	out = append(out, comments(wrapComment(fmt.Sprintf("%s holds, one level below the types embedded beside it above, a field named after each method guarded there: a method promoted into such a type is then ambiguous, and a missing one is a field, so that neither compiles.", outer))).
		Type().Id(outer).Struct(jen.Id(decoy)).
		Line().Line().Type().Id(decoy).Struct(fields...))
	return out
}

// wrapComment breaks text into lines of at most 95 bytes, at spaces.
func wrapComment(text string) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		if i > 0 && n+1+len(w) > 95 {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
