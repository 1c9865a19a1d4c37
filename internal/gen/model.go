package gen

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"reflect"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Directives recognised in the doc comment of a struct type declaration.
const (
	keyDirective   = "//cachegen:key"
	valueDirective = "//cachegen:value"
	directivePfx   = "//cachegen:"
)

// tagName is the struct tag key cachegen reads: cache:"-" excludes a field, cache:"set"
// hashes a slice without regard to order.
const tagName = "cache"

// schemaVersion is mixed into every fingerprint. Bump it when the encoding of any kind
// changes, so that digests computed by older generated code are never reused.
const schemaVersion = "cachegen key schema v1"

// A Package is one loaded Go package and the structs cachegen generates code for.
type Package struct {
	Path, Name string
	Dir        string
	Fset       *token.FileSet
	Types      *types.Package
	// Structs are the annotated structs in source order, followed by the same-package
	// structs they reach, in the order they were reached.
	Structs []*Struct
	byObj   map[*types.TypeName]*Struct
}

// A Struct is a named struct type that gets generated methods.
type Struct struct {
	Obj    *types.TypeName
	Named  *types.Named
	Type   *types.Struct
	Pos    token.Position
	Key    bool   // gets HashKey: annotated //cachegen:key, or reached from a key
	Value  bool   // gets msgp methods: annotated //cachegen:value, or reached from a value
	Via    string // for a struct generated because another reaches it: the field path that does
	Fields []*Field
}

// Name returns the struct's type name.
func (s *Struct) Name() string { return s.Obj.Name() }

// A Field is one field of a Struct, with the options of its cache tag.
type Field struct {
	Var      *types.Var
	Pos      token.Position
	Skip     bool // cache:"-"
	Set      bool // cache:"set"
	Embedded bool
}

// Name returns the field's name (for an embedded field, its type's name).
func (f *Field) Name() string { return f.Var.Name() }

// buildPackage finds the annotated structs of p and builds their model. Errors in directives
// and tags are appended to errs.
func buildPackage(p *packages.Package, errs *ErrorList) *Package {
	pkg := &Package{
		Path:  p.PkgPath,
		Name:  p.Name,
		Fset:  p.Fset,
		Types: p.Types,
		byObj: map[*types.TypeName]*Struct{},
	}
	if len(p.GoFiles) > 0 {
		pkg.Dir = filepath.Dir(p.GoFiles[0])
	}
	for _, file := range p.Syntax {
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				key, value := directives(doc, p.Fset, errs)
				if !key && !value {
					continue
				}
				obj, _ := p.TypesInfo.Defs[ts.Name].(*types.TypeName)
				if obj == nil {
					continue
				}
				pos := p.Fset.Position(ts.Name.Pos())
				if ts.Assign.IsValid() {
					errs.add(pos, "%s is a type alias; annotate the struct type it stands for", obj.Name())
					continue
				}
				st := pkg.add(obj, errs)
				if st == nil {
					errs.add(pos, "%s is not a struct type; //cachegen: directives apply to struct types", obj.Name())
					continue
				}
				st.Key = st.Key || key
				st.Value = st.Value || value
			}
		}
	}
	return pkg
}

// add returns the model of the named struct obj, building it on first use, or nil when obj
// is not a struct type.
func (pkg *Package) add(obj *types.TypeName, errs *ErrorList) *Struct {
	if st, ok := pkg.byObj[obj]; ok {
		return st
	}
	named, ok := obj.Type().(*types.Named)
	if !ok {
		return nil
	}
	stype, ok := named.Underlying().(*types.Struct)
	if !ok {
		return nil
	}
	st := &Struct{Obj: obj, Named: named, Type: stype, Pos: pkg.Fset.Position(obj.Pos())}
	for i := range stype.NumFields() {
		v := stype.Field(i)
		f := &Field{Var: v, Pos: pkg.Fset.Position(v.Pos()), Embedded: v.Embedded()}
		f.Skip, f.Set = parseTag(stype.Tag(i), f.Pos, obj.Name()+"."+v.Name(), errs)
		if f.Set && !isSlice(v.Type()) {
			errs.add(f.Pos, "%s.%s: cache:\"set\" applies to slices, not %s", obj.Name(), v.Name(), typeString(v.Type(), pkg.Types))
			f.Set = false
		}
		st.Fields = append(st.Fields, f)
	}
	pkg.byObj[obj] = st
	pkg.Structs = append(pkg.Structs, st)
	return st
}

