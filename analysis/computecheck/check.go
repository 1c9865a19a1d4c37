package computecheck

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strings"
)

// checkCalls checks the compute argument of every call of cache.Load and of the helpers that
// pass their parameter to it.
//
// Load's own package is not checked: its tests drive Load with computes that count, block,
// fail and panic on purpose, and nothing else can be a user of Load there.
func (c *checker) checkCalls() {
	if c.pass.Pkg.Path() == cachePath {
		return
	}
	for _, file := range c.pass.Files {
		var stmts []ast.Stmt
		ast.Inspect(file, func(n ast.Node) bool {
			if n == nil {
				return true
			}
			// The statement around each call: an allow above it covers the call.
			if st, ok := n.(ast.Stmt); ok {
				for len(stmts) > 0 && stmts[len(stmts)-1].End() <= st.Pos() {
					stmts = stmts[:len(stmts)-1]
				}
				stmts = append(stmts, st)
			}
			if call, ok := n.(*ast.CallExpr); ok {
				c.stmt = nil
				for i := len(stmts) - 1; i >= 0; i-- {
					if stmts[i].Pos() <= call.Pos() && call.End() <= stmts[i].End() {
						c.stmt = stmts[i]
						break
					}
				}
				defer func() { c.stmt = nil }()
				if h := c.computeIndex(call); h.Param >= 0 && h.Param < len(call.Args) {
					if h.Field == "" {
						c.checkCompute(call, call.Args[h.Param], 0)
					} else if e := c.fieldOf(call.Args[h.Param], h.Field, 0); e != nil {
						c.checkCompute(call, e, 0)
					} else if v := c.rootLocal(call.Args[h.Param]); v == nil || !c.declParams[v] {
						c.unresolvedCompute(call.Args[h.Param])
					}
					for _, i := range h.Also {
						if i < len(call.Args) {
							c.checkCompute(call, call.Args[i], 0)
						}
					}
				}
			}
			return true
		})
	}
}

// fieldOf returns the value of the field named field in e, a composite literal (or its
// address, or a local variable assigned one once), or nil.
func (c *checker) fieldOf(e ast.Expr, field string, depth int) ast.Expr {
	if depth > 4 {
		return nil
	}
	switch x := ast.Unparen(e).(type) {
	case *ast.UnaryExpr:
		if x.Op == token.AND {
			return c.fieldOf(x.X, field, depth+1)
		}
	case *ast.Ident:
		if v := c.identVar(x); v != nil && !isPkgLevel(v) && len(c.assigns[v]) == 1 && !c.unresolved[v] {
			return c.fieldOf(c.assigns[v][0], field, depth+1)
		}
	case *ast.CompositeLit:
		st, ok := c.pass.TypesInfo.TypeOf(x).Underlying().(*types.Struct)
		if !ok {
			return nil
		}
		for i, elt := range x.Elts {
			if kv, ok := elt.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok && id.Name == field {
					return kv.Value
				}
			} else if i < st.NumFields() && st.Field(i).Name() == field {
				return elt
			}
		}
	}
	return nil
}

// elementOf returns the value of the element index of e, a composite literal of map, slice
// or array type that a local variable is assigned once, when index is a constant.
func (c *checker) elementOf(e ast.Expr, index ast.Expr) ast.Expr {
	key := c.pass.TypesInfo.Types[index].Value
	if key == nil {
		return nil
	}
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return nil
	}
	v := c.identVar(id)
	if v == nil || isPkgLevel(v) || len(c.assigns[v]) != 1 || c.unresolved[v] || c.localWritten[v] || c.escaped[v] {
		return nil
	}
	lit, ok := ast.Unparen(c.assigns[v][0]).(*ast.CompositeLit)
	if !ok {
		return nil
	}
	for i, elt := range lit.Elts {
		if kv, ok := elt.(*ast.KeyValueExpr); ok {
			if k := c.pass.TypesInfo.Types[kv.Key].Value; k != nil && constant.Compare(k, token.EQL, key) {
				return kv.Value
			}
		} else if k, ok := constant.Int64Val(key); ok && int64(i) == k {
			return elt
		}
	}
	return nil
}

