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
//
// A write to standard output or standard error (os.Stderr.WriteString) is not a read: the
// method is left out.
func (c *checker) uses(n ast.Node, f func(id *ast.Ident, obj types.Object)) {
	var skip *ast.Ident
	ast.Inspect(n, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok && c.writesOutput(sel) {
			skip = sel.Sel
		}
		if id, ok := n.(*ast.Ident); ok && !c.assigned[id] && id != skip {
			if obj := c.pass.TypesInfo.Uses[id]; obj != nil {
				f(id, obj)
			}
		}
		return true
	})
}

// objName names a function or package-level variable in messages: pkg.Func,
// pkg.Type.Method, pkg.Var.
func objName(obj types.Object) string {
	if fn, ok := obj.(*types.Func); ok {
		return funcName(fn)
	}
	return obj.Pkg().Name() + "." + obj.Name()
}

// writesOutput reports whether sel is a method of os.Stdout or os.Stderr that writes.
func (c *checker) writesOutput(sel *ast.SelectorExpr) bool {
	s := c.pass.TypesInfo.Selections[sel]
	if s == nil || s.Kind() != types.MethodVal {
		return false
	}
	switch sel.Sel.Name {
	case "Write", "WriteString", "Sync", "Fd", "Name":
	default:
		return false
	}
	x, ok := ast.Unparen(sel.X).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	v, ok := c.pass.TypesInfo.Uses[x.Sel].(*types.Var)
	return ok && v.Pkg() != nil && v.Pkg().Path() == "os" && (v.Name() == "Stdout" || v.Name() == "Stderr")
}

// effectsOf returns what a reference to obj makes the referring function read. For a
// function or package-level variable of this package (local), what its summary holds must be
// added by the caller.
func (c *checker) effectsOf(obj types.Object) (effects []effect, local types.Object) {
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
		effects = []effect{{Kind: kindVar, Pkg: obj.Pkg().Path(), Name: obj.Name()}}
		for _, a := range c.pkgAliases[obj] {
			effects = append(effects, effect{Kind: kindVar, Pkg: a.Pkg().Path(), Name: a.Name()})
		}
		if obj.Pkg() == c.pass.Pkg {
			effects = append(effects, prefix(objName(obj), c.inits[obj.Pkg().Path()+"."+obj.Name()])...)
			return effects, obj
		}
		var ff funcFact
		if c.pass.ImportObjectFact(obj, &ff) {
			effects = append(effects, prefix(objName(obj), ff.Effects)...)
		}
		// What another package's init stored in it.
		effects = append(effects, prefix(objName(obj), c.inits[obj.Pkg().Path()+"."+obj.Name()])...)
		return effects, nil
	case *types.Func:
		fn := obj.Origin()
		if fn.Pkg() == nil {
			return nil, nil
		}
		if isInterfaceMethod(fn) {
			if fn.Pkg().Path() == "context" && fn.Name() == "Value" || isValueMethod(fn) {
				return []effect{{Kind: kindCtx, Name: "ctx.Value"}}, nil
			}
			// The implementations the check can see, of an interface of the module:
			// those of other packages here, those of this one through localImpls.
			for _, m := range c.impls(fn) {
				if m.Pkg() != c.pass.Pkg {
					var ff funcFact
					if c.pass.ImportObjectFact(m, &ff) {
						effects = append(effects, prefix(funcName(m), ff.Effects)...)
					}
				}
			}
			return effects, nil
		}
		if fn.Pkg().Path() == "runtime/pprof" && (fn.Name() == "Label" || fn.Name() == "ForLabels") {
			return []effect{{Kind: kindCtx, Name: "ctx.Value"}}, nil
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
		} else if cat := moduleAmbientFunc(fn); cat != nil {
			return []effect{{Kind: kindAmbient, Pkg: cat.what, Name: stdName(fn)}}, nil
		}
	}
	return nil, nil
}