// directives returns which cachegen directives a doc comment holds. An unknown
// //cachegen: directive is an error rather than being ignored: a typo must not silently
// leave a struct without its methods.
func directives(doc *ast.CommentGroup, fset *token.FileSet, errs *ErrorList) (key, value bool) {
	if doc == nil {
		return false, false
	}
	for _, c := range doc.List {
		text := strings.TrimSpace(c.Text)
		if !strings.HasPrefix(text, directivePfx) {
			continue
		}
		switch text {
		case keyDirective:
			key = true
		case valueDirective:
			value = true
		default:
			errs.add(fset.Position(c.Pos()), "unknown directive %s (want %s or %s)", text, keyDirective, valueDirective)
		}
	}
	return key, value
}

// parseTag reads the cache:"..." options of one field.
func parseTag(tag string, pos token.Position, field string, errs *ErrorList) (skip, set bool) {
	val, ok := reflect.StructTag(tag).Lookup(tagName)
	if !ok {
		return false, false
	}
	for opt := range strings.SplitSeq(val, ",") {
		switch strings.TrimSpace(opt) {
		case "-":
			skip = true
		case "set":
			set = true
		default:
			errs.add(pos, "%s: unknown option %q in tag cache:%q (want \"-\" or \"set\")", field, opt, val)
		}
	}
	if skip && set {
		errs.add(pos, "%s: cache:%q both excludes the field and makes it a set", field, val)
		set = false
	}
	return skip, set
}

func isSlice(t types.Type) bool {
	_, ok := t.Underlying().(*types.Slice)
	return ok
}

// Fingerprint returns the schema fingerprint of s: a SHA-256 over its package path, name,
// type parameters, and every field's name, type and tag options, including the excluded
// ones. Generated code writes it first, so that two key types never share an encoding and any
// change to the schema changes every digest.
func (s *Struct) Fingerprint() [4]uint64 {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\ntype %s.%s", schemaVersion, s.Obj.Pkg().Path(), s.Obj.Name())
	if tp := s.Named.TypeParams(); tp.Len() > 0 {
		for i := range tp.Len() {
			p := tp.At(i)
			fmt.Fprintf(&b, " [%s %s]", p.Obj().Name(), types.TypeString(p.Constraint(), nil))
		}
	}
	b.WriteByte('\n')
	for _, f := range s.Fields {
		opts := ""
		switch {
		case f.Skip:
			opts = "-"
		case f.Set:
			opts = "set"
		}
		fmt.Fprintf(&b, "field %q embedded=%t type=%s opts=%q\n", f.Name(), f.Embedded, types.TypeString(f.Var.Type(), nil), opts)
	}
	sum := sha256.Sum256([]byte(b.String()))
	var fp [4]uint64
	for i := range fp {
		fp[i] = binary.LittleEndian.Uint64(sum[8*i:])
	}
	return fp
}

// Skipped returns the names of the fields excluded with cache:"-".
func (s *Struct) Skipped() []string {
	var names []string
	for _, f := range s.Fields {
		if f.Skip {
			names = append(names, f.Name())
		}
	}
	return names
}

func (l *ErrorList) add(pos token.Position, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// typeString writes t with package names relative to pkg, as a user reads it in source.
func typeString(t types.Type, pkg *types.Package) string {
	return types.TypeString(t, types.RelativeTo(pkg))
}
