package computecheck

import (
	"go/ast"
	"go/types"
	"slices"
	"strings"
)

// funcName names a function in messages: pkg.Func or pkg.Type.Method.
func funcName(fn *types.Func) string {
	if r := recvName(fn); r != "" {
		return fn.Pkg().Name() + "." + r + "." + fn.Name()
	}
	return fn.Pkg().Name() + "." + fn.Name()
}

// stdName names a standard library function or variable by its import path: os.ReadFile,
// math/rand.Intn, os.File.Read.
func stdName(obj types.Object) string {
	if fn, ok := obj.(*types.Func); ok {
		if r := recvName(fn); r != "" {
			return fn.Pkg().Path() + "." + r + "." + fn.Name()
		}
	}
	return obj.Pkg().Path() + "." + obj.Name()
}

// isInterfaceMethod reports whether fn is an abstract method, which a call cannot resolve.
func isInterfaceMethod(fn *types.Func) bool {
	sig, ok := fn.Type().(*types.Signature)
	return ok && sig.Recv() != nil && types.IsInterface(sig.Recv().Type())
}

// uses calls f for each identifier under n that refers to an object, other than a variable
// assigned to (in x = ..., x is not read).
func (c *checker) uses(n ast.Node, f func(id *ast.Ident, obj types.Object)) {
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && !c.assigned[id] {
			if obj := c.pass.TypesInfo.Uses[id]; obj != nil {
				f(id, obj)
			}
		}
		return true
	})
}

// effectsOf returns what a reference to obj makes the referring function read: for a
// function of this package (local is true), its summary must be added by the caller.
func (c *checker) effectsOf(obj types.Object) (effects []effect, local *types.Func) {
	switch obj := obj.(type) {
	case *types.Var:
		if !isPkgLevel(obj) {
			return nil, nil
		}
		if c.isStd(obj.Pkg()) {
			if cat := ambientVar(obj); cat != nil {
				return []effect{{Kind: kindAmbient, Pkg: cat.what, Name: stdName(obj)}}, nil
			}
			return nil, nil
		}
		return []effect{{Kind: kindVar, Pkg: obj.Pkg().Path(), Name: obj.Name()}}, nil
	case *types.Func:
		fn := obj.Origin()
		if fn.Pkg() == nil {
			return nil, nil
		}
		if isInterfaceMethod(fn) {
			if fn.Pkg().Path() == "context" && fn.Name() == "Value" {
				return []effect{{Kind: kindCtx, Name: "ctx.Value"}}, nil
			}
			return nil, nil
		}
		if fn.Pkg() == c.pass.Pkg {
			if _, ok := c.decls[fn]; ok {
				return nil, fn
			}
			return nil, nil
		}
		var ff funcFact
		if c.pass.ImportObjectFact(fn, &ff) {
			return prefix(funcName(fn), ff.Effects), nil
		}
		if c.isStd(fn.Pkg()) {
			if cat := ambientFunc(fn); cat != nil {
				return []effect{{Kind: kindAmbient, Pkg: cat.what, Name: stdName(fn)}}, nil
			}
		}
	}
	return nil, nil
}

// prefix returns effects as seen from a caller of via.
func prefix(via string, effects []effect) []effect {
	out := make([]effect, len(effects))
	for i, e := range effects {
		e.Via = append([]string{via}, e.Via...)
		if len(e.Via) > maxVia {
			e.Via = append(e.Via[:maxVia-1:maxVia-1], "...")
		}
		out[i] = e
	}
	return out
}

// merge adds to dst the effects of src it does not have yet.
func merge(dst []effect, seen map[string]bool, src []effect) []effect {
	for _, e := range src {
		if k := e.key(); !seen[k] {
			seen[k] = true
			dst = append(dst, e)
		}
	}
	return dst
}

type node struct {
	direct []effect
	edges  []*types.Func
	index  int
	low    int
	on     bool
}

// summarise computes, for every function declared in the package, what it reads besides its
// arguments, itself or through what it calls, and exports the summaries of exported
// functions as facts. Recursive functions share the effects of their cycle.
func (c *checker) summarise() {
	nodes := map[*types.Func]*node{}
	order := make([]*types.Func, 0, len(c.decls))
	for fn := range c.decls {
		order = append(order, fn)
	}
	slices.SortFunc(order, func(a, b *types.Func) int { return int(a.Pos() - b.Pos()) })
	for _, fn := range order {
		n := &node{index: -1}
		seen := map[string]bool{}
		edgeSeen := map[*types.Func]bool{}
		c.uses(c.decls[fn].Body, func(id *ast.Ident, obj types.Object) {
			effects, local := c.effectsOf(obj)
			if local != nil {
				if local != fn && !edgeSeen[local] {
					edgeSeen[local] = true
					n.edges = append(n.edges, local)
				}
				return
			}
			if len(effects) > 0 && !c.allowed(id.Pos()) {
				n.direct = merge(n.direct, seen, effects)
			}
		})
		nodes[fn] = n
	}

	// Tarjan's algorithm: components come out callees first.
	index := 0
	var stack []*types.Func
	var visit func(fn *types.Func)
	visit = func(fn *types.Func) {
		n := nodes[fn]
		n.index, n.low = index, index
		index++
		stack = append(stack, fn)
		n.on = true
		for _, g := range n.edges {
			m := nodes[g]
			if m.index < 0 {
				visit(g)
				n.low = min(n.low, m.low)
			} else if m.on {
				n.low = min(n.low, m.index)
			}
		}
		if n.low != n.index {
			return
		}
		var comp []*types.Func
		for {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			nodes[top].on = false
			comp = append(comp, top)
			if top == fn {
				break
			}
		}
		in := map[*types.Func]bool{}
		for _, m := range comp {
			in[m] = true
		}
		for _, f := range comp {
			seen := map[string]bool{}
			s := merge(nil, seen, nodes[f].direct)
			for _, m := range comp {
				if m != f {
					s = merge(s, seen, prefix(funcName(m), nodes[m].direct))
				}
			}
			for _, m := range comp {
				for _, g := range nodes[m].edges {
					if !in[g] {
						s = merge(s, seen, prefix(funcName(g), c.summaries[g]))
					}
				}
			}
			c.summaries[f] = s
		}
	}
	for _, fn := range order {
		if nodes[fn].index < 0 {
			visit(fn)
		}
	}
	for _, fn := range order {
		if s := c.summaries[fn]; len(s) > 0 && fn.Exported() {
			c.pass.ExportObjectFact(fn, &funcFact{Effects: s})
		}
	}
}