// checkCompute checks e, the compute of call (or what a variable passed as compute holds).
func (c *checker) checkCompute(call *ast.CallExpr, e ast.Expr, depth int) {
	info := c.pass.TypesInfo
	if depth > 4 {
		return
	}
	e = ast.Unparen(e)
	switch x := e.(type) {
	case *ast.IndexExpr:
		if isContainer(info.TypeOf(x.X)) {
			// An element of a map or slice literal: m["x"].
			if el := c.elementOf(x.X, x.Index); el != nil {
				c.checkCompute(call, el, depth+1)
				return
			}
			// An element of a package-level table: what its functions read.
			if v := c.rootVar(x.X); v != nil {
				c.checkTable(call, e, v)
				return
			}
			c.unresolvedCompute(e)
			return
		}
		e = ast.Unparen(x.X) // an instantiation: compile[T]
	case *ast.IndexListExpr:
		e = ast.Unparen(x.X)
	case *ast.TypeAssertExpr:
		// x.(F): what x holds.
		c.checkCompute(call, x.X, depth+1)
		return
	}
	var obj types.Object
	switch x := e.(type) {
	case *ast.FuncLit:
		c.checkLit(call, x)
		return
	case *ast.CallExpr:
		if tv, ok := info.Types[x.Fun]; ok && tv.IsType() && len(x.Args) == 1 {
			// A conversion to a named function type: ComputeFunc(func(...) {...}).
			c.checkCompute(call, x.Args[0], depth+1)
			return
		}
		c.checkFactory(call, e, x)
		return
	case *ast.Ident:
		obj = info.Uses[x]
	case *ast.UnaryExpr:
		c.unresolvedCompute(e) // <-ch
		return
	case *ast.SelectorExpr:
		if s := info.Selections[x]; s != nil {
			switch s.Kind() {
			case types.MethodVal:
				if c.stateless(s.Recv(), info.TypeOf(x.X)) {
					c.reportEffects(call, e.Pos(), c.summaryOf(s.Obj().(*types.Func).Origin()), e)
					return
				}
				recv := types.ExprString(x.X)
				c.report(e.Pos(), "compute is the method value %s, which captures its receiver %s: pass a function, and put what it reads of %s in the key",
					types.ExprString(x), recv, recv)
				return
			case types.FieldVal:
				// A field of a local struct literal: s.f.
				if id, ok := ast.Unparen(x.X).(*ast.Ident); ok && len(s.Index()) == 1 {
					if v := c.identVar(id); v != nil && !isPkgLevel(v) && !c.localWritten[v] && !c.escaped[v] {
						if f := c.fieldOf(id, x.Sel.Name, 0); f != nil {
							c.checkCompute(call, f, depth+1)
							return
						}
					}
				}
				// A field of a package-level variable: what its functions read.
				if v := c.rootVar(x.X); v != nil {
					c.checkTable(call, e, v)
					return
				}
				// A field of a helper's parameter is checked at the helper's callers.
				if v := c.rootLocal(x.X); v != nil && c.declParams[v] {
					if _, helper := c.paramOf(c.enclosingDecl(call), x, 0); helper {
						return
					}
				}
				// Any other field: every value the package stores in it.
				field, _ := s.Obj().(*types.Var)
				if stores := c.fieldStores[field]; len(stores) > 0 && len(stores) <= 8 {
					for _, st := range stores {
						c.checkCompute(call, st, depth+1)
					}
					return
				}
				c.unresolvedCompute(e)
				return
			}
		}
		obj = info.Uses[x.Sel]
	default:
		c.unresolvedCompute(e)
		return
	}
	switch obj := obj.(type) {
	case *types.Func:
		c.reportEffects(call, e.Pos(), c.summaryOf(obj.Origin()), e)
	case *types.Var:
		if isPkgLevel(obj) {
			if w, ok := c.mutable[obj.Pkg().Path()+"."+obj.Name()]; ok {
				c.report(e.Pos(), "compute is %s, a package variable assigned outside its declaration and init (%s): pass a function",
					c.varName(obj.Pkg().Path(), obj.Name()), w.Pos)
				return
			}
			if obj.Pkg() != c.pass.Pkg {
				var ff funcFact
				if c.pass.ImportObjectFact(obj, &ff) {
					c.reportEffects(call, e.Pos(), prefix(objName(obj), ff.Effects), e)
				}
				return
			}
		}
		// A local variable is followed to what it is assigned, when every assignment is
		// known: checking each is checking what the variable can hold.
		if as := c.assigns[obj]; len(as) > 0 && len(as) <= 4 && !c.unresolved[obj] {
			for _, a := range as {
				c.checkCompute(call, a, depth+1)
			}
			return
		}
		if c.declParams[obj] {
			return // a helper's parameter: checked at the helper's callers
		}
		// Made by a call with other results (f, err := makeCompute(opt)), or ranged
		// over (for _, f := range computes).
		if origins := c.origins[obj]; len(origins) > 0 && len(origins) <= 4 && !isPkgLevel(obj) {
			for _, o := range origins {
				switch o := ast.Unparen(o).(type) {
				case *ast.CallExpr:
					c.checkCompute(call, o, depth+1)
				case *ast.CompositeLit:
					if c.rangeValue[obj] {
						for _, el := range o.Elts {
							if kv, ok := el.(*ast.KeyValueExpr); ok {
								el = kv.Value
							}
							c.checkCompute(call, el, depth+1)
						}
					} else {
						c.unresolvedCompute(e)
					}
				default:
					if v := c.rootVar(o); v != nil && c.rangeValue[obj] {
						c.checkTable(call, e, v)
					} else {
						c.checkCompute(call, o, depth+1)
					}
				}
			}
			return
		}
		c.unresolvedCompute(e)
	}
}

