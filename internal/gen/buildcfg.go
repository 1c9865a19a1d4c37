package gen

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	pathpkg "path"
	"path/filepath"
	"strconv"
	"strings"
)

// This file finds what makes a type's shape depend on the build configuration without a
// constraint on the file that declares it: cachegen writes one file for every build, with the
// shapes it sees in this one, so such a type would break (or silently change) another build.

// aliasConstraint returns why an alias that t is written with is declared in a file that
// builds only under a constraint (so that it may stand for another type in another build),
// or "".
func (pkg *Package) aliasConstraint(t types.Type) string {
	why := ""
	walkType(t, func(t types.Type) bool {
		a, ok := t.(*types.Alias)
		if !ok || a.Obj().Pkg() == nil {
			return true
		}
		file := pkg.Fset.Position(a.Obj().Pos()).Filename
		if w := pkg.constraint(file); w != "" {
			why = fmt.Sprintf("alias %s is declared in %s, which builds only %s, so it may stand for another type in another build", a.Obj().Name(), filepath.Base(file), w)
			return false
		}
		return true
	})
	return why
}

// reachedAliasConstraint returns the first named type that f's value holds, of another
// package or not a struct of this one (whose own fields are checked), whose underlying type
// is written with an alias declared under a constraint, and why (aliasConstraint): the
// generated code and its guards spell what the alias stands for in this build.
func (pkg *Package) reachedAliasConstraint(f *Field) (*Node, string) {
	var at *Node
	why := ""
	walkNodes(f.modelled(), map[*Node]bool{}, func(n *Node) bool {
		if n.Named != nil && n.Struct == nil {
			if w := pkg.aliasConstraint(n.Named.Underlying()); w != "" {
				at, why = n, w
			}
		}
		return why == ""
	})
	return at, why
}

// wordSizeConsts are constants of the standard library whose value depends on GOARCH.
var wordSizeConsts = map[string]bool{
	"strconv.IntSize": true, "math.MaxInt": true, "math.MinInt": true, "math.MaxUint": true,
	"math/bits.UintSize": true,
}

// arrayLengths reports every array length in the declaration of typ (a type of the package)
// whose value depends on the build: a constant declared under a constraint, a word size, or
// unsafe.Sizeof and its kin. The guard writes the length this build computes.
func (pkg *Package) arrayLengths(obj *types.TypeName, errs *ErrorList) {
	spec := pkg.specs[obj]
	if spec == nil {
		return
	}
	ast.Inspect(spec.Type, func(n ast.Node) bool {
		at, ok := n.(*ast.ArrayType)
		if !ok || at.Len == nil {
			return true
		}
		if _, ok := at.Len.(*ast.Ellipsis); ok {
			return true
		}
		if why := pkg.buildDependent(at.Len, 0); why != "" {
			errs.add(pkg.Fset.Position(at.Len.Pos()), "%s: the array length %s %s; cachegen's guard and code hold the length this build computes, so another build would not compile: write a length that is the same in every build",
				obj.Name(), types.ExprString(at.Len), why)
		}
		return true
	})
}

// buildDependent returns why constant expression e may have another value in another build,
// or "".
func (pkg *Package) buildDependent(e ast.Expr, depth int) string {
	if depth > 16 {
		return ""
	}
	why := ""
	ast.Inspect(e, func(n ast.Node) bool {
		if why != "" {
			return false
		}
		switch n := n.(type) {
		case *ast.UnaryExpr:
			why = wordSize(n)
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
				if b, ok := pkg.info.Uses[sel.Sel].(*types.Builtin); ok {
					why = "depends on the platform's sizes (unsafe." + b.Name() + ")"
				}
			}
		case *ast.Ident:
			c, ok := pkg.info.Uses[n].(*types.Const)
			if !ok || c.Pkg() == nil {
				return true
			}
			if wordSizeConsts[c.Pkg().Path()+"."+c.Name()] {
				why = "depends on the word size (" + c.Pkg().Name() + "." + c.Name() + ")"
				return false
			}
			file := pkg.Fset.Position(c.Pos()).Filename
			if w := pkg.constraint(file); w != "" {
				why = fmt.Sprintf("uses %s, declared in %s, which builds only %s", c.Name(), filepath.Base(file), w)
				return false
			}
			if expr := pkg.consts[c]; expr != nil {
				why = pkg.buildDependent(expr, depth+1)
			} else if c.Pkg() != pkg.Types {
				why = pkg.foreignDependent(filepath.Dir(expandGOROOT(file)), c.Name(), depth+1)
			}
		}
		return true
	})
	return why
}

