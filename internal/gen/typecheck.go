package gen

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"maps"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/gcexportdata"
	"golang.org/x/tools/go/packages"
)

// typeCheck parses and type-checks the modelled packages (listed by the go command with
// their files and dependencies, as load lists them) from source, without the files in skip,
// and returns them by path, as go/packages would have loaded them with syntax and types,
// with their errors. The packages of the graph that import a modelled package, directly or
// not, are type-checked from source too, without function bodies (the export data of such a
// package would be compiled with the files left out). Every other package they import is
// read from the export data the go command compiles, which its build cache keeps: the
// standard library and the module's dependencies are not type-checked again.
//
// The go command is asked for the files cgo writes only for the packages whose files import
// "C" (with the files of overlay replaced, as load listed them), and for the export data only
// of the packages that the files read import: the old generated file's imports are not
// compiled.
func typeCheck(cfg Config, modelled []*packages.Package, skip map[string]bool, overlay map[string][]byte) (map[string]*packages.Package, error) {
	// fromSource holds, by path, every package type-checked from source: the modelled ones
	// and those that reach them.
	fromSource := map[string]bool{}
	for _, p := range modelled {
		fromSource[p.PkgPath] = true
	}
	reaches := map[string]bool{}
	var reach func(p *packages.Package) bool
	reach = func(p *packages.Package) bool {
		if r, ok := reaches[p.PkgPath]; ok {
			return r
		}
		reaches[p.PkgPath] = false // an import cycle, which go list reports, ends here
		r := fromSource[p.PkgPath]
		for _, imp := range p.Imports {
			if reach(imp) {
				r = true
			}
		}
		reaches[p.PkgPath] = r
		return r
	}
	var order []*sourcePackage // dependencies first
	done := map[string]bool{}
	var visit func(p *packages.Package)
	visit = func(p *packages.Package) {
		if done[p.PkgPath] || !reach(p) {
			return
		}
		done[p.PkgPath] = true
		for _, path := range sortedImports(p) {
			visit(p.Imports[path])
		}
		fromSource[p.PkgPath] = true
		order = append(order, &sourcePackage{listed: p, files: p.GoFiles})
	}
	for _, p := range modelled {
		visit(p)
	}

	fset := token.NewFileSet()
	parseAll(fset, order, skip)
	// A package with cgo is type-checked in the files cgo writes for it, which the go
	// command writes only when asked: for such packages alone.
	var cgoPaths []string
	cgo := map[string]*sourcePackage{}
	for _, sp := range order {
		if sp.importsC() {
			cgoPaths = append(cgoPaths, sp.listed.PkgPath)
			cgo[sp.listed.PkgPath] = sp
		}
	}
	if len(cgoPaths) > 0 {
		list, err := packages.Load(&packages.Config{
			Mode:       packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedImports,
			Dir:        cfg.Dir,
			BuildFlags: cfg.BuildFlags,
			Overlay:    overlay,
		}, cgoPaths...)
		if err != nil {
			return nil, fmt.Errorf("listing the files cgo writes: %w", err)
		}
		var again []*sourcePackage
		for _, p := range list {
			sp := cgo[p.PkgPath]
			if sp == nil || len(p.CompiledGoFiles) == 0 {
				continue
			}
			// cgo's files import packages of their own (runtime/cgo, syscall).
			listed := *sp.listed
			listed.CompiledGoFiles, listed.Imports = p.CompiledGoFiles, map[string]*packages.Package{}
			maps.Copy(listed.Imports, p.Imports)
			maps.Copy(listed.Imports, sp.listed.Imports)
			sp.listed, sp.files = &listed, p.CompiledGoFiles
			again = append(again, sp)
		}
		parseAll(fset, again, skip)
	}

	// The export data of every other package the files import, and the sizes of the
	// build's types (unsafe, which has no export data, makes the list never empty).
	exportPaths := []string{"unsafe"}
	listed := map[string]bool{"unsafe": true}
	for _, sp := range order {
		for _, path := range sp.imports() {
			imp := sp.listed.Imports[path]
			if imp == nil || fromSource[imp.PkgPath] || listed[imp.PkgPath] {
				continue
			}
			listed[imp.PkgPath] = true
			exportPaths = append(exportPaths, imp.PkgPath)
		}
	}
	sort.Strings(exportPaths)
	exports, sizes, err := listExports(cfg, exportPaths)
	if err != nil {
		return nil, err
	}
	c := &checker{
		fset:     fset,
		exports:  exports,
		view:     map[string]*types.Package{},
		read:     map[string]error{},
		checked:  map[string]*packages.Package{},
		modelled: map[string]bool{},
		sizes:    sizes,
		graph:    map[string]*packages.Package{},
		cfg:      cfg,
		skip:     skip,
	}
	packages.Visit(modelled, nil, func(p *packages.Package) { c.graph[p.PkgPath] = p })
	for _, p := range modelled {
		c.modelled[p.PkgPath] = true
	}
	for _, sp := range order {
		c.check(sp)
	}
	return c.checked, nil
}