// idEffects returns what a reference to obj at id reads: effectsOf, and what a call there
// reads by its arguments (go/parser.ParseFile with a nil source reads the file).
func (c *checker) idEffects(id *ast.Ident, obj types.Object) ([]effect, types.Object) {
	effects, local := c.effectsOf(obj)
	if e, ok := c.callEffects[id]; ok {
		effects = append(effects, e)
	}
	return effects, local
}

// staticFunc reports whether v, a package-level variable of this package, is a function
// value known statically: it is of function type, and its one assignment, never changed
// after initialisation, is a function or a function literal. Calling it calls that function.
func (c *checker) staticFunc(v *types.Var) bool {
	if _, ok := v.Type().Underlying().(*types.Signature); !ok {
		return false
	}
	if _, ok := c.mutable[v.Pkg().Path()+"."+v.Name()]; ok || c.unresolved[v] || len(c.assigns[v]) != 1 {
		return false
	}
	switch e := ast.Unparen(c.assigns[v][0]).(type) {
	case *ast.FuncLit:
		return true
	case *ast.Ident:
		_, ok := c.pass.TypesInfo.Uses[e].(*types.Func)
		return ok
	case *ast.SelectorExpr:
		_, ok := c.pass.TypesInfo.Uses[e.Sel].(*types.Func)
		return ok && c.pass.TypesInfo.Selections[e] == nil
	}
	return false
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
	edges  []types.Object
	index  int
	low    int
	on     bool
}