// unresolvedCompute reports a compute the check cannot follow to a function: it cannot tell
// what the compute reads.
func (c *checker) unresolvedCompute(e ast.Expr) {
	c.report(e.Pos(), "cannot see what compute is (%s): pass a function literal or a named function, and put what it needs in the key",
		types.ExprString(e))
}

// checkTable checks a compute taken from v, a package-level variable (a table of computes,
// an options struct): it must not be changed after initialisation, and what the functions it
// holds read is what compute reads.
func (c *checker) checkTable(call *ast.CallExpr, e ast.Expr, v *types.Var) {
	if w, ok := c.mutable[v.Pkg().Path()+"."+v.Name()]; ok {
		c.report(e.Pos(), "compute is taken from %s, a package variable assigned outside its declaration and init (%s): pass a function",
			c.varName(v.Pkg().Path(), v.Name()), w.Pos)
		return
	}
	if v.Pkg() == c.pass.Pkg {
		c.reportEffects(call, e.Pos(), prefix(objName(v), c.summaries[v]), e)
		return
	}
	var ff funcFact
	if c.pass.ImportObjectFact(v, &ff) {
		c.reportEffects(call, e.Pos(), prefix(objName(v), ff.Effects), e)
	}
}

// enclosingDecl returns the function declared around n, or nil.
func (c *checker) enclosingDecl(n ast.Node) *types.Func {
	for fn, d := range c.decls {
		if d.Pos() <= n.Pos() && n.End() <= d.End() {
			return fn
		}
	}
	return nil
}

// isContainer reports whether t is a map, a slice or an array.
func isContainer(t types.Type) bool {
	if t == nil {
		return false
	}
	switch t.Underlying().(type) {
	case *types.Map, *types.Slice, *types.Array:
		return true
	}
	return false
}

// stateless reports whether a method value on recv (of type t as written) captures nothing:
// its receiver's type is a struct without fields, or a value of size zero.
func (c *checker) stateless(recv, t types.Type) bool {
	if p, ok := recv.Underlying().(*types.Pointer); ok {
		recv = p.Elem()
	}
	if st, ok := recv.Underlying().(*types.Struct); ok && st.NumFields() == 0 {
		return true
	}
	if t == nil {
		return false
	}
	if _, ptr := t.Underlying().(*types.Pointer); ptr {
		return false
	}
	return c.pass.TypesSizes != nil && c.pass.TypesSizes.Sizeof(t) == 0
}

// reportEffects reports at pos what a compute reads, as effects says. For a compute that is
// not a literal (named, the function it names), each report names it and the position of
// the read: compute (compile, at compile.go:12:5) reads ...; for a literal, a read in a
// function it calls says where: compute (at config.go:8:9) reads ... (..., via config.Load).
func (c *checker) reportEffects(call *ast.CallExpr, pos token.Pos, effects []effect, named ...ast.Expr) {
	for _, e := range effects {
		if msg := c.describe(e); msg != "" {
			if len(named) > 0 && e.Pos != "" {
				msg = "compute (" + types.ExprString(named[0]) + ", at " + e.Pos + ")" + strings.TrimPrefix(msg, "compute")
			} else if len(e.Via) > 0 && e.Pos != "" {
				// A literal reading through a function it calls: where that reads.
				msg = "compute (at " + e.Pos + ")" + strings.TrimPrefix(msg, "compute")
			}
			c.report(pos, "%s", msg)
		} else if e.Kind == kindVar && token.IsExported(e.Name) {
			// Only an exported variable can be assigned by a package that imports this one.
			k := e.Pkg + "." + e.Name
			if _, ok := c.reads[k]; !ok {
				c.reads[k] = varRef{Pkg: e.Pkg, Name: e.Name, Pos: c.where(call.Pos()) + " in package " + c.pass.Pkg.Name()}
			}
		}
	}
}

