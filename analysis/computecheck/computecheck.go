// Package computecheck defines an analyzer that proves a compute function passed to
// cache.Load depends on its key alone: it reports the ways a compute can read something that
// the key does not hold.
//
// The key's generated HashKey makes the key complete; this analyzer checks the other half of
// the contract, which Go cannot express in a type: that compute cannot see anything else. It
// reports, at the compute passed to cache.Load (or to a helper that passes its parameter to
// cache.Load, directly, wrapped in a literal or in an options struct, at the helper's
// callers):
//
//   - a function literal that refers to a variable of an enclosing function (a capture);
//     constants and package-level functions are fine, and so are the key variable given to
//     the same cache.Load and a captured *cache.Cache given as the cache of a nested Load (it
//     returns what its own compute computes, whichever cache it goes through); any other use
//     of a captured cache (its Dir, Stats, Version) is reported;
//   - a method value, which binds its receiver, unless the receiver's type is a struct
//     without fields or a value of size zero;
//   - a compute made by a call, whose closure can capture the call's arguments, unless the
//     called function of the package visibly returns a top-level function or a literal that
//     captures nothing; a conversion to a named function type is not a call;
//   - a compute the check cannot follow to a function ("cannot see what compute is"): a
//     parameter of a function literal, a value received from a channel, an element of a
//     slice it was given. A compute taken from a package-level table or options variable
//     (computes["env"], defaultOpts.Compute) is checked as what the functions it holds read;
//     one taken from a struct field, as every value the package stores in that field; a
//     range variable, as the elements of the literal ranged over;
//   - a read, by compute or by a function of the module it calls or refers to, of a
//     package-level variable that is changed anywhere other than initialisation. Changes
//     are found over SSA, through whatever may refer to the variable: a local copy of a map
//     or slice, a pointer to it or into it (p := &g; q := p; *q = v), a slice expression or
//     conversion of it (sort.Sort(byLen(names))), its pointer elements (for _, it := range
//     items { it.X = v }), a pointer a function returns. A change is a store, a map update,
//     a send on a channel, copy/clear/delete/append into its array, a pointer method of a
//     type of the module or any function of the module that changes its parameter
//     (global.Inc(), fill(table, k, v)), a method of an interface of the module whose
//     implementation changes its receiver, or a standard function or method known to change
//     what it is given (slices.Sort, sort.Sort, json.Unmarshal, io.ReadFull, an atomic's
//     Add, a bytes.Buffer's Write, a rand.Rand's draw, a FlagSet's Parse, a sync.Map's
//     Store). Standard calls not known to change anything only read (strings.Replacer's
//     Replace, big.Int's Bits, json.Marshal(&x), a sync.Pool's Get); writes through a
//     package variable declared as another's address (var p = &cfg) are writes to both;
//   - a read of an ambient input, by compute or by what it calls in the module: the
//     environment, the clock, random numbers, the file system, the network, a database,
//     other processes, the command line (os.Args, the flag package, the pointers flag.Bool
//     returns) and standard input (os.Getenv, time.Now, math/rand, os.ReadFile, net/http,
//     database/sql, os/exec, go/parser.ParseFile without a source, a maphash sum,
//     Time.Local, golang.org/x/sys, ...); embed.FS is part of the program and fine; writing
//     to os.Stdout or os.Stderr is not a read;
//   - a read of a package-level variable whose value was made from an ambient input
//     (var home = os.Getenv("HOME"), or an assignment in init from one, in its package or
//     in another's init), and a call through a function value known statically (var now =
//     time.Now, a single initializer never reassigned), which is followed as its function,
//     across packages too; a table or struct of functions holds what they read;
//   - ctx.Value (also through another interface with that method, and pprof.Label), whose
//     values are not in the key.
//
// A use of a variable whose value goes only back into it is a write, not a read: x = v,
// x.f = v, m[k] = v, x++, x += n and, their results discarded, an atomic's Add or Store,
// atomic.AddInt64(&x, n), a sync.Map's Store, a buffer's Write. A compute that only counts
// (a metric) does not depend on the count; one that uses what it reads (n := hits.Add(1) in
// its result) reads it.
//
// Initialisation is the package's variable declarations, its init functions, and the
// unexported functions that only they call (not from a function literal, nor with go). A
// variable filled there from constants is a table, and fine: the program's version already
// separates entries. A variable filled lazily under sync.Once is reported once, with that
// fix.
//
// Calls are followed across the packages of the module with analysis facts, and calls of a
// method of an interface of the module to the implementations declared in the caller's
// package and in the packages of the module it imports. A global written by one package and
// read by a compute of another package that neither imports the other, however many packages
// lie between, is reported at the import of the reader's side in a package that imports
// both. Writes in _test.go files are not counted: the program never runs them.
//
// A report for a compute that is not a literal names it and the place of the read: compute
// (compile, at compile.go:12:5) reads the environment (os.Getenv): ... ; one for a literal
// that reads through a function it calls gives the place of the read there: compute (at
// config.go:14:12) reads the file system (os.ReadFile, via config.Load): ... .
//
// Known limits, where the analyzer prefers silence to a false report:
//
//   - calls of methods of the standard library's interfaces (io.Writer, fmt.Stringer,
//     error: nearly every type implements one) are not followed, nor methods called through
//     a type parameter (gcompute[FileReader] calling r.Read), nor an implementation declared
//     in a package the caller's package does not import; functions of other modules are not
//     followed either, and what they change of their arguments is not seen;
//   - the standard library is described by tables: of what reads ambient inputs (a standard
//     function missing from it is taken to depend on its arguments only; time.Unix's local
//     zone and ctx.Deadline are not reported) and of what changes its arguments (one missing
//     is taken to only read them);
//   - a package variable changed by reflect or unsafe, or through a function value called
//     with it (a callback), is not seen as changed;
//   - what initialisation stores is traced through the local variables it is made from, not
//     through the parameters of a function init calls (init calling fill(os.Getenv("X"))
//     does not taint what fill assigns);
//   - cgo calls (C.getenv) are not seen: a compute that calls C reads what C reads;
//   - a helper that wraps compute in a literal which also reads the clock (to time it) is
//     reported for that read: justify it with an allow.
//
// A justified exception is written //cachegen:allow <reason> at the end of the reported line
// (it is about that line only), or alone on the line above it or above the statement of the
// cache.Load call (covering the whole call, written on several lines); or so at the read
// itself in the function that reads. An exception without a reason is itself reported, and
// so is a misspelt one (// cachegen:allow, //cachegen:allow: reason), which would otherwise
// be ignored.
package computecheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// cachePath is the import path of the package that declares Load.
const cachePath = "github.com/cachegen/cachegen/runtime/cache"

