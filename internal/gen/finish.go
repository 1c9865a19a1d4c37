package gen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	pathpkg "path"
	"strconv"

	"golang.org/x/tools/go/ast/astutil"
)

// finish parses the assembled file, imports what the msgp part refers to (msgp's runtime,
// and the packages of the source that its conversions name), renames any import whose name
// the package itself declares, and formats it. A file that does not parse, or that relies on
// a predeclared identifier the package redeclares, is an error: every file cachegen returns
// compiles.
func finish(src []byte, pkg *Package) ([]byte, ErrorList) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("cachegen produced invalid Go for %s (a bug; please report it with this output): %v\n%s",
			pkg.Path, err, numbered(src))}}
	}
	imported := map[string]bool{}
	for _, spec := range f.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		imported[path] = true
	}
	need := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil {
				need[id.Name] = true
			}
		}
		return true
	})
	for name := range need {
		path := pkg.imports[name]
		if name == "msgp" {
			path = msgpPath
		}
		if path == "" || imported[path] {
			continue
		}
		alias := name
		if name == pathpkg.Base(path) {
			alias = ""
		}
		astutil.AddNamedImport(fset, f, alias, path)
		imported[path] = true
	}
	renameShadowedImports(f, pkg)
	if errs := shadowedPredeclared(f, pkg); len(errs) > 0 {
		return nil, errs
	}
	ast.SortImports(fset, f)
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("cachegen produced invalid Go for %s (a bug; please report it with this output): %v\n%s",
			pkg.Path, err, numbered(src))}}
	}
	return buf.Bytes(), nil
}

// importName returns the name a file refers to an imported package by.
func importName(spec *ast.ImportSpec, pkg *Package) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	path, _ := strconv.Unquote(spec.Path.Value)
	switch path {
	case keyhashPath:
		return "keyhash"
	case msgpPath:
		return "msgp"
	}
	for name, p := range pkg.imports {
		if p == path {
			if imp := findImport(pkg.Types, path); imp != nil {
				return imp.Name()
			}
			return name
		}
	}
	if imp := findImport(pkg.Types, path); imp != nil {
		return imp.Name()
	}
	return pathpkg.Base(path)
}

// findImport returns the package of path among those pkg imports, directly or not.
func findImport(pkg *types.Package, path string) *types.Package {
	seen := map[*types.Package]bool{}
	var find func(p *types.Package) *types.Package
	find = func(p *types.Package) *types.Package {
		if p == nil || seen[p] {
			return nil
		}
		seen[p] = true
		if p.Path() == path {
			return p
		}
		for _, imp := range p.Imports() {
			if r := find(imp); r != nil {
				return r
			}
		}
		return nil
	}
	return find(pkg)
}

// renameShadowedImports gives an import whose name the package declares at package level
// (a variable named keyhash, a type named time) another name, and renames its uses: the
// package block and a file's imports may not declare the same name.
func renameShadowedImports(f *ast.File, pkg *Package) {
	scope := pkg.Types.Scope()
	taken := map[string]bool{}
	for _, spec := range f.Imports {
		taken[importName(spec, pkg)] = true
	}
	for _, spec := range f.Imports {
		old := importName(spec, pkg)
		if old == "_" || old == "." || scope.Lookup(old) == nil {
			continue
		}
		name := old
		for i := 2; taken[name] || scope.Lookup(name) != nil; i++ {
			name = old + strconv.Itoa(i)
		}
		taken[name] = true
		spec.Name = &ast.Ident{Name: name, NamePos: spec.Path.Pos()}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil && id.Name == old {
					id.Name = name
				}
			}
			return true
		})
	}
}

// shadowedPredeclared reports each predeclared identifier (int32, len, string, ...) that the
// generated code uses and the package redeclares at package level: the code would refer to
// the package's declaration instead.
func shadowedPredeclared(f *ast.File, pkg *Package) ErrorList {
	scope := pkg.Types.Scope()
	seen := map[string]bool{}
	var errs ErrorList
	var inspect func(n ast.Node) bool
	inspect = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			ast.Inspect(n.X, inspect) // not Sel: a field or method name
			return false
		case *ast.Ident:
			if n.Obj != nil || seen[n.Name] || types.Universe.Lookup(n.Name) == nil {
				return true
			}
			seen[n.Name] = true
			if obj := scope.Lookup(n.Name); obj != nil {
				errs.add(pkg.Fset.Position(obj.Pos()), "package %s declares %s, but the code cachegen generates for it uses the predeclared %s; rename the declaration",
					pkg.Name, n.Name, n.Name)
			}
		}
		return true
	}
	ast.Inspect(f, inspect)
	return errs
}