// checkLit checks a function literal used as compute: its captures, and what it reads
// itself and through what it calls.
//
// Some captures are not reported: the key variable passed to the same cache.Load (compute
// reads it as its parameter would), a *cache.Cache (loading through a cache returns what the
// compute given there computes, whichever cache it is), and a helper's compute parameter
// that the literal calls (checked at the helper's callers).
func (c *checker) checkLit(call *ast.CallExpr, lit *ast.FuncLit) {
	captured := map[*types.Var]bool{}
	var key *types.Var
	if fn := staticCallee(c.pass.TypesInfo, call); fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == cachePath && fn.Name() == "Load" && len(call.Args) == 4 {
		key = c.identVar(call.Args[2])
	}
	// The identifiers given as arguments to a nested cache.Load or helper: a captured
	// cache used so only loads through it.
	loadArgs := map[*ast.Ident]bool{}
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if inner, ok := n.(*ast.CallExpr); ok && c.computeIndex(inner).Param >= 0 {
			for _, a := range inner.Args {
				if id, ok := ast.Unparen(a).(*ast.Ident); ok {
					loadArgs[id] = true
				}
			}
		}
		return true
	})
	cacheUsed := map[*types.Var]bool{}
	c.uses(lit.Body, func(id *ast.Ident, obj types.Object) {
		if v, ok := obj.(*types.Var); ok && !v.IsField() && !isPkgLevel(v) {
			if v.Pos() >= lit.Pos() && v.Pos() < lit.End() {
				return
			}
			if isCache(v.Type()) {
				if !loadArgs[id] && !cacheUsed[v] {
					cacheUsed[v] = true
					c.report(id.Pos(), "compute reads the cache %s (its directory, version or statistics), not only loads through it: put what it needs in the key", v.Name())
				}
				return
			}
			if !captured[v] {
				captured[v] = true
				if v != key && !c.passedOn[v] {
					c.report(id.Pos(), "compute captures %s: put it in the key", v.Name())
				}
			}
			return
		}
		effects, local := c.idEffects(id, obj)
		if local != nil {
			effects = append(effects, prefix(objName(local), c.summaries[local])...)
		}
		for _, m := range c.localImpls(obj) {
			effects = append(effects, prefix(objName(m), c.summaries[m])...)
		}
		c.reportEffects(call, id.Pos(), effects)
	})
}

// isCache reports whether t is *cache.Cache.
func isCache(t types.Type) bool {
	p, ok := t.(*types.Pointer)
	if !ok {
		return false
	}
	n, ok := p.Elem().(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == cachePath && n.Obj().Name() == "Cache"
}

// checkFactory checks a compute made by a call: it is reported unless the function called
// is of this package and visibly returns a top-level function or a literal that captures
// nothing, which is then checked as the compute.
func (c *checker) checkFactory(call *ast.CallExpr, e ast.Expr, made *ast.CallExpr) {
	fn := staticCallee(c.pass.TypesInfo, made)
	name := types.ExprString(made.Fun)
	if fn != nil && fn.Pkg() == c.pass.Pkg {
		if decl := c.decls[fn]; decl != nil {
			if results, ok := c.returnedFuncs(decl); ok {
				for _, r := range results {
					c.checkCompute(call, r, 1)
				}
				return
			}
		}
	}
	c.report(e.Pos(), "compute is made by a call to %s, whose closure can capture the call's arguments: pass a top-level function, and put what it needs in the key", name)
}

// returnedFuncs returns what decl returns, if every return statement returns a function
// identifier or a literal that captures nothing.
func (c *checker) returnedFuncs(decl *ast.FuncDecl) (results []ast.Expr, ok bool) {
	ok = true
	ast.Inspect(decl.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // its returns are its own
		case *ast.ReturnStmt:
			if len(n.Results) != 1 {
				ok = false
				return false
			}
			r := ast.Unparen(n.Results[0])
			switch r := r.(type) {
			case *ast.FuncLit:
				if c.captures(r) {
					ok = false
				}
			case *ast.Ident:
				if _, isFunc := c.pass.TypesInfo.Uses[r].(*types.Func); !isFunc {
					ok = false
				}
			case *ast.SelectorExpr:
				if _, isFunc := c.pass.TypesInfo.Uses[r.Sel].(*types.Func); !isFunc || c.pass.TypesInfo.Selections[r] != nil {
					ok = false
				}
			default:
				ok = false
			}
			results = append(results, r)
		}
		return ok
	})
	return results, ok && len(results) > 0
}