// Analyzer reports the ways a compute function passed to cache.Load can depend on something
// that is not in its key.
var Analyzer = &analysis.Analyzer{
	Name: "cachegenvet",
	Doc: "check that a compute passed to cache.Load reads only its key\n\n" +
		"A compute function passed to cache.Load (directly, or through a helper that passes its " +
		"parameter to cache.Load) must derive its result from its key alone, or the cache serves " +
		"one input's result for another. cachegenvet reports a compute that captures variables of " +
		"an enclosing function, is a method value (which binds its receiver) or is made by a call, " +
		"and a compute that, itself or through the functions of the module it calls, reads a " +
		"package-level variable assigned outside its declaration and init, ctx.Value, or an " +
		"ambient input: the environment, the clock, random numbers, the file system, the network, " +
		"a database, other processes, the command line or standard input, or a package variable " +
		"made from one; and a compute it cannot follow to a function. Calls of methods of the " +
		"standard library's interfaces are not followed. Write //cachegen:allow <reason> at the " +
		"end of the reported line, or alone on the line above it or above the cache.Load " +
		"statement, for a justified exception.",
	URL:       "https://pkg.go.dev/github.com/cachegen/cachegen/analysis/computecheck",
	Run:       run,
	FactTypes: []analysis.Fact{new(funcFact), new(helperFact), new(pkgFact), new(mutFact)},
}

