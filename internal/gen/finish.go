package gen

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	pathpkg "path"
	"strconv"

	"golang.org/x/tools/go/ast/astutil"
)

// finish parses the assembled file, imports what the msgp part refers to (msgp's runtime,
// and the packages of the source that its conversions name) and formats it.
func finish(src []byte, pkg *Package) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, err
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
	ast.SortImports(fset, f)
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