// A constDecl is the declaration of a constant in a package read from source.
type constDecl struct {
	expr    ast.Expr          // nil for an implicit repetition (iota)
	file    string            // the file that declares it
	imports map[string]string // that file's import names and paths
}

// constsIn reads the constants declared in the Go files of dir, by name. A name declared in
// more than one file is declared per build.
func (pkg *Package) constsIn(dir string) map[string][]constDecl {
	if m, ok := pkg.dirConsts[dir]; ok {
		return m
	}
	m := map[string][]constDecl{}
	pkg.dirConsts[dir] = m
	entries, err := os.ReadDir(dir)
	if err != nil {
		return m
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		path := filepath.Join(dir, name)
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		imports := map[string]string{}
		for _, spec := range f.Imports {
			p, _ := strconv.Unquote(spec.Path.Value)
			local := pathpkg.Base(p)
			if spec.Name != nil {
				local = spec.Name.Name
			}
			imports[local] = p
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					var expr ast.Expr
					if i < len(vs.Values) {
						expr = vs.Values[i]
					}
					m[id.Name] = append(m[id.Name], constDecl{expr: expr, file: path, imports: imports})
				}
			}
		}
	}
	return m
}

// foreignDependent returns why constant name of the package in dir may have another value in
// another build, reading that package's source: declared in a constrained file or in several
// files, or computed from such a constant, a word size or unsafe.
func (pkg *Package) foreignDependent(dir, name string, depth int) string {
	if depth > 16 {
		return ""
	}
	decls := pkg.constsIn(dir)[name]
	if len(decls) == 0 {
		return ""
	}
	for _, d := range decls {
		if w := pkg.constraint(d.file); w != "" {
			return fmt.Sprintf("uses %s, declared in %s, which builds only %s", name, filepath.Base(d.file), w)
		}
	}
	if len(decls) > 1 {
		return fmt.Sprintf("uses %s, declared in %d files of %s, one per build", name, len(decls), dir)
	}
	d := decls[0]
	if d.expr == nil {
		return ""
	}
	why := ""
	ast.Inspect(d.expr, func(n ast.Node) bool {
		if why != "" {
			return false
		}
		switch n := n.(type) {
		case *ast.UnaryExpr:
			why = wordSize(n)
		case *ast.SelectorExpr:
			x, ok := n.X.(*ast.Ident)
			if !ok {
				return true
			}
			path, ok := d.imports[x.Name]
			if !ok {
				return true
			}
			if path == "unsafe" {
				why = "depends on the platform's sizes (unsafe." + n.Sel.Name + ")"
				return false
			}
			if bp, err := build.Default.Import(path, dir, build.FindOnly); err == nil {
				why = pkg.foreignDependent(bp.Dir, n.Sel.Name, depth+1)
			}
			return false
		case *ast.Ident:
			if _, ok := pkg.constsIn(dir)[n.Name]; ok && n.Name != name {
				why = pkg.foreignDependent(dir, n.Name, depth+1)
			}
		}
		return true
	})
	return why
}

// expandGOROOT turns the $GOROOT prefix that export data gives the standard library's files
// into the directory.
func expandGOROOT(file string) string {
	if rest, ok := strings.CutPrefix(file, "$GOROOT"); ok {
		return build.Default.GOROOT + rest
	}
	return file
}

// wordSize returns why ^uint(0) and its kin (^uintptr(0), ^int(0)) depend on the build: they
// measure the word size. It returns "" for any other expression.
func wordSize(n *ast.UnaryExpr) string {
	if call, ok := n.X.(*ast.CallExpr); ok && n.Op == token.XOR {
		if id, ok := call.Fun.(*ast.Ident); ok && (id.Name == "uint" || id.Name == "uintptr" || id.Name == "int") {
			return "depends on the word size (" + types.ExprString(n) + ")"
		}
	}
	return ""
}