// maxVia bounds the chain of functions a message names.
const maxVia = 4

type write struct {
	v   *types.Var
	pos token.Pos
	// how says how a write that is not an assignment changes the variable ("changed by
	// math/rand.Rand.Intn"); "" for an assignment.
	how string
}

type checker struct {
	pass   *analysis.Pass
	allows map[string]map[int]allow // file name → line → the allow comment there
	decls  map[*types.Func]*ast.FuncDecl
	// assigns holds, for each variable, the expressions assigned to it; unresolved marks the
	// variables assigned in ways not recorded there.
	assigns    map[*types.Var][]ast.Expr
	unresolved map[*types.Var]bool
	writes     []write
	assigned   map[*ast.Ident]bool // identifiers that are assigned to (x = ...), not read
	helpers    map[*types.Func]helperFact
	summaries  map[types.Object][]effect
	mutable    map[string]varRef // "pkgpath.Name" → where it is assigned
	reads      map[string]varRef
	reported   map[string]bool

	// varInits are the initializers of the package's package-level variables, and what
	// the functions run at initialisation (init, and the functions only initialisation
	// calls) assign them: what a variable holds depends on what they read.
	varInits map[*types.Var][]ast.Expr
	// origins are the expressions each local variable is made from (assigned, or ranged
	// over), to follow what an initialisation assigns back to what it read.
	origins  map[*types.Var][]ast.Expr
	initOnly map[*types.Func]bool
	// pkgAliases are the package-level variables declared as the address of (a part of)
	// another: a write through one is a write to the other.
	pkgAliases map[*types.Var][]*types.Var
	// immediate are the function literals called where they are written (not by a go
	// statement); onceLits those that sync.Once runs.
	immediate map[*ast.FuncLit]bool
	onceLits  map[*ast.FuncLit]bool
	// declParams are the parameters (and receivers) of declared functions; rangeValue the
	// value variables of range statements; fieldStores what the package stores in each
	// struct field (in composite literals and assignments).
	// foreignInits are the variables of other packages that this package's initialisation
	// assigns; inits what the initialisation of other packages stores in variables (of
	// this package or others) reads, by "pkgpath.Name".
	foreignInits []*types.Var
	inits        map[string][]effect
	implCache    map[*types.Func][]*types.Func
	// callEffects are what calls read by their arguments, at the called function's
	// identifier.
	callEffects map[*ast.Ident]effect
	// stmt is the statement of the call whose compute is being checked.
	stmt        ast.Stmt
	declParams  map[*types.Var]bool
	rangeValue  map[*types.Var]bool
	fieldStores map[*types.Var][]ast.Expr
	// aliases are the local variables that hold the address of (a part of) a package-level
	// variable.
	aliases map[*types.Var]*types.Var
	// localWritten are the local variables (parameters included) written through, and
	// escaped those used other than to read a field, an element or the pointee.
	localWritten map[*types.Var]bool
	escaped      map[*types.Var]bool
	// passedOn are the compute parameters of helpers that a literal passed to cache.Load
	// calls: capturing one is passing compute on, checked at the helper's callers.
	passedOn map[*types.Var]bool
}