// captures reports whether lit refers to a variable of an enclosing function.
func (c *checker) captures(lit *ast.FuncLit) bool {
	found := false
	c.uses(lit.Body, func(_ *ast.Ident, obj types.Object) {
		if v, ok := obj.(*types.Var); ok && !v.IsField() && !isPkgLevel(v) && (v.Pos() < lit.Pos() || v.Pos() >= lit.End()) {
			found = true
		}
	})
	return found
}

// checkImporterWrites reports the writes of this package to variables that a compute of an
// imported package reads: the package that declares the compute cannot see them. It returns
// the variables reported.
func (c *checker) checkImporterWrites() (met []string) {
	reads := map[string]varRef{}
	for _, f := range c.pass.AllPackageFacts() {
		if pf, ok := f.Fact.(*pkgFact); ok && f.Package != c.pass.Pkg {
			for _, r := range pf.Reads {
				k := r.Pkg + "." + r.Name
				if _, ok := reads[k]; !ok {
					reads[k] = r
				}
			}
		}
	}
	if len(reads) == 0 {
		return nil
	}
	for _, w := range c.writes {
		k := w.v.Pkg().Path() + "." + w.v.Name()
		if r, ok := reads[k]; ok {
			c.report(w.pos, "%s is assigned here, and a compute passed to cache.Load reads it (%s): put it in the key",
				c.varName(r.Pkg, r.Name), r.Pos)
			met = append(met, k)
		}
	}
	return met
}

// checkSiblings reports, at the import of a package whose compute reads a variable, the
// writes to it by another package this one depends on: neither the reader nor the writer
// imports the other, so neither can see both (a package sets a global, a sibling's compute
// reads it, and the program imports both). A read and write already met by a dependency
// (the writer imports the reader, or another joint importer reported it) are not reported
// again. It returns the variables reported.
func (c *checker) checkSiblings(already []string) (met []string) {
	done := map[string]bool{}
	for _, k := range already {
		done[k] = true
	}
	writers := map[string][]varRef{}
	writerPkg := map[string][]string{}
	for _, f := range c.pass.AllPackageFacts() {
		pf, ok := f.Fact.(*pkgFact)
		if !ok || f.Package == c.pass.Pkg {
			continue
		}
		for _, k := range pf.Met {
			done[k] = true
		}
		for _, w := range pf.Writes {
			k := w.Pkg + "." + w.Name
			writers[k] = append(writers[k], w)
			writerPkg[k] = append(writerPkg[k], f.Package.Path())
		}
	}
	for _, file := range c.pass.Files {
		for _, spec := range file.Imports {
			pkg := c.pass.TypesInfo.PkgNameOf(spec)
			if pkg == nil {
				continue
			}
			var pf pkgFact
			if !c.pass.ImportPackageFact(pkg.Imported(), &pf) {
				continue
			}
			for _, r := range pf.Reads {
				k := r.Pkg + "." + r.Name
				if done[k] {
					continue
				}
				for i, w := range writers[k] {
					if writerPkg[k][i] == pkg.Imported().Path() {
						continue
					}
					done[k] = true
					met = append(met, k)
					reader := pkg.Imported().Name()
					if _, in, ok := strings.Cut(r.Pos, " in package "); ok && in != reader {
						reader = in + " (imported through " + reader + ")"
					}
					c.report(spec.Pos(), "a compute of %s reads %s (%s), which package %s assigns (%s): put it in the key",
						reader, c.varName(r.Pkg, r.Name), r.Pos, writerPkg[k][i], w.Pos)
					break
				}
			}
		}
	}
	return met
}
