package gen

import (
	"fmt"
	"go/types"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

// guardFunc returns the compile-time assertion for s: a conversion of an s value to an
// anonymous struct with the fields s had when the code was generated. Adding, removing,
// renaming, reordering or retyping a field without regenerating makes the conversion, and so
// the build, fail. The variable's name is chosen to be read in the compiler's message, which
// is what a CI log shows. Struct tags are ignored by conversions; cachegen -check covers them.
func guardFunc(s *Struct) jen.Code {
	v := s.Name() + "_changed_run_go_generate"
	fields := make([]jen.Code, len(s.Fields))
	for i, f := range s.Fields {
		fields[i] = fieldCode(f.Var, "")
	}
	fn := jen.Func().Id("_")
	if tp := s.Named.TypeParams(); tp.Len() > 0 {
		params := make([]jen.Code, tp.Len())
		for i := range tp.Len() {
			params[i] = jen.Id(tp.At(i).Obj().Name()).Add(typeCode(tp.At(i).Constraint()))
		}
		fn = fn.Types(params...)
	}
	return comments(fmt.Sprintf("A compile error below means %s has changed since cachegen generated this file:\nrun `go generate` to update it.", s.Name())).
		Add(fn.Params().Block(
			jen.Var().Id(v).Add(receiverType(s)),
			jen.Id("_").Op("=").Struct(fields...).Call(jen.Id(v)),
		))
}

// namedGuard returns the assertion for the named non-struct types that generated code relies
// on the shape of: enums it converts to a basic type, named slices, maps, arrays and pointers
// it ranges over or dereferences (with any anonymous struct inside them), in this package or
// another, and the types msgp inlines. Each is a pointer conversion that compiles only while
// the type's underlying type is the one the code was generated for: changing `type Mode
// int8` to `type Mode int`, or `type IDs []int` to `type IDs map[int]int`, must not leave a
// stale file that builds. A generic type is guarded once, for all its instances, in a
// function with its type parameters.
func namedGuard(nodes []*Node, pkg *types.Package) []jen.Code {
	const doc = "A compile error below means the underlying type of a named type that this file relies on\nhas changed since cachegen generated it: run `go generate` to update it."
	var plain []jen.Code
	var generic []jen.Code
	seen := map[*types.TypeName]bool{}
	for _, n := range nodes {
		origin := n.Named.Origin()
		if seen[origin.Obj()] {
			continue
		}
		seen[origin.Obj()] = true
		v := origin.Obj().Name() + "_changed_run_go_generate"
		if p := origin.Obj().Pkg(); p != nil && p != pkg {
			v = p.Name() + "_" + v
		}
		spelled := typeCode(n.Spelled)
		under := n.Named.Underlying()
		if tp := origin.TypeParams(); tp.Len() > 0 {
			params := make([]jen.Code, tp.Len())
			args := make([]jen.Code, tp.Len())
			for i := range tp.Len() {
				params[i] = jen.Id(tp.At(i).Obj().Name()).Add(typeCode(tp.At(i).Constraint()))
				args[i] = jen.Id(tp.At(i).Obj().Name())
			}
			spelled = qualified(origin.Obj(), nil).Types(args...)
			generic = append(generic, comments(doc).Func().Id("_").Types(params...).Params().Block(
				jen.Var().Id(v).Op("*").Add(spelled),
				jen.Id("_").Op("=").Parens(jen.Op("*").Add(typeCode(origin.Underlying()))).Call(jen.Id(v)),
			))
			continue
		}
		plain = append(plain, jen.Block(
			jen.Var().Id(v).Op("*").Add(spelled),
			jen.Id("_").Op("=").Parens(jen.Op("*").Add(typeCode(under))).Call(jen.Id(v)),
		))
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

// typeCode renders t as Go source, with every package qualified so that jennifer writes the
// imports.
func typeCode(t types.Type) *jen.Statement {
	switch t := t.(type) {
	case *types.Alias:
		// An exported alias (or one of this package) is written as it is, since it may
		// stand for a type that is not exported; a universe alias (byte, any) or an
		// unexported one of another package is written as what it stands for.
		if obj := t.Obj(); obj.Pkg() != nil && obj.Exported() && t.TypeParams().Len() == 0 {
			return qualified(obj, t.TypeArgs())
		}
		return typeCode(types.Unalias(t))
	case *types.Named:
		return qualified(t.Obj(), t.TypeArgs())
	case *types.Basic:
		return jen.Id(t.Name())
	case *types.TypeParam:
		return jen.Id(t.Obj().Name())
	case *types.Pointer:
		return jen.Op("*").Add(typeCode(t.Elem()))
	case *types.Slice:
		return jen.Index().Add(typeCode(t.Elem()))
	case *types.Array:
		return jen.Index(jen.Lit(int(t.Len()))).Add(typeCode(t.Elem()))
	case *types.Map:
		return jen.Map(typeCode(t.Key())).Add(typeCode(t.Elem()))
	case *types.Chan:
		switch t.Dir() {
		case types.SendOnly:
			return jen.Chan().Op("<-").Add(typeCode(t.Elem()))
		case types.RecvOnly:
			return jen.Op("<-").Chan().Add(typeCode(t.Elem()))
		}
		return jen.Chan().Add(typeCode(t.Elem()))
	case *types.Signature:
		return jen.Func().Add(signatureCode(t))
	case *types.Struct:
		// Tags are part of an anonymous struct type's identity (only conversions ignore
		// them), so they are written too.
		fields := make([]jen.Code, t.NumFields())
		for i := range t.NumFields() {
			fields[i] = fieldCode(t.Field(i), t.Tag(i))
		}
		return jen.Struct(fields...)
	case *types.Interface:
		if t.Empty() {
			return jen.Id("any")
		}
		var items []jen.Code
		for i := range t.NumEmbeddeds() {
			items = append(items, typeCode(t.EmbeddedType(i)))
		}
		for i := range t.NumExplicitMethods() {
			m := t.ExplicitMethod(i)
			items = append(items, jen.Id(m.Name()).Add(signatureCode(m.Type().(*types.Signature))))
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
			items = append(items, typeCode(term.Type()))
		}
		return jen.Add(items...)
	}
	panic(fmt.Sprintf("cachegen: no source form for type %T (%v)", t, t))
}

// fieldCode renders the declaration of struct field v, with its tag unless tag is "".
func fieldCode(v *types.Var, tag string) *jen.Statement {
	var c *jen.Statement
	if v.Embedded() {
		c = embeddedCode(v.Type())
	} else {
		c = jen.Id(v.Name()).Add(typeCode(v.Type()))
	}
	if tag != "" {
		c = c.Add(tagCode(tag))
	}
	return c
}

// embeddedCode renders the type of an embedded field. An alias is kept as it is written,
// since the field is named after it.
func embeddedCode(t types.Type) *jen.Statement {
	if p, ok := t.(*types.Pointer); ok {
		if a, ok := p.Elem().(*types.Alias); ok {
			return jen.Op("*").Add(qualified(a.Obj(), a.TypeArgs()))
		}
	}
	if a, ok := t.(*types.Alias); ok {
		return qualified(a.Obj(), a.TypeArgs())
	}
	return typeCode(t)
}

// tagCode renders a struct tag as a string literal.
func tagCode(tag string) jen.Code {
	if strings.Contains(tag, "`") {
		return jen.Op(strconv.Quote(tag))
	}
	return jen.Op("`" + tag + "`")
}

func qualified(obj *types.TypeName, args *types.TypeList) *jen.Statement {
	var s *jen.Statement
	if obj.Pkg() == nil {
		s = jen.Id(obj.Name()) // error, comparable, any
	} else {
		s = jen.Qual(obj.Pkg().Path(), obj.Name())
	}
	if args.Len() > 0 {
		codes := make([]jen.Code, args.Len())
		for i := range args.Len() {
			codes[i] = typeCode(args.At(i))
		}
		s = s.Types(codes...)
	}
	return s
}

func signatureCode(sig *types.Signature) *jen.Statement {
	tuple := func(t *types.Tuple, variadic bool) []jen.Code {
		out := make([]jen.Code, t.Len())
		for i := range t.Len() {
			pt := t.At(i).Type()
			if variadic && i == t.Len()-1 {
				out[i] = jen.Op("...").Add(typeCode(pt.(*types.Slice).Elem()))
				continue
			}
			out[i] = typeCode(pt)
		}
		return out
	}
	s := jen.Params(tuple(sig.Params(), sig.Variadic())...)
	if res := sig.Results(); res.Len() == 1 {
		s = s.Add(typeCode(res.At(0).Type()))
	} else if res.Len() > 1 {
		s = s.Params(tuple(res, false)...)
	}
	return s
}