func run(pass *analysis.Pass) (any, error) {
	if isStd(pass) {
		return nil, nil
	}
	c := &checker{
		pass:       pass,
		allows:     map[string]map[int]allow{},
		decls:      map[*types.Func]*ast.FuncDecl{},
		assigns:    map[*types.Var][]ast.Expr{},
		unresolved: map[*types.Var]bool{},
		helpers:    map[*types.Func]helperFact{},
		summaries:  map[types.Object][]effect{},
		mutable:    map[string]varRef{},
		reads:      map[string]varRef{},
		reported:   map[string]bool{},
		assigned:   map[*ast.Ident]bool{},

		varInits:     map[*types.Var][]ast.Expr{},
		origins:      map[*types.Var][]ast.Expr{},
		initOnly:     map[*types.Func]bool{},
		pkgAliases:   map[*types.Var][]*types.Var{},
		immediate:    map[*ast.FuncLit]bool{},
		onceLits:     map[*ast.FuncLit]bool{},
		declParams:   map[*types.Var]bool{},
		inits:        map[string][]effect{},
		implCache:    map[*types.Func][]*types.Func{},
		callEffects:  map[*ast.Ident]effect{},
		rangeValue:   map[*types.Var]bool{},
		fieldStores:  map[*types.Var][]ast.Expr{},
		aliases:      map[*types.Var]*types.Var{},
		localWritten: map[*types.Var]bool{},
		escaped:      map[*types.Var]bool{},
		passedOn:     map[*types.Var]bool{},
	}
	c.collect()
	if inScope(pass) {
		// The module's own writes, over SSA; a dependency's are read from its syntax
		// (collect), which is cheaper and enough for what the module reads of it.
		c.classify(c.mutations())
	}
	c.findHelpers()
	fact := &pkgFact{}
	seen := map[string]bool{}
	for _, w := range c.writes {
		r := c.ref(w.v, w.pos)
		r.How = w.how
		if k := r.Pkg + "." + r.Name; !seen[k] {
			seen[k] = true
			fact.Writes = append(fact.Writes, r)
			c.mutable[k] = r
		}
	}
	// Functions of other modules are not summarised: the check follows calls within the
	// module, and a dependency's module is not the one being checked.
	if inScope(pass) {
		c.reportAllowsWithoutReason()
		for _, f := range pass.AllPackageFacts() {
			if pf, ok := f.Fact.(*pkgFact); ok {
				for _, t := range pf.Inits {
					k := t.Pkg + "." + t.Name
					c.inits[k] = append(c.inits[k], t.Effects...)
				}
			}
		}
		c.summarise()
		for _, f := range pass.AllPackageFacts() {
			if pf, ok := f.Fact.(*pkgFact); ok {
				for _, w := range pf.Writes {
					if k := w.Pkg + "." + w.Name; c.mutable[k] == (varRef{}) {
						c.mutable[k] = w
					}
				}
			}
		}
		c.checkCalls()
		fact.Met = c.checkImporterWrites()
		fact.Met = append(fact.Met, c.checkSiblings(fact.Met)...)
		slices.Sort(fact.Met)
		fact.Met = slices.Compact(fact.Met)
		for _, r := range c.reads {
			fact.Reads = append(fact.Reads, r)
		}
		// The reads of the computes of the packages this one imports, passed on: a
		// package that imports this one and a writer meets them (main → server →
		// handlers → compute).
		met := map[string]bool{}
		for _, k := range fact.Met {
			met[k] = true
		}
		for _, imp := range pass.Pkg.Imports() {
			var pf pkgFact
			if pass.ImportPackageFact(imp, &pf) {
				for _, k := range pf.Met {
					met[k] = true
				}
				for _, r := range pf.Reads {
					if k := r.Pkg + "." + r.Name; !met[k] && c.reads[k] == (varRef{}) {
						c.reads[k] = r
						fact.Reads = append(fact.Reads, r)
					}
				}
			}
		}
		fact.Reads = slices.DeleteFunc(fact.Reads, func(r varRef) bool { return met[r.Pkg+"."+r.Name] })
		sortRefs(fact.Reads)
		for _, v := range c.foreignInits {
			if s := c.summaries[v]; len(s) > 0 {
				fact.Inits = append(fact.Inits, initTaint{Pkg: v.Pkg().Path(), Name: v.Name(), Effects: s})
			}
		}
	}
	if len(fact.Writes) > 0 || len(fact.Reads) > 0 || len(fact.Met) > 0 || len(fact.Inits) > 0 {
		pass.ExportPackageFact(fact)
	}
	return nil, nil
}

