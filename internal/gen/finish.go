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
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/aymanbagabas/go-udiff"
	"golang.org/x/tools/go/ast/astutil"
)

// finish parses the assembled file, imports what the msgp part refers to (msgp's runtime,
// and the packages of the source that its conversions name), renames any import whose name
// the package itself declares, and formats it. A file that does not parse, or that relies on
// a predeclared identifier the package redeclares, is an error: every file cachegen returns
// compiles.
//
// The file is not formatted whole: its top-level declarations are cut into pieces where the
// source has a blank line between them, and each piece is parsed and formatted on its own,
// on every CPU at once, as gofmt would format it within the file (gofmt keeps one blank line
// there and aligns nothing across it). Only the head, the package clause and the imports, is
// formatted as a file. When the source cannot be cut so, or a piece does not parse, the file
// is formatted whole (finishWhole), with the same result or the same error.
func finish(src []byte, pkg *Package) ([]byte, ErrorList) {
	head, pieces, ok := cutTopLevel(src)
	if !ok {
		return finishWhole(src, pkg)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", head, parser.ParseComments)
	if err != nil {
		return finishWhole(src, pkg) // which reports the error for the whole file
	}
	imports := importNames(f, pkg)
	memo := &unitMemo{units: map[unitKey]*formattedUnit{}}
	// Each piece is parsed and printed at once, so that only the pieces being worked on are
	// held in memory. It is printed again in the rare case that an import it uses must be
	// renamed, which the head decides.
	formatted := make([]*formattedPiece, len(pieces))
	parallel(len(pieces), func(i int) {
		formatted[i] = formatPiece(pieces[i], nil, imports, memo)
	})
	need := importNeeds(f)
	for _, p := range formatted {
		if p.out == nil {
			return finishWhole(src, pkg)
		}
		for name := range p.need {
			need[name] = true
		}
	}
	addImports(fset, f, need, pkg)
	renames := renameShadowedImports(f, pkg)
	for old := range renames {
		if !imports[old] {
			// A name the pieces were not read for (see importNames): only the whole
			// file's resolution tells which of its uses are the import's.
			return finishWhole(src, pkg)
		}
	}
	var errs ErrorList
	seen := map[string]bool{}
	errs = append(errs, shadowedPredeclared(predeclaredUses(f), pkg, seen)...)
	for _, p := range formatted {
		errs = append(errs, shadowedPredeclared(p.predeclared, pkg, seen)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	ast.SortImports(fset, f)
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return finishWhole(src, pkg)
	}
	if len(renames) > 0 {
		parallel(len(pieces), func(i int) {
			for name := range formatted[i].need {
				if renames[name] != "" {
					formatted[i] = formatPiece(pieces[i], renames, imports, memo)
					return
				}
			}
		})
	}
	size := buf.Len()
	for _, p := range formatted {
		if p.out == nil {
			return finishWhole(src, pkg)
		}
		size += 1 + len(p.out)
	}
	// Made at its size, not grown: a bytes.Buffer clears all it grows to.
	out := append(make([]byte, 0, size), buf.Bytes()...)
	for _, p := range formatted {
		out = append(out, '\n')
		out = append(out, p.out...)
	}
	if verifyPieces {
		if whole, _ := finishWhole(src, pkg); !bytes.Equal(whole, out) {
			return nil, ErrorList{{Msg: fmt.Sprintf("%s: formatting by pieces differs from formatting the whole file:\n%s",
				pkg.Path, udiff.Unified("whole", "pieces", string(whole), string(out)))}}
		}
	}
	return out, nil
}

// verifyPieces makes finish compare its result with finishWhole's: for tests.
var verifyPieces = false

// finishWhole is finish on the file parsed and formatted whole.
func finishWhole(src []byte, pkg *Package) ([]byte, ErrorList) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments)
	if err != nil {
		return nil, ErrorList{{Msg: fmt.Sprintf("cachegen produced invalid Go for %s (a bug; please report it with this output): %v\n%s",
			pkg.Path, err, numbered(src))}}
	}
	addImports(fset, f, importNeeds(f), pkg)
	renameSelectors(f, renameShadowedImports(f, pkg))
	if errs := shadowedPredeclared(predeclaredUses(f), pkg, map[string]bool{}); len(errs) > 0 {
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

// piecePrefix is the package clause a piece is parsed under, and cut from its formatted text.
const piecePrefix = "package p\n\n"

// A formattedPiece is one piece of the file, parsed and formatted on its own, with the names
// its selectors may refer to as packages and the predeclared identifiers it uses.
type formattedPiece struct {
	out         []byte // nil if the piece does not parse or print
	need        map[string]bool
	predeclared []string
}

// formatPiece parses and formats one piece, with the imports named in renames renamed.
// imports holds the names that may be those of an import (importNames): p.need is exact for
// them, and may leave out any other name.
//
// The piece is parsed without resolving its identifiers, which costs a tenth of parsing:
// the names its selectors qualify, and the predeclared names it uses, are read from the
// syntax alone when no declaration in the piece has one of those names (scanNames). When one
// has, or imports are renamed, the piece is parsed again with its identifiers resolved.
//
// A piece written one statement a line, as msgp writes, is formatted by its lines
// (formatLines, with memo's units); any other is printed from its syntax.
func formatPiece(src []byte, renames map[string]string, imports map[string]bool, memo *unitMemo) *formattedPiece {
	p := &formattedPiece{}
	fset := token.NewFileSet()
	text := make([]byte, 0, len(piecePrefix)+len(src))
	text = append(append(text, piecePrefix...), src...)
	var f *ast.File
	var err error
	if len(renames) == 0 {
		if out, names, ok := formatLines(src, memo); ok && !names.ambiguous(imports) {
			p.out, p.need, p.predeclared = out, names.selX, names.predeclared
			return p
		}
		f, err = parser.ParseFile(fset, "", text, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return p
		}
		if names := scanNames(f); !names.ambiguous(imports) {
			p.need, p.predeclared = names.selX, names.predeclared
		} else {
			f = nil
		}
	}
	if f == nil {
		fset = token.NewFileSet()
		if f, err = parser.ParseFile(fset, "", text, parser.ParseComments); err != nil {
			return p
		}
		p.need, p.predeclared = importNeeds(f), predeclaredUses(f)
		renameSelectors(f, renames)
	}
	var b bytes.Buffer
	b.Grow(len(text) + len(text)/2) // indentation makes it larger
	if format.Node(&b, fset, f) == nil {
		p.out, _ = bytes.CutPrefix(b.Bytes(), []byte(piecePrefix))
	}
	return p
}

// importNames returns the names under which the generated file may refer to an imported
// package: those the head imports, those of the package's own imports (which addImports
// adds), and msgp's and keyhash's.
func importNames(head *ast.File, pkg *Package) map[string]bool {
	names := map[string]bool{"msgp": true, "keyhash": true}
	for _, spec := range head.Imports {
		names[importName(spec, pkg)] = true
	}
	for name, path := range pkg.imports {
		names[name] = true
		names[pathpkg.Base(path)] = true
		if imp := findImport(pkg.Types, path); imp != nil {
			names[imp.Name()] = true
		}
	}
	return names
}

// pieceNames are the names a piece's syntax uses, read without resolving its identifiers.
type pieceNames struct {
	selX        map[string]bool // the identifiers that selectors qualify (x in x.f)
	predeclared []string        // the identifiers named as predeclared ones, each once, in order
	declared    map[string]bool // the names the piece declares, in any scope
}

// scanNames reads the names of f in one walk, in the order importNeeds and predeclaredUses
// walk it. declared over-approximates what go/parser's resolution declares: every name of a
// field list (parameters, results, type parameters, struct fields, interface methods), of a
// value, type or function declaration, of a short variable declaration, a range clause's
// variables, a label, and the type parameters of a method's receiver.
func scanNames(f *ast.File) *pieceNames {
	n := &pieceNames{selX: map[string]bool{}, declared: map[string]bool{}}
	seen := map[string]bool{}
	declare := func(exprs ...ast.Expr) {
		for _, e := range exprs {
			if id, ok := e.(*ast.Ident); ok {
				n.declared[id.Name] = true
			}
		}
	}
	var inspect func(node ast.Node) bool
	inspect = func(node ast.Node) bool {
		switch x := node.(type) {
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				n.selX[id.Name] = true
			}
			ast.Inspect(x.X, inspect) // not Sel: a field or method name
			return false
		case *ast.Ident:
			if !seen[x.Name] && types.Universe.Lookup(x.Name) != nil {
				seen[x.Name] = true
				n.predeclared = append(n.predeclared, x.Name)
			}
		case *ast.FieldList:
			for _, field := range x.List {
				for _, id := range field.Names {
					n.declared[id.Name] = true
				}
			}
		case *ast.ValueSpec:
			for _, id := range x.Names {
				n.declared[id.Name] = true
			}
		case *ast.TypeSpec:
			n.declared[x.Name.Name] = true
		case *ast.FuncDecl:
			n.declared[x.Name.Name] = true
			if x.Recv != nil {
				for _, field := range x.Recv.List {
					t := field.Type
					if star, ok := t.(*ast.StarExpr); ok {
						t = star.X
					}
					switch t := t.(type) {
					case *ast.IndexExpr:
						declare(t.Index)
					case *ast.IndexListExpr:
						declare(t.Indices...)
					}
				}
			}
		case *ast.AssignStmt:
			if x.Tok == token.DEFINE {
				declare(x.Lhs...)
			}
		case *ast.RangeStmt:
			if x.Tok == token.DEFINE {
				declare(x.Key, x.Value)
			}
		case *ast.LabeledStmt:
			n.declared[x.Label.Name] = true
		}
		return true
	}
	ast.Inspect(f, inspect)
	return n
}

// ambiguous reports whether reading n without resolution may differ from what resolution
// gives for the names that matter: a predeclared name, or a name in imports that a selector
// qualifies, declared in the piece (a use may then refer to the declaration).
func (n *pieceNames) ambiguous(imports map[string]bool) bool {
	for name := range n.declared {
		if types.Universe.Lookup(name) != nil || n.selX[name] && imports[name] {
			return true
		}
	}
	return false
}

// parallel calls fn(i) for every i below n, on as many goroutines as Go may run at once.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// pieceSize is the size from which a piece of the file is cut at the next blank line between
// two top-level declarations: pieces large enough that parsing each costs little more than
// parsing its text, and many enough to keep every CPU busy.
var pieceSize = 32 << 10

// cutTopLevel cuts a Go file into its head (everything before the first top-level
// declaration other than imports, with its comment: the package clause and the imports) and
// pieces of whole top-level declarations and comments. A cut is made only where a blank line
// separates a complete top-level declaration from the next one or its comment, so that
// formatting each piece alone gives the text gofmt gives it in the file, and gofmt puts
// exactly one blank line there. ok is false if the file does not scan, or has nothing after
// its head.
func cutTopLevel(src []byte) (head []byte, pieces [][]byte, ok bool) {
	var lx topLexer
	lx.src = src
	depth, prevEnd, start := 0, 0, -1
	ended := false // the last token other than a comment ends a top-level declaration
	for {
		off, tok, end, semi := lx.next()
		if tok == lexBad {
			return nil, nil, false
		}
		if semi {
			// A semicolon the newline (or the comment holding one) inserts: nothing is
			// written.
			ended = depth == 0
		}
		if tok == lexEOF {
			break
		}
		if depth == 0 && ended && (tok == lexComment || tok == lexDecl) &&
			bytes.Count(src[prevEnd:off], []byte("\n")) >= 2 {
			// Cut after the line of the previous token.
			cut := prevEnd + bytes.IndexByte(src[prevEnd:off], '\n') + 1
			switch {
			case start < 0:
				head, start = src[:cut], cut
			case cut-start >= pieceSize:
				pieces = append(pieces, src[start:cut])
				start = cut
			}
		}
		switch tok {
		case lexOpen:
			depth++
		case lexClose:
			depth--
		}
		if tok != lexComment {
			ended = tok == lexSemicolon && depth == 0
		}
		if tok == lexImport && start >= 0 && len(pieces) == 0 && start == len(head) {
			// An import after a comment that was taken for the first declaration's:
			// the head goes on.
			head, start = nil, -1
		}
		prevEnd = end
	}
	if depth != 0 || start < 0 {
		return nil, nil, false
	}
	if start < len(src) {
		pieces = append(pieces, src[start:])
	}
	return head, pieces, len(pieces) > 0
}

// Kinds of token, as cutTopLevel tells them apart.
const (
	lexOther     = iota
	lexEOF       // the end of the source
	lexBad       // a literal or comment that does not end
	lexComment   // a comment
	lexDecl      // func, type, var or const
	lexImport    // import
	lexOpen      // ( [ {
	lexClose     // ) ] }
	lexSemicolon // an explicit semicolon
)

// A topLexer reads Go source for cutTopLevel: the tokens that open and close brackets, the
// keywords that start declarations, comments, and the semicolons the newlines insert (as
// go/scanner does), reading bytes rather than building tokens.
type topLexer struct {
	src        []byte
	i          int
	insertSemi bool // a newline after the last token inserts a semicolon
}

// next returns the next token's offset, kind and end, and whether a semicolon was inserted
// before it.
func (lx *topLexer) next() (off, tok, end int, semi bool) {
	src := lx.src
	for lx.i < len(src) {
		c := src[lx.i]
		switch {
		case c == '\n':
			if lx.insertSemi {
				lx.insertSemi, semi = false, true
			}
			lx.i++
		case c == ' ' || c == '\t' || c == '\r':
			lx.i++
		case c == '/' && lx.i+1 < len(src) && src[lx.i+1] == '/':
			off = lx.i
			if j := bytes.IndexByte(src[lx.i:], '\n'); j >= 0 {
				lx.i += j
			} else {
				lx.i = len(src)
			}
			return off, lexComment, lx.i, semi
		case c == '/' && lx.i+1 < len(src) && src[lx.i+1] == '*':
			off = lx.i
			j := bytes.Index(src[lx.i+2:], []byte("*/"))
			if j < 0 {
				return off, lexBad, off, semi
			}
			lx.i += 2 + j + 2
			if lx.insertSemi && bytes.IndexByte(src[off:lx.i], '\n') >= 0 {
				lx.insertSemi, semi = false, true
			}
			return off, lexComment, lx.i, semi
		case c == '"' || c == '\'' || c == '`':
			off = lx.i
			for lx.i++; ; lx.i++ {
				if lx.i >= len(src) || c != '`' && src[lx.i] == '\n' {
					return off, lexBad, off, semi
				}
				if src[lx.i] == c {
					break
				}
				if src[lx.i] == '\\' && c != '`' {
					lx.i++
				}
			}
			lx.i++
			lx.insertSemi = true
			return off, lexOther, lx.i, semi
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80 ||
			c == '.' && lx.i+1 < len(src) && src[lx.i+1] >= '0' && src[lx.i+1] <= '9':
			off = lx.i
			for lx.i < len(src) {
				c := src[lx.i]
				if c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80 {
					lx.i++
					continue
				}
				break
			}
			word := src[off:lx.i]
			if c >= '0' && c <= '9' || c == '.' {
				lx.insertSemi = true
				return off, lexOther, lx.i, semi
			}
			if dot := bytes.IndexByte(word, '.'); dot >= 0 {
				// A selector read with its operand: the operand is a word of its own.
				word = word[:dot]
				lx.i = off + dot
			}
			tok = lexOther
			lx.insertSemi = true
			switch string(word) {
			case "func", "type", "var", "const":
				tok, lx.insertSemi = lexDecl, false
			case "import":
				tok, lx.insertSemi = lexImport, false
			case "chan", "interface", "map", "struct", "case", "default", "defer", "else", "for", "go",
				"goto", "if", "package", "range", "select", "switch":
				lx.insertSemi = false
			}
			return off, tok, lx.i, semi
		default:
			off = lx.i
			lx.i++
			lx.insertSemi = false
			switch c {
			case '(', '[', '{':
				return off, lexOpen, lx.i, semi
			case ')', ']', '}':
				lx.insertSemi = true
				return off, lexClose, lx.i, semi
			case ';':
				return off, lexSemicolon, lx.i, semi
			case '+', '-':
				if lx.i < len(src) && src[lx.i] == c {
					lx.i++
					lx.insertSemi = true
				}
			}
			return off, lexOther, lx.i, semi
		}
	}
	if lx.insertSemi {
		lx.insertSemi, semi = false, true
	}
	return len(src), lexEOF, len(src), semi
}

// importNeeds returns the names that selectors of f use as packages.
func importNeeds(f *ast.File) map[string]bool {
	need := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil {
				need[id.Name] = true
			}
		}
		return true
	})
	return need
}