// A sourcePackage is a package type-checked from source.
type sourcePackage struct {
	listed *packages.Package // as the go command lists it
	files  []string          // the files to read: its Go files, or those cgo writes
	syntax []*ast.File       // the files read, but those left out
	errs   []packages.Error  // the parser's errors
}

// parseAll parses the files of pkgs, but those in skip, on every CPU.
func parseAll(fset *token.FileSet, pkgs []*sourcePackage, skip map[string]bool) {
	type job struct {
		sp   *sourcePackage
		name string
		f    *ast.File
		err  error
	}
	var jobs []*job
	for _, sp := range pkgs {
		sp.syntax, sp.errs = nil, nil
		for _, name := range sp.files {
			if !skip[name] {
				jobs = append(jobs, &job{sp: sp, name: name})
			}
		}
	}
	parallel(len(jobs), func(i int) {
		j := jobs[i]
		j.f, j.err = parser.ParseFile(fset, j.name, nil, parser.AllErrors|parser.ParseComments)
	})
	for _, j := range jobs {
		if j.f != nil {
			j.sp.syntax = append(j.sp.syntax, j.f)
		}
		if j.err == nil {
			continue
		}
		var list scanner.ErrorList
		var perr *os.PathError
		switch {
		case errors.As(j.err, &list):
			for _, e := range list {
				j.sp.errs = append(j.sp.errs, packages.Error{Pos: e.Pos.String(), Msg: e.Msg, Kind: packages.ParseError})
			}
		case errors.As(j.err, &perr):
			j.sp.errs = append(j.sp.errs, packages.Error{Pos: perr.Path + ":1", Msg: perr.Err.Error(), Kind: packages.ParseError})
		default:
			j.sp.errs = append(j.sp.errs, packages.Error{Pos: j.name + ":1", Msg: j.err.Error(), Kind: packages.ParseError})
		}
	}
}

// importsC reports whether a file of sp imports "C": it uses cgo.
func (sp *sourcePackage) importsC() bool {
	for _, f := range sp.syntax {
		for _, spec := range f.Imports {
			if spec.Path.Value == `"C"` {
				return true
			}
		}
	}
	return false
}

// imports returns the paths the files of sp import, each once, in order.
func (sp *sourcePackage) imports() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range sp.syntax {
		for _, spec := range f.Imports {
			path, err := strconv.Unquote(spec.Path.Value)
			if err == nil && !seen[path] {
				seen[path] = true
				out = append(out, path)
			}
		}
	}
	return out
}

// exportFormat is the line go list prints for each package listExports asks about: the
// build's architecture and compiler, the package's path, its export file, and its error.
const exportFormat = `{{printf "%q %q %q %q" context.GOARCH context.Compiler .ImportPath .Export}}{{with .Error}} {{printf "%q" .Err}}{{end}}`

// argMax is how long the command line of one go list -export may be: Windows' limit
// (32767 characters for CreateProcess) less a rough allowance for the environment, as
// go/packages has it.
var argMax = 32767 - 16384

// listExports asks the go command for the export data of the packages of paths (compiling
// what is stale into its build cache) and for the sizes of the build's types: once, unless
// so many paths would make its command line too long, when they are split between calls. A
// package it cannot compile has no ExportFile, and its error in Errors.
func listExports(cfg Config, paths []string) (map[string]*packages.Package, types.Sizes, error) {
	args := append([]string{"list", "-e", "-export", "-pgo=off", "-buildvcs=false", "-f", exportFormat}, cfg.BuildFlags...)
	// Export data compiled with -trimpath (in GOFLAGS) names its files by import path, which
	// the checks that read a declaring file's build constraint cannot open: they would take
	// every type of a dependency for one declared in every build. After the build flags, and
	// on the command line, this wins over GOFLAGS.
	args = append(args, "-trimpath=false", "--")
	fixed := len("go")
	for _, a := range args {
		fixed += len(a) + 1
	}
	exports := map[string]*packages.Package{}
	var sizes types.Sizes
	for _, chunk := range chunkArgs(paths, argMax-fixed) {
		more, s, err := listExportsOnce(cfg, append(slices.Clip(args), chunk...))
		if err != nil {
			return nil, nil, err
		}
		maps.Copy(exports, more)
		if sizes == nil {
			sizes = s
		}
	}
	return exports, sizes, nil
}