// isStd reports whether pass analyzes a package of the standard library, which the table in
// ambient.go describes instead.
func isStd(pass *analysis.Pass) bool {
	if pass.Module != nil && pass.Module.Path != "" {
		return false
	}
	return isStdPath(pass.Pkg.Path())
}

// isStd reports whether pkg belongs to the standard library: its path's first element has no
// dot, and it is neither the package being analyzed nor one of its module.
func (c *checker) isStd(pkg *types.Package) bool {
	if pkg == c.pass.Pkg {
		return false
	}
	if m := c.pass.Module; m != nil && m.Path != "" && (pkg.Path() == m.Path || strings.HasPrefix(pkg.Path(), m.Path+"/")) {
		return false
	}
	return isStdPath(pkg.Path())
}

func isStdPath(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// inScope reports whether the package belongs to a module being checked (a main or
// workspace module, or no module at all) rather than to a versioned dependency.
func inScope(pass *analysis.Pass) bool {
	return pass.Module == nil || pass.Module.Path == "" || pass.Module.Version == ""
}

// rootVar returns the package-level variable (of a package outside the standard library)
// that e designates or is an element, field or pointee of, or nil.
func (c *checker) rootVar(e ast.Expr) *types.Var {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			return c.pkgVar(c.pass.TypesInfo.Uses[x])
		case *ast.SelectorExpr:
			if s := c.pass.TypesInfo.Selections[x]; s != nil {
				if s.Kind() != types.FieldVal {
					return nil
				}
				e = x.X
				continue
			}
			return c.pkgVar(c.pass.TypesInfo.Uses[x.Sel])
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		default:
			return nil
		}
	}
}

// rootLocal returns the local variable that e designates or is an element, field or pointee
// of, or nil.
func (c *checker) rootLocal(e ast.Expr) *types.Var {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			v := c.identVar(x)
			if v == nil || isPkgLevel(v) {
				return nil
			}
			return v
		case *ast.SelectorExpr:
			if s := c.pass.TypesInfo.Selections[x]; s == nil || s.Kind() != types.FieldVal {
				return nil
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		default:
			return nil
		}
	}
}

// pkgVar returns obj if it is a package-level variable of a package outside the standard
// library.
func (c *checker) pkgVar(obj types.Object) *types.Var {
	v, ok := obj.(*types.Var)
	if !ok || !isPkgLevel(v) || c.isStd(v.Pkg()) {
		return nil
	}
	return v
}

func isPkgLevel(v *types.Var) bool {
	return v.Pkg() != nil && !v.IsField() && v.Pkg().Scope().Lookup(v.Name()) == v
}

// identVar returns the variable an identifier (defined or used) designates.
func (c *checker) identVar(e ast.Expr) *types.Var {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	if v, ok := c.pass.TypesInfo.Defs[id].(*types.Var); ok {
		return v
	}
	v, _ := c.pass.TypesInfo.Uses[id].(*types.Var)
	return v
}

// An allow is a //cachegen:allow comment.
type allow struct {
	reason bool // it has a reason
	alone  bool // it is alone on its line: it is about the next line
}

// collectAllows records file's allow comments.
func (c *checker) collectAllows(file *ast.File) {
	var src []byte
	for _, cg := range file.Comments {
		for _, cm := range cg.List {
			reason, ok := allowReason(cm.Text)
			if !ok {
				continue
			}
			p := c.pass.Fset.Position(cm.Slash)
			if src == nil {
				src, _ = c.pass.ReadFile(p.Filename)
			}
			if c.allows[p.Filename] == nil {
				c.allows[p.Filename] = map[int]allow{}
			}
			c.allows[p.Filename][p.Line] = allow{reason: reason != "", alone: aloneOnLine(src, p.Offset)}
		}
	}
}