// addImports imports into f the packages of the names in need that f does not import yet.
func addImports(fset *token.FileSet, f *ast.File, need map[string]bool, pkg *Package) {
	imported := map[string]bool{}
	for _, spec := range f.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		imported[path] = true
	}
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

// renameShadowedImports gives an import of f whose name the package declares at package
// level (a variable named keyhash, a type named time) another name, and returns the new
// name of each renamed import by its old one: the package block and a file's imports may not
// declare the same name. renameSelectors renames the uses.
func renameShadowedImports(f *ast.File, pkg *Package) map[string]string {
	scope := pkg.Types.Scope()
	taken := map[string]bool{}
	for _, spec := range f.Imports {
		taken[importName(spec, pkg)] = true
	}
	renames := map[string]string{}
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
		renames[old] = name
	}
	return renames
}

// renameSelectors renames the packages that the selectors of f name, as renames says.
func renameSelectors(f *ast.File, renames map[string]string) {
	if len(renames) == 0 {
		return
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil {
				if name, ok := renames[id.Name]; ok {
					id.Name = name
				}
			}
		}
		return true
	})
}

// shadowedPredeclared reports each predeclared identifier (int32, len, string, ...) of
// uses (predeclaredUses) that the package redeclares at package level: the code would refer
// to the package's declaration instead. Names in seen are not reported again, and those
// reported are added to it.
func shadowedPredeclared(uses []string, pkg *Package, seen map[string]bool) ErrorList {
	scope := pkg.Types.Scope()
	var errs ErrorList
	for _, name := range uses {
		if seen[name] {
			continue
		}
		seen[name] = true
		if obj := scope.Lookup(name); obj != nil {
			errs.add(pkg.Fset.Position(obj.Pos()), "package %s declares %s, but the code cachegen generates for it uses the predeclared %s; rename the declaration",
				pkg.Name, name, name)
		}
	}
	return errs
}

// predeclaredUses returns the predeclared identifiers that f uses, each once, in order.
func predeclaredUses(f *ast.File) []string {
	var uses []string
	seen := map[string]bool{}
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
			uses = append(uses, n.Name)
		}
		return true
	}
	ast.Inspect(f, inspect)
	return uses
}