// summaryOf returns what calling fn reads besides its arguments.
func (c *checker) summaryOf(fn *types.Func) []effect {
	effects, local := c.effectsOf(fn)
	if local != nil {
		return c.summaries[local]
	}
	// effectsOf names fn itself as the first function of the way; the compute is fn.
	out := make([]effect, len(effects))
	for i, e := range effects {
		if len(e.Via) > 0 {
			e.Via = e.Via[1:]
		}
		out[i] = e
	}
	return out
}

// computeIndex returns the index of the argument of call that is a compute: that of
// cache.Load, or of a helper that passes its parameter to cache.Load; -1 for other calls.
func (c *checker) computeIndex(call *ast.CallExpr) int {
	fn := staticCallee(c.pass.TypesInfo, call)
	if fn == nil {
		return -1
	}
	if fn.Pkg() != nil && fn.Pkg().Path() == cachePath && fn.Name() == "Load" && recvName(fn) == "" {
		return 3
	}
	if i, ok := c.helpers[fn]; ok {
		return i
	}
	var hf helperFact
	if fn.Pkg() != c.pass.Pkg && c.pass.ImportObjectFact(fn, &hf) {
		return hf.Param
	}
	return -1
}

// findHelpers finds the functions that pass a parameter as compute to cache.Load or to
// another such function, and exports facts for the exported ones.
func (c *checker) findHelpers() {
	for changed := true; changed; {
		changed = false
		for fn, decl := range c.decls {
			if _, ok := c.helpers[fn]; ok {
				continue
			}
			params := fn.Type().(*types.Signature).Params()
			ast.Inspect(decl.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				i := c.computeIndex(call)
				if i < 0 || i >= len(call.Args) {
					return true
				}
				v := c.identVar(call.Args[i])
				for p := range params.Len() {
					if v != nil && params.At(p) == v {
						c.helpers[fn] = p
						changed = true
						return false
					}
				}
				return true
			})
		}
	}
	for fn, p := range c.helpers {
		if fn.Exported() {
			c.pass.ExportObjectFact(fn, &helperFact{Param: p})
		}
	}
}

// staticCallee returns the declared (generic, if it is) function or concrete method that
// call calls, or nil.
func staticCallee(info *types.Info, call *ast.CallExpr) *types.Func {
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	}
	var obj types.Object
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		obj = info.Uses[f]
	case *ast.SelectorExpr:
		if s := info.Selections[f]; s != nil && s.Kind() != types.MethodVal && s.Kind() != types.MethodExpr {
			return nil
		}
		obj = info.Uses[f.Sel]
	}
	fn, ok := obj.(*types.Func)
	if !ok || isInterfaceMethod(fn) {
		return nil
	}
	return fn.Origin()
}

// describe returns the words of a reported effect: what compute reads, and the fix. It
// returns "" for a variable that is not known to be assigned.
func (c *checker) describe(e effect) string {
	via := ""
	if len(e.Via) > 0 {
		via = "via " + strings.Join(e.Via, " → ")
	}
	switch e.Kind {
	case kindAmbient:
		cat := categories[e.Pkg]
		if cat == nil {
			return ""
		}
		if via != "" {
			via = ", " + via
		}
		return "compute " + cat.what + " (" + e.Name + via + "): " + cat.fix
	case kindCtx:
		if via != "" {
			via = " (" + via + ")"
		}
		return "compute reads ctx.Value" + via + ": values the context carries are not in the key; put the value in the key"
	case kindVar:
		w, ok := c.mutable[e.Pkg+"."+e.Name]
		if !ok {
			return ""
		}
		if via != "" {
			via = " (" + via + ")"
		}
		return "compute reads " + c.varName(e.Pkg, e.Name) + via +
			", a package variable assigned outside its declaration and init (" + w.Pos + "): put it in the key"
	}
	return ""
}

// varName names a package-level variable as code of the package being analyzed would.
func (c *checker) varName(pkg, name string) string {
	if pkg == c.pass.Pkg.Path() {
		return name
	}
	return pkg[strings.LastIndex(pkg, "/")+1:] + "." + name
}

func sortRefs(refs []varRef) {
	slices.SortFunc(refs, func(a, b varRef) int {
		return strings.Compare(a.Pkg+"."+a.Name, b.Pkg+"."+b.Name)
	})
}