// summarise computes, for every function declared in the package, what it reads besides its
// arguments, itself or through what it calls, and exports the summaries of exported
// functions as facts. Recursive functions share the effects of their cycle.
//
// A package-level variable is summarised too: what reading it reads besides the variable
// itself. That is what its initializer and the functions of initialisation that assign it
// read of the environment, the clock, ... (var home = os.Getenv("HOME") holds the
// environment); and, for a function value known statically (var now = time.Now), all that
// calling it reads.
func (c *checker) summarise() {
	nodes := map[types.Object]*node{}
	order := make([]types.Object, 0, len(c.decls)+len(c.varInits))
	for fn := range c.decls {
		order = append(order, fn)
	}
	for v := range c.varInits {
		order = append(order, v)
	}
	slices.SortFunc(order, func(a, b types.Object) int { return int(a.Pos() - b.Pos()) })
	for _, obj := range order {
		nodes[obj] = &node{index: -1}
	}
	for _, obj := range order {
		n := nodes[obj]
		seen := map[string]bool{}
		edgeSeen := map[types.Object]bool{}
		edge := func(g types.Object) {
			if g != obj && nodes[g] != nil && !edgeSeen[g] {
				edgeSeen[g] = true
				n.edges = append(n.edges, g)
			}
		}
		visit := func(id *ast.Ident, o types.Object) {
			effects, local := c.idEffects(id, o)
			if local != nil {
				edge(local)
			}
			for _, m := range c.localImpls(o) {
				edge(m)
			}
			if len(effects) > 0 && !c.allowed(id.Pos()) {
				at := c.whereCol(id.Pos())
				for i := range effects {
					if effects[i].Pos == "" {
						effects[i].Pos = at
					}
				}
				n.direct = merge(n.direct, seen, effects)
			}
		}
		switch obj := obj.(type) {
		case *types.Func:
			c.uses(c.decls[obj].Body, visit)
		case *types.Var:
			// What initialisation stores, followed through the local variables it
			// is made from.
			followed := map[*types.Var]bool{}
			var from func(e ast.Expr)
			from = func(e ast.Expr) {
				c.uses(e, func(id *ast.Ident, o types.Object) {
					if lv, ok := o.(*types.Var); ok && !lv.IsField() && !isPkgLevel(lv) {
						if !followed[lv] && len(followed) < 64 {
							followed[lv] = true
							for _, src := range c.origins[lv] {
								from(src)
							}
						}
						return
					}
					visit(id, o)
				})
			}
			for _, e := range c.varInits[obj] {
				from(e)
			}
		}
	}

	// Tarjan's algorithm: components come out callees first.
	index := 0
	var stack []types.Object
	var visit func(obj types.Object)
	visit = func(obj types.Object) {
		n := nodes[obj]
		n.index, n.low = index, index
		index++
		stack = append(stack, obj)
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
		var comp []types.Object
		for {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			nodes[top].on = false
			comp = append(comp, top)
			if top == obj {
				break
			}
		}
		in := map[types.Object]bool{}
		for _, m := range comp {
			in[m] = true
		}
		for _, f := range comp {
			seen := map[string]bool{}
			s := merge(nil, seen, nodes[f].direct)
			for _, m := range comp {
				if m != f {
					s = merge(s, seen, prefix(objName(m), nodes[m].direct))
				}
			}
			for _, m := range comp {
				for _, g := range nodes[m].edges {
					if !in[g] {
						s = merge(s, seen, prefix(objName(g), c.summaries[g]))
					}
				}
			}
			if v, ok := f.(*types.Var); ok && !c.staticFunc(v) && !holdsFunc(v.Type()) {
				// What the variable's initialisation read of the program's state is
				// fixed by then; what it read of the world is not.
				s = slices.DeleteFunc(s, func(e effect) bool { return e.Kind != kindAmbient })
			}
			c.summaries[f] = s
		}
	}
	for _, obj := range order {
		if nodes[obj].index < 0 {
			visit(obj)
		}
	}
	for _, obj := range order {
		if s := c.summaries[obj]; len(s) > 0 && obj.Exported() && obj.Pkg() == c.pass.Pkg {
			c.pass.ExportObjectFact(obj, &funcFact{Effects: s})
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

// computeIndex returns where the compute is among the arguments of call: that of
// cache.Load, or of a helper that passes its parameter (or a field of it) to cache.Load;
// Param is -1 for other calls. A method expression's receiver is the call's first argument.
func (c *checker) computeIndex(call *ast.CallExpr) helperFact {
	fn := staticCallee(c.pass.TypesInfo, call)
	if fn == nil {
		// A local variable holding a function: load := cache.Load[K, V, PV].
		if v := c.identVar(call.Fun); v != nil && !isPkgLevel(v) && len(c.assigns[v]) == 1 && !c.unresolved[v] {
			fn = staticCallee(c.pass.TypesInfo, &ast.CallExpr{Fun: c.assigns[v][0]})
		}
		if fn == nil {
			return helperFact{Param: -1}
		}
	}
	shift := 0
	if sel, ok := ast.Unparen(stripIndex(call.Fun)).(*ast.SelectorExpr); ok {
		if s := c.pass.TypesInfo.Selections[sel]; s != nil && s.Kind() == types.MethodExpr {
			shift = 1
		}
	}
	if fn.Pkg() != nil && fn.Pkg().Path() == cachePath && fn.Name() == "Load" && recvName(fn) == "" {
		return helperFact{Param: 3}
	}
	if h, ok := c.helpers[fn]; ok {
		return h.shifted(shift)
	}
	var hf helperFact
	if fn.Pkg() != c.pass.Pkg && c.pass.ImportObjectFact(fn, &hf) {
		return hf.shifted(shift)
	}
	return helperFact{Param: -1}
}

func stripIndex(e ast.Expr) ast.Expr {
	switch x := ast.Unparen(e).(type) {
	case *ast.IndexExpr:
		return x.X
	case *ast.IndexListExpr:
		return x.X
	}
	return e
}

// findHelpers finds the functions that pass a parameter as compute to cache.Load or to
// another such function, and exports facts for the exported ones. The parameter may be
// passed itself, through a local variable, as a field of a parameter of struct type
// (o.Compute), or wrapped in a literal that calls it (func(ctx, k) { return compute(ctx, k) }).
func (c *checker) findHelpers() {
	for changed := true; changed; {
		changed = false
		for fn, decl := range c.decls {
			if _, ok := c.helpers[fn]; ok {
				continue
			}
			ast.Inspect(decl.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				h := c.computeIndex(call)
				if h.Param < 0 || h.Param >= len(call.Args) {
					return true
				}
				arg := call.Args[h.Param]
				if h.Field != "" {
					// Passed on in an options struct: Inner(ctx, c, k, Opts{Compute: f}).
					if arg = c.fieldOf(arg, h.Field, 0); arg == nil {
						return true
					}
				}
				if p, ok := c.paramOf(fn, arg, 0); ok {
					c.helpers[fn] = p
					changed = true
					return false
				}
				return true
			})
		}
	}
	for fn, p := range c.helpers {
		if fn.Exported() {
			c.pass.ExportObjectFact(fn, &p)
		}
	}
}

// paramOf returns the parameter of fn (and its field) that e, a compute, passes on.
func (c *checker) paramOf(fn *types.Func, e ast.Expr, depth int) (helperFact, bool) {
	if fn == nil {
		return helperFact{}, false
	}
	params := fn.Type().(*types.Signature).Params()
	index := func(v *types.Var) int {
		for p := range params.Len() {
			if params.At(p) == v {
				return p
			}
		}
		return -1
	}
	if depth > 4 {
		return helperFact{}, false
	}
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		v := c.identVar(x)
		if v == nil {
			return helperFact{}, false
		}
		if p := index(v); p >= 0 {
			return helperFact{Param: p}, true
		}
		if as := c.assigns[v]; len(as) == 1 && !c.unresolved[v] && !isPkgLevel(v) {
			return c.paramOf(fn, as[0], depth+1)
		}
	case *ast.SelectorExpr:
		if s := c.pass.TypesInfo.Selections[x]; s != nil && s.Kind() == types.FieldVal && len(s.Index()) == 1 {
			if p := index(c.identVar(x.X)); p >= 0 {
				return helperFact{Param: p, Field: x.Sel.Name}, true
			}
		}
	case *ast.FuncLit:
		// A literal that calls the parameter, for instrumentation: what it computes is
		// what the parameter computes, checked at the helper's callers. The compute is the
		// parameter of the literal's own type; the other function parameters it calls
		// (a hook, a suffix) are checked at the callers too.
		litType := c.pass.TypesInfo.TypeOf(x)
		var called []int
		ast.Inspect(x.Body, func(n ast.Node) bool {
			if call, isCall := n.(*ast.CallExpr); isCall {
				if h, isParam := c.paramOf(fn, call.Fun, depth+1); isParam && h.Field == "" && !slices.Contains(called, h.Param) {
					called = append(called, h.Param)
				}
			}
			return true
		})
		if len(called) == 0 {
			return helperFact{}, false
		}
		found := helperFact{Param: called[0]}
		for _, p := range called {
			if types.Identical(params.At(p).Type(), litType) {
				found.Param = p
				break
			}
		}
		for _, p := range called {
			c.passedOn[params.At(p)] = true
			if p != found.Param {
				found.Also = append(found.Also, p)
			}
		}
		return found, true
	}
	return helperFact{}, false
}

// staticCallee returns the declared (generic, if it is) function or concrete method that
// call calls, or nil.
func staticCallee(info *types.Info, call *ast.CallExpr) *types.Func {
	fun := stripIndex(call.Fun)
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
		name := c.varName(e.Pkg, e.Name)
		switch {
		case w.How == lazyHow:
			return "compute reads " + name + via + ", a package variable " + lazyHow + " (" + w.Pos +
				"): fill it in its declaration or in init, or justify the lazy table with //cachegen:allow <reason>"
		case strings.Contains(w.How, "math/rand"):
			return "compute reads " + name + via + ", a package variable " + w.How + " (" + w.Pos +
				"), outside its declaration and init: " + catRand.fix
		case w.How != "":
			return "compute reads " + name + via + ", a package variable " + w.How + " (" + w.Pos +
				"), outside its declaration and init: put it in the key"
		}
		return "compute reads " + name + via +
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

// holdsFunc reports whether a value of type t holds function values: calling them reads
// what they read, whenever it is called, not only at initialisation.
func holdsFunc(t types.Type) bool {
	return holdsFuncSeen(t, map[types.Type]bool{})
}

func holdsFuncSeen(t types.Type, seen map[types.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch u := t.Underlying().(type) {
	case *types.Signature:
		return true
	case *types.Pointer:
		return holdsFuncSeen(u.Elem(), seen)
	case *types.Map:
		return holdsFuncSeen(u.Elem(), seen)
	case *types.Slice:
		return holdsFuncSeen(u.Elem(), seen)
	case *types.Array:
		return holdsFuncSeen(u.Elem(), seen)
	case *types.Struct:
		for i := range u.NumFields() {
			if holdsFuncSeen(u.Field(i).Type(), seen) {
				return true
			}
		}
	}
	return false
}

// shifted returns h with its parameters counted from shift: a method expression's receiver
// is its call's first argument.
func (h helperFact) shifted(shift int) helperFact {
	h.Param += shift
	if len(h.Also) > 0 {
		also := make([]int, len(h.Also))
		for i, p := range h.Also {
			also[i] = p + shift
		}
		h.Also = also
	}
	return h
}

// isValueMethod reports whether fn is a method Value(any) any of an interface: a context
// seen through another interface (var v valuer = ctx).
func isValueMethod(fn *types.Func) bool {
	sig := fn.Type().(*types.Signature)
	if fn.Name() != "Value" || sig.Params().Len() != 1 || sig.Results().Len() != 1 {
		return false
	}
	isAny := func(t types.Type) bool {
		i, ok := t.Underlying().(*types.Interface)
		return ok && i.Empty()
	}
	return isAny(sig.Params().At(0).Type()) && isAny(sig.Results().At(0).Type())
}

// impls returns the methods that a call of fn, a method of an interface declared in the
// module, can run: those of the types declared in this package and in the packages of the
// module it imports that implement the interface. Interfaces of the standard library
// (io.Writer, error, fmt.Stringer) are not followed: nearly every type implements one.
func (c *checker) impls(fn *types.Func) []*types.Func {
	if ms, ok := c.implCache[fn]; ok {
		return ms
	}
	var out []*types.Func
	recv := fn.Type().(*types.Signature).Recv().Type()
	iface, _ := recv.Underlying().(*types.Interface)
	named, _ := types.Unalias(recv).(*types.Named)
	if iface != nil && named != nil && named.Obj().Pkg() != nil && !c.isStd(named.Obj().Pkg()) {
		pkgs := []*types.Package{c.pass.Pkg}
		for _, p := range c.pass.Pkg.Imports() {
			if !c.isStd(p) {
				pkgs = append(pkgs, p)
			}
		}
		for _, p := range pkgs {
			scope := p.Scope()
			for _, name := range scope.Names() {
				tn, ok := scope.Lookup(name).(*types.TypeName)
				if !ok || tn.IsAlias() {
					continue
				}
				t, ok := tn.Type().(*types.Named)
				if !ok || t.TypeParams().Len() > 0 || types.IsInterface(t) {
					continue
				}
				var impl types.Type
				switch {
				case types.Implements(t, iface):
					impl = t
				case types.Implements(types.NewPointer(t), iface):
					impl = types.NewPointer(t)
				default:
					continue
				}
				obj, _, _ := types.LookupFieldOrMethod(impl, false, fn.Pkg(), fn.Name())
				if m, ok := obj.(*types.Func); ok {
					out = append(out, m)
				}
			}
		}
	}
	c.implCache[fn] = out
	return out
}

// localImpls returns the methods of this package that a reference to obj, an interface
// method, can run.
func (c *checker) localImpls(obj types.Object) []types.Object {
	fn, ok := obj.(*types.Func)
	if !ok || !isInterfaceMethod(fn) {
		return nil
	}
	var out []types.Object
	for _, m := range c.impls(fn) {
		if _, ok := c.decls[m]; ok {
			out = append(out, m)
		}
	}
	return out
}