// aloneOnLine reports whether only blanks precede offset on its line of src.
func aloneOnLine(src []byte, offset int) bool {
	if offset > len(src) {
		return true
	}
	for i := offset - 1; i >= 0 && src[i] != '\n'; i-- {
		if src[i] != ' ' && src[i] != '\t' {
			return false
		}
	}
	return true
}

// allowReason parses a //cachegen:allow comment.
func allowReason(text string) (reason string, ok bool) {
	rest, ok := strings.CutPrefix(text, "//cachegen:allow")
	if !ok || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", false
	}
	// A comment after the directive (//cachegen:allow // TODO) is not a reason.
	if i := strings.Index(rest, " //"); i >= 0 {
		rest = rest[:i]
	}
	return strings.TrimSpace(rest), true
}

// misspeltAllow reports whether text is meant as an allow comment but is not one:
// "// cachegen:allow", "/*cachegen:allow*/", "//cachegen:allow: reason".
func misspeltAllow(text string) bool {
	body := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(text, "//"), "/*"), " \t")
	rest, ok := strings.CutPrefix(body, "cachegen:allow")
	if !ok {
		return false
	}
	_, valid := allowReason(text)
	return !valid && (rest == "" || rest[0] == ':' || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '*')
}

func (c *checker) reportAllowsWithoutReason() {
	for _, file := range c.pass.Files {
		for _, cg := range file.Comments {
			for _, cm := range cg.List {
				if reason, ok := allowReason(cm.Text); ok && reason == "" {
					c.pass.Reportf(cm.Slash, "//cachegen:allow needs a reason: write why this compute may read what is reported, as //cachegen:allow <reason>")
				} else if misspeltAllow(cm.Text) {
					c.pass.Reportf(cm.Slash, "malformed //cachegen:allow: write it as //cachegen:allow <reason>, with no space after // and a space before the reason")
				}
			}
		}
	}
}

// allowed reports whether a //cachegen:allow with a reason is on pos's line, or alone on
// the line above it or above the statement of the cache.Load call being checked (when pos is
// in that statement: an allow above a call written on several lines covers it).
func (c *checker) allowed(pos token.Pos) bool {
	p := c.pass.Fset.Position(pos)
	lines := c.allows[p.Filename]
	if a := lines[p.Line]; a.reason {
		return true
	}
	if a := lines[p.Line-1]; a.reason && a.alone {
		return true
	}
	if c.stmt != nil && c.stmt.Pos() <= pos && pos < c.stmt.End() {
		a := lines[c.pass.Fset.Position(c.stmt.Pos()).Line-1]
		return a.reason && a.alone
	}
	return false
}

func (c *checker) report(pos token.Pos, format string, args ...any) {
	if c.allowed(pos) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	k := fmt.Sprint(pos, msg)
	if c.reported[k] {
		return
	}
	c.reported[k] = true
	c.pass.Report(analysis.Diagnostic{Pos: pos, Message: msg})
}

// ref describes v and a position of the package being analyzed.
func (c *checker) ref(v *types.Var, pos token.Pos) varRef {
	return varRef{Pkg: v.Pkg().Path(), Name: v.Name(), Pos: c.where(pos)}
}

// where returns pos as file:line, with the file's base name.
func (c *checker) where(pos token.Pos) string {
	p := c.pass.Fset.Position(pos)
	return fmt.Sprintf("%s:%d", filepath.Base(p.Filename), p.Line)
}

// whereCol returns pos as file:line:col, with the file's base name.
func (c *checker) whereCol(pos token.Pos) string {
	p := c.pass.Fset.Position(pos)
	return fmt.Sprintf("%s:%d:%d", filepath.Base(p.Filename), p.Line, p.Column)
}
