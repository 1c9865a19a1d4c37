package computecheck

import (
	"go/ast"
	"go/token"
	"go/types"
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
		ast.Inspect(file, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if i := c.computeIndex(call); i >= 0 && i < len(call.Args) {
					c.checkCompute(call, call.Args[i], 0)
				}
			}
			return true
		})
	}
}

// checkCompute checks e, the compute of call (or what a variable passed as compute holds).
func (c *checker) checkCompute(call *ast.CallExpr, e ast.Expr, depth int) {
	info := c.pass.TypesInfo
	if depth > 4 {
		return
	}
	e = ast.Unparen(e)
	switch x := e.(type) {
	case *ast.IndexExpr: // an instantiation: compile[T]
		e = ast.Unparen(x.X)
	case *ast.IndexListExpr:
		e = ast.Unparen(x.X)
	}
	var obj types.Object
	switch x := e.(type) {
	case *ast.FuncLit:
		c.checkLit(call, x)
		return
	case *ast.CallExpr:
		c.checkFactory(call, e, x)
		return
	case *ast.Ident:
		obj = info.Uses[x]
	case *ast.SelectorExpr:
		if s := info.Selections[x]; s != nil {
			switch s.Kind() {
			case types.MethodVal:
				recv := types.ExprString(x.X)
				c.report(e.Pos(), "compute is the method value %s, which captures its receiver %s: pass a function, and put what it reads of %s in the key",
					types.ExprString(x), recv, recv)
				return
			case types.FieldVal:
				return // a function held in a field: not resolved
			}
		}
		obj = info.Uses[x.Sel]
	default:
		return
	}
	switch obj := obj.(type) {
	case *types.Func:
		c.reportEffects(call, e.Pos(), c.summaryOf(obj.Origin()))
	case *types.Var:
		if isPkgLevel(obj) {
			if w, ok := c.mutable[obj.Pkg().Path()+"."+obj.Name()]; ok {
				c.report(e.Pos(), "compute is %s, a package variable assigned outside its declaration and init (%s): pass a function",
					c.varName(obj.Pkg().Path(), obj.Name()), w.Pos)
				return
			}
		}
		if as := c.assigns[obj]; len(as) == 1 && !c.unresolved[obj] {
			c.checkCompute(call, as[0], depth+1)
		}
	}
}

// reportEffects reports at pos what a compute reads, as effects says.
func (c *checker) reportEffects(call *ast.CallExpr, pos token.Pos, effects []effect) {
	for _, e := range effects {
		if msg := c.describe(e); msg != "" {
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
func (c *checker) checkLit(call *ast.CallExpr, lit *ast.FuncLit) {
	captured := map[*types.Var]bool{}
	c.uses(lit.Body, func(id *ast.Ident, obj types.Object) {
		if v, ok := obj.(*types.Var); ok && !v.IsField() && !isPkgLevel(v) {
			if (v.Pos() < lit.Pos() || v.Pos() >= lit.End()) && !captured[v] {
				captured[v] = true
				c.report(id.Pos(), "compute captures %s: put it in the key", v.Name())
			}
			return
		}
		effects, local := c.effectsOf(obj)
		if local != nil {
			effects = prefix(funcName(local), c.summaries[local])
		}
		c.reportEffects(call, id.Pos(), effects)
	})
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
// imported package reads: the package that declares the compute cannot see them.
func (c *checker) checkImporterWrites() {
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
		return
	}
	for _, w := range c.writes {
		if r, ok := reads[w.v.Pkg().Path()+"."+w.v.Name()]; ok {
			c.report(w.pos, "%s is assigned here, and a compute passed to cache.Load reads it (%s): put it in the key",
				c.varName(r.Pkg, r.Name), r.Pos)
		}
	}
}
