package gen

import (
	"context"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/packages"
)

// An exportPrefetch is a listing of export data that load starts before it lists the
// packages, so that the two go commands run side by side: the go command takes about as
// long to list export data as to list the packages, whatever it is asked about. It guesses
// what typeCheck will ask for, from the import clauses of the files in the directories
// named by the patterns; typeCheck takes from it the packages it wants, and lists any
// others as it would have. The export data of a package does not depend on what else one
// listing asks about, so the guess changes how long a run takes, never what it reads.
type exportPrefetch struct {
	done    chan struct{} // closed when the fields below are set
	paths   []string      // what it asked about
	exports map[string]*packages.Package
	sizes   types.Sizes
	err     error
}

// prefetchExports starts listing the export data that the files of the target directories
// import ("C" and what cachegen's own generated files import left out). It returns nil when
// the patterns name no directory (import paths, "./..."), when a workspace file is in use,
// and when a file imports a package of the main module. Those may be read from source, or
// import packages that are (annotated ones, whose stale generated files would make the go
// command compile them for nothing, perhaps for long), so they are listed once the
// packages are, and a prefetch would spare nothing. ctx stops the go command when load
// returns early.
func prefetchExports(ctx context.Context, cfg Config) *exportPrefetch {
	paths := guessExports(cfg)
	if len(paths) == 0 {
		return nil
	}
	pre := &exportPrefetch{done: make(chan struct{}), paths: paths}
	go func() {
		defer close(pre.done)
		pre.exports, pre.sizes, pre.err = listExports(ctx, cfg, paths)
	}()
	return pre
}

// take returns the export data of paths as listExports would: from the prefetch when it
// covers them, listing those it does not. A prefetch that failed is ignored.
func (pre *exportPrefetch) take(ctx context.Context, cfg Config, paths []string) (map[string]*packages.Package, types.Sizes, error) {
	if pre == nil {
		return listExports(ctx, cfg, paths)
	}
	<-pre.done
	if pre.err != nil || pre.sizes == nil {
		return listExports(ctx, cfg, paths)
	}
	exports := map[string]*packages.Package{}
	var missing []string
	for _, path := range paths {
		if p := pre.exports[path]; p != nil && slices.Contains(pre.paths, path) {
			exports[path] = p
		} else {
			missing = append(missing, path)
		}
	}
	if len(missing) > 0 {
		more, _, err := listExports(ctx, cfg, missing)
		if err != nil {
			return nil, nil, err
		}
		for _, path := range missing {
			if p := more[path]; p != nil {
				exports[path] = p
			}
		}
	}
	return exports, pre.sizes, nil
}

// guessExports returns, sorted, the import paths of the files that the go command would
// build in the directories cfg's patterns name, but those it leaves out (see
// prefetchExports). "unsafe" is always among them, as typeCheck always asks for it.
func guessExports(cfg Config) []string {
	base := cfg.Dir
	if base == "" {
		var err error
		if base, err = os.Getwd(); err != nil {
			return nil
		}
	}
	if inWorkspace(base) {
		return nil
	}
	ctx := build.Default
	ctx.BuildTags = buildTags(cfg.BuildFlags)
	seen := map[string]bool{"unsafe": true}
	paths := []string{"unsafe"}
	var module string
	for _, pat := range cfg.patterns() {
		if !isDirPattern(pat) {
			return nil
		}
		dir := pat
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(base, dir)
		}
		if module == "" {
			if module = modulePath(dir); module == "" {
				return nil
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasSuffix(name, "_test.go") || name == cfg.output() {
				continue
			}
			if ok, err := ctx.MatchFile(dir, name); err != nil || !ok {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
			if err != nil || !ctx.CgoEnabled && importsC(f) {
				continue // the go command does not build a file of cgo without cgo
			}
			for _, spec := range f.Imports {
				path, err := strconv.Unquote(spec.Path.Value)
				if err != nil || seen[path] || path == "C" {
					continue
				}
				if strings.HasPrefix(path, ".") || path == module || strings.HasPrefix(path, module+"/") {
					// The main module's packages are listed after the packages are:
					// the prefetch would not spare a listing.
					return nil
				}
				seen[path] = true
				paths = append(paths, path)
			}
		}
	}
	slices.Sort(paths)
	return paths
}

// importsC reports whether f imports "C".
func importsC(f *ast.File) bool {
	return slices.ContainsFunc(f.Imports, func(spec *ast.ImportSpec) bool { return spec.Path.Value == `"C"` })
}

// isDirPattern reports whether a package pattern names one directory, as the go command
// reads it: ".", a path starting with "./" or "../", or an absolute path, without "...".
func isDirPattern(pat string) bool {
	if strings.Contains(pat, "...") {
		return false
	}
	return pat == "." || pat == ".." || filepath.IsAbs(pat) ||
		strings.HasPrefix(pat, "./") || strings.HasPrefix(pat, "../") ||
		strings.HasPrefix(pat, "."+string(filepath.Separator)) || strings.HasPrefix(pat, ".."+string(filepath.Separator))
}

// buildTags returns the tags of the last -tags flag of flags, as the go command reads it.
func buildTags(flags []string) []string {
	var tags []string
	for i, f := range flags {
		f = "-" + strings.TrimLeft(f, "-")
		var v string
		switch {
		case strings.HasPrefix(f, "-tags="):
			v = strings.TrimPrefix(f, "-tags=")
		case f == "-tags" && i+1 < len(flags):
			v = flags[i+1]
		default:
			continue
		}
		tags = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	return tags
}

// modulePath returns the path of the module whose go.mod is in dir or the nearest directory
// above it, or "" when there is none or it does not read.
func modulePath(dir string) string {
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			data, err := io.ReadAll(io.LimitReader(f, 1<<20))
			f.Close()
			if err != nil {
				return ""
			}
			return modfile.ModulePath(data)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// inWorkspace reports whether the go command may read a go.work file for dir: GOWORK names
// one, or, unless it is "off", there is one in dir or above it.
func inWorkspace(dir string) bool {
	switch w := os.Getenv("GOWORK"); w {
	case "off":
		return false
	case "":
	default:
		return true
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
}