// chunkArgs splits args into runs whose lengths, each with a separating space, add up to max
// at most (a run holds one argument at least, however long). No args make one empty run.
func chunkArgs(args []string, max int) [][]string {
	var chunks [][]string
	start, n := 0, 0
	for i, a := range args {
		if i > start && n+len(a)+1 > max {
			chunks = append(chunks, args[start:i])
			start, n = i, 0
		}
		n += len(a) + 1
	}
	return append(chunks, args[start:])
}

// listExportsOnce runs go with args, a go list -export with exportFormat, and reads its
// output.
func listExportsOnce(cfg Config, args []string) (map[string]*packages.Package, types.Sizes, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = cfg.Dir
	if cfg.Dir != "" {
		cmd.Env = append(os.Environ(), "PWD="+cfg.Dir)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("listing the export data of dependencies (go list -export): %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	exports := map[string]*packages.Package{}
	var sizes types.Sizes
	for line := range strings.Lines(string(out)) {
		var fields []string
		rest := strings.TrimSpace(line)
		for rest != "" {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, nil, fmt.Errorf("reading go list -export's line %q: %w", line, err)
			}
			f, _ := strconv.Unquote(q)
			fields = append(fields, f)
			rest = strings.TrimSpace(rest[len(q):])
		}
		if len(fields) < 4 {
			return nil, nil, fmt.Errorf("reading go list -export's line %q: want 4 fields or more", line)
		}
		if sizes == nil {
			sizes = types.SizesFor(fields[1], fields[0])
		}
		p := &packages.Package{PkgPath: fields[2], ExportFile: fields[3]}
		if len(fields) > 4 {
			p.Errors = append(p.Errors, packages.Error{Pos: "-", Msg: fields[4], Kind: packages.ListError})
		}
		exports[p.PkgPath] = p
	}
	return exports, sizes, nil
}

// sortedImports returns the import paths of p in order.
func sortedImports(p *packages.Package) []string {
	paths := make([]string, 0, len(p.Imports))
	for path := range p.Imports {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	return paths
}

// A checker type-checks packages from source against the export data of their dependencies.
type checker struct {
	fset    *token.FileSet
	exports map[string]*packages.Package // the packages read from export data, by path
	// view holds every package read from export data, and the placeholders that reading one
	// creates for its own dependencies (filled in when those are read in turn).
	view map[string]*types.Package
	// read records the export data read so far, by path, with the error reading it gave.
	read     map[string]error
	checked  map[string]*packages.Package // the packages type-checked from source, by path
	modelled map[string]bool              // the paths whose syntax and types the model reads
	sizes    types.Sizes                  // the sizes of the build's types
	// graph holds the packages the go command listed, by path, for those it cannot
	// compile; cfg and skip are the run's configuration and the files it leaves out.
	graph map[string]*packages.Package
	cfg   Config
	skip  map[string]bool
}

// importExport returns the package of path, read from its export data. A package of the
// graph that the go command cannot compile (its errors are its own: the packages modelled
// may still use what it declares) is type-checked from source instead, without function
// bodies, as go/packages would.
func (c *checker) importExport(path string) (*types.Package, error) {
	if ci := c.checked[path]; ci != nil {
		return ci.Types, nil
	}
	if err, ok := c.read[path]; ok {
		return c.view[path], err
	}
	err := c.readExport(path)
	if p := c.graph[path]; err != nil && p != nil && len(p.GoFiles) > 0 && c.view[path] == nil {
		sp := &sourcePackage{listed: p, files: p.GoFiles}
		parseAll(c.fset, []*sourcePackage{sp}, c.skip)
		c.listImports(sp)
		c.check(sp)
		return c.checked[path].Types, nil
	}
	c.read[path] = err
	if err != nil {
		return nil, err
	}
	return c.view[path], nil
}

// listImports asks the go command, in one call, for the export data of the packages the
// files of sp import that no listing has covered yet (sp is read from source because it has
// no export data: the packages only it imports were not asked for).
func (c *checker) listImports(sp *sourcePackage) {
	var paths []string
	for _, path := range sp.imports() {
		imp := sp.listed.Imports[path]
		if imp == nil || c.exports[imp.PkgPath] != nil || c.checked[imp.PkgPath] != nil || slices.Contains(paths, imp.PkgPath) {
			continue
		}
		paths = append(paths, imp.PkgPath)
	}
	if len(paths) == 0 {
		return
	}
	sort.Strings(paths)
	more, _, err := listExports(c.cfg, paths)
	for _, path := range paths {
		p := more[path]
		if err != nil {
			// Each import reports the error when it is read.
			p = &packages.Package{PkgPath: path, Errors: []packages.Error{{Pos: "-", Msg: err.Error(), Kind: packages.ListError}}}
		}
		if p != nil {
			c.exports[path] = p
		}
	}
}

// readExport reads the export data of path into c.view.
func (c *checker) readExport(path string) error {
	p := c.exports[path]
	if p == nil {
		// A dependency of a package type-checked from source because it has no
		// export data: not listed yet.
		more, _, err := listExports(c.cfg, []string{path})
		if err != nil {
			return err
		}
		maps.Copy(c.exports, more)
		if p = c.exports[path]; p == nil {
			return fmt.Errorf("no export data for %s: the go command did not list it", path)
		}
	}
	if p.ExportFile == "" {
		var msgs []string
		for _, e := range p.Errors {
			msgs = append(msgs, e.Error())
		}
		if len(msgs) == 0 {
			msgs = append(msgs, "the go command compiled no export data")
		}
		return fmt.Errorf("no export data for %s: %s", path, strings.Join(msgs, "; "))
	}
	f, err := os.Open(p.ExportFile)
	if err != nil {
		return fmt.Errorf("reading the export data of %s: %w", path, err)
	}
	defer f.Close()
	// The go command writes its export files as archives (as of Go 1.26), which only
	// NewReader reads (Read alone takes the cmd/export format).
	//lint:ignore SA1019 the go command of this Go version writes archives
	r, err := gcexportdata.NewReader(f)
	if err != nil {
		return fmt.Errorf("reading the export data of %s (%s): %w", path, p.ExportFile, err)
	}
	if _, err := gcexportdata.Read(r, c.fset, c.view, path); err != nil {
		return fmt.Errorf("reading the export data of %s (%s): %w", path, p.ExportFile, err)
	}
	return nil
}

// check type-checks sp and records it in c.checked. Its errors are in its Errors, as
// go/packages reports them: ParseError for the parser's, TypeError for the type checker's.
func (c *checker) check(sp *sourcePackage) {
	p := sp.listed
	// The go command's account of the package (its files, ignored ones included, and its
	// module), with the syntax and types of this run.
	listed := *p
	out := &listed
	out.Fset, out.Imports, out.Syntax, out.TypesSizes = c.fset, map[string]*packages.Package{}, sp.syntax, c.sizes
	out.Errors = slices.Clone(sp.errs)
	c.checked[p.PkgPath] = out
	for path, imp := range p.Imports {
		if ci := c.checked[imp.PkgPath]; ci != nil {
			imp = ci
		}
		out.Imports[path] = imp
	}
	modelled := c.modelled[p.PkgPath]
	if modelled {
		out.TypesInfo = &types.Info{
			Types:        map[ast.Expr]types.TypeAndValue{},
			Defs:         map[*ast.Ident]types.Object{},
			Uses:         map[*ast.Ident]types.Object{},
			Implicits:    map[ast.Node]types.Object{},
			Instances:    map[*ast.Ident]types.Instance{},
			Scopes:       map[ast.Node]*types.Scope{},
			Selections:   map[*ast.SelectorExpr]*types.Selection{},
			FileVersions: map[*ast.File]string{},
		}
	}
	tc := &types.Config{
		Importer: importerFunc(func(path string) (*types.Package, error) {
			if path == "unsafe" {
				return types.Unsafe, nil
			}
			imp := p.Imports[path]
			if imp == nil {
				return nil, fmt.Errorf("the go command listed no package %s imported by %s", path, p.PkgPath)
			}
			if ci := c.checked[imp.PkgPath]; ci != nil {
				return ci.Types, nil
			}
			return c.importExport(imp.PkgPath)
		}),
		// Only the modelled packages are read: a package between them needs only its
		// declarations.
		IgnoreFuncBodies: !modelled,
		Error: func(err error) {
			if te, ok := err.(types.Error); ok {
				out.Errors = append(out.Errors, packages.Error{Pos: te.Fset.Position(te.Pos).String(), Msg: te.Msg, Kind: packages.TypeError})
			}
		},
		Sizes: c.sizes,
	}
	if p.Module != nil && p.Module.GoVersion != "" {
		tc.GoVersion = "go" + p.Module.GoVersion
	}
	out.Types = types.NewPackage(p.PkgPath, p.Name)
	err := types.NewChecker(tc, c.fset, out.Types, out.TypesInfo).Files(out.Syntax)
	if err != nil && len(out.Errors) == 0 {
		out.Errors = append(out.Errors, packages.Error{Pos: "-", Msg: err.Error(), Kind: packages.UnknownError})
	}
	out.IllTyped = len(out.Errors) > 0
}

// importerFunc implements types.Importer with a function.
type importerFunc func(path string) (*types.Package, error)

// Import implements types.Importer.
func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
