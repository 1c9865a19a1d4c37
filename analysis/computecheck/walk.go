package computecheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"
)

// A useSite is where a function of the package is referred to.
type useSite struct {
	fn     *types.Func // the declared function the reference is in; nil at package level
	inLit  bool        // in a function literal that is not called where it is written
	called bool        // the reference is called right there: f(...)
}

// A pendingWrite is a write found by collect, classified once the whole package is seen.
type pendingWrite struct {
	write
	fn    *types.Func // the declared function the write is in; nil at package level
	inLit bool        // in a function literal that is not called where it is written
	lazy  bool        // in a function literal run by sync.Once
	test  bool        // in a _test.go file
	whole bool        // the write assigns the variable itself, not a part or a pointee
	cond  func() bool // the write counts only if cond() is true; nil: always
	src   []ast.Expr  // what the write stores
}

// collect records the package's function declarations, its allow comments, what is assigned
// to each variable, the initializers of package-level variables, and the writes to
// package-level variables: those of initialisation (declarations, init, and the functions
// only initialisation calls) make the variable's value, the others make it mutable.
func (c *checker) collect() {
	info := c.pass.TypesInfo
	for _, file := range c.pass.Files {
		c.collectAllows(file)
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				if fn, ok := info.Defs[fd.Name].(*types.Func); ok && fd.Body != nil {
					c.decls[fn] = fd
				}
			}
		}
	}
	uses := map[*types.Func][]useSite{}
	var pending []pendingWrite
	for _, file := range c.pass.Files {
		test := strings.HasSuffix(c.pass.Fset.Position(file.Pos()).Filename, "_test.go")
		var stack []ast.Node
		var fn *types.Func
		immediate := c.immediate
		onceLits := c.onceLits
		aliased := map[*ast.UnaryExpr]bool{}
		litDepth, onceDepth := 0, 0
		add := func(e ast.Expr, how string, cond func() bool, src ...ast.Expr) {
			v := c.rootVar(e)
			if v == nil {
				l := c.rootLocal(e)
				if l == nil {
					return
				}
				if v = c.aliases[l]; v == nil {
					c.localWritten[l] = true
					return
				}
			}
			_, whole := ast.Unparen(e).(*ast.Ident)
			if sel, ok := ast.Unparen(e).(*ast.SelectorExpr); ok && info.Selections[sel] == nil {
				whole = true // pkg.Var
			}
			pending = append(pending, pendingWrite{write{v, e.Pos(), how}, fn, litDepth > 0, onceDepth > 0, test, whole, cond, src})
		}
		alias := func(lhs, rhs ast.Expr) {
			u, ok := ast.Unparen(rhs).(*ast.UnaryExpr)
			if !ok || u.Op != token.AND {
				return
			}
			l := c.identVar(lhs)
			v := c.rootVar(u.X)
			if v == nil || l == nil {
				return
			}
			if !isPkgLevel(l) {
				c.aliases[l] = v
			}
			aliased[u] = true
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if n == nil {
				switch top := stack[len(stack)-1].(type) {
				case *ast.FuncDecl:
					fn = nil
				case *ast.FuncLit:
					if !immediate[top] {
						litDepth--
					}
					if onceLits[top] {
						onceDepth--
					}
				}
				stack = stack[:len(stack)-1]
				return true
			}
			var parent ast.Node
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			stack = append(stack, n)
			switch n := n.(type) {
			case *ast.FuncDecl:
				fn, _ = info.Defs[n.Name].(*types.Func)
				for _, fl := range []*ast.FieldList{n.Recv, n.Type.Params} {
					if fl == nil {
						continue
					}
					for _, f := range fl.List {
						for _, name := range f.Names {
							if v, ok := info.Defs[name].(*types.Var); ok {
								c.declParams[v] = true
							}
						}
					}
				}
			case *ast.CompositeLit:
				if st, ok := typeUnder(info.TypeOf(n)).(*types.Struct); ok {
					for i, elt := range n.Elts {
						if kv, ok := elt.(*ast.KeyValueExpr); ok {
							if id, ok := kv.Key.(*ast.Ident); ok {
								if f, ok := info.Uses[id].(*types.Var); ok {
									c.fieldStores[f] = append(c.fieldStores[f], kv.Value)
								}
							}
						} else if i < st.NumFields() {
							c.fieldStores[st.Field(i)] = append(c.fieldStores[st.Field(i)], elt)
						}
					}
				}
			case *ast.FuncLit:
				if !immediate[n] {
					litDepth++
				}
				if onceLits[n] {
					onceDepth++
				}
			case *ast.Ident:
				switch obj := info.Uses[n].(type) {
				case *types.Func:
					if obj.Pkg() == c.pass.Pkg {
						call, ok := parent.(*ast.CallExpr)
						called := ok && ast.Unparen(call.Fun) == n
						if len(stack) >= 3 {
							// go f(): f runs concurrently, not as part of its caller.
							if _, spawned := stack[len(stack)-3].(*ast.GoStmt); spawned && called {
								called = false
							}
						}
						uses[obj.Origin()] = append(uses[obj.Origin()], useSite{fn, litDepth > 0, called})
					}
				case *types.Var:
					if !obj.IsField() && !isPkgLevel(obj) && !c.readsThrough(n, parent) {
						c.escaped[obj] = true
					}
				}
			case *ast.AssignStmt:
				if n.Tok != token.DEFINE {
					// x = v, x.f = v, m[k] = v, x += n: the variable is written, not
					// read (what an operator assignment reads of it goes back into it).
					for _, lhs := range n.Lhs {
						c.writeOnly(lhs)
					}
					// x = x op e, like x op= e: what it reads of x goes back into x.
					if n.Tok == token.ASSIGN && len(n.Lhs) == 1 && len(n.Rhs) == 1 {
						if x, ok := ast.Unparen(n.Lhs[0]).(*ast.Ident); ok && info.Uses[x] != nil {
							if bin, ok := ast.Unparen(n.Rhs[0]).(*ast.BinaryExpr); ok && isArith(bin.Op) {
								for _, o := range []ast.Expr{bin.X, bin.Y} {
									if y, ok := ast.Unparen(o).(*ast.Ident); ok && info.Uses[y] == info.Uses[x] {
										c.assigned[y] = true
										break
									}
								}
							}
						}
					}
				}
				for i, lhs := range n.Lhs {
					v := c.identVar(lhs)
					if v == nil {
						continue
					}
					if (n.Tok == token.ASSIGN || n.Tok == token.DEFINE) && len(n.Lhs) == len(n.Rhs) {
						c.assigns[v] = append(c.assigns[v], n.Rhs[i])
					} else {
						c.unresolved[v] = true
					}
				}
				if len(n.Lhs) == len(n.Rhs) {
					for i := range n.Lhs {
						alias(n.Lhs[i], n.Rhs[i])
						if sel, ok := ast.Unparen(n.Lhs[i]).(*ast.SelectorExpr); ok {
							if s := info.Selections[sel]; s != nil && s.Kind() == types.FieldVal {
								if f, ok := s.Obj().(*types.Var); ok {
									c.fieldStores[f] = append(c.fieldStores[f], n.Rhs[i])
								}
							}
						}
					}
				}
				for i, lhs := range n.Lhs {
					src := n.Rhs
					if len(n.Lhs) == len(n.Rhs) {
						src = n.Rhs[i : i+1]
					}
					if v := c.identVar(lhs); v != nil && !isPkgLevel(v) {
						c.origins[v] = append(c.origins[v], src...)
					}
					if n.Tok != token.DEFINE {
						add(lhs, "", nil, src...)
					}
				}
			case *ast.ValueSpec:
				for i, name := range n.Names {
					v, ok := info.Defs[name].(*types.Var)
					if !ok {
						continue
					}
					if len(n.Values) == len(n.Names) {
						c.assigns[v] = append(c.assigns[v], n.Values[i])
					} else if len(n.Values) > 0 {
						c.unresolved[v] = true
					}
					if isPkgLevel(v) {
						if len(n.Values) == len(n.Names) {
							c.varInits[v] = append(c.varInits[v], n.Values[i])
						} else {
							c.varInits[v] = append(c.varInits[v], n.Values...)
						}
					}
				}
				if len(n.Names) == len(n.Values) {
					for i := range n.Names {
						alias(n.Names[i], n.Values[i])
					}
				}
				for i, name := range n.Names {
					if v, ok := info.Defs[name].(*types.Var); ok && !isPkgLevel(v) {
						if len(n.Names) == len(n.Values) {
							c.origins[v] = append(c.origins[v], n.Values[i])
						} else {
							c.origins[v] = append(c.origins[v], n.Values...)
						}
					}
				}
			case *ast.RangeStmt:
				if v := c.identVar(n.Value); v != nil {
					c.rangeValue[v] = true
				}
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if v := c.identVar(e); v != nil {
						c.unresolved[v] = true
						if !isPkgLevel(v) {
							c.origins[v] = append(c.origins[v], n.X)
						}
					}
					if e != nil && n.Tok == token.ASSIGN {
						add(e, "", nil, n.X)
					}
				}
			case *ast.IncDecStmt:
				add(n.X, "", nil)
				c.writeOnly(n.X)
			case *ast.ExprStmt:
				// A call whose result is discarded that only changes a variable
				// (hits.Add(1), atomic.AddInt64(&misses, 1), buf.WriteString(s)) does
				// not read it.
				if call, ok := ast.Unparen(n.X).(*ast.CallExpr); ok {
					if fn := staticCallee(info, call); fn != nil && fn.Pkg() != nil && isStdPath(fn.Pkg().Path()) {
						writes := stdWrites(fn, len(call.Args)+1)
						if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && recvName(fn) != "" {
							if s := info.Selections[sel]; s != nil && s.Kind() == types.MethodVal && slices.Contains(writes, 0) && onlyReceiverWritten(fn) {
								c.writeOnly(sel.X)
							}
						} else if recvName(fn) == "" && fn.Pkg().Path() == "sync/atomic" && len(call.Args) > 0 {
							if u, ok := ast.Unparen(call.Args[0]).(*ast.UnaryExpr); ok && u.Op == token.AND {
								c.writeOnly(u.X)
							}
						}
					}
				}
			case *ast.UnaryExpr:
				if n.Op == token.AND {
					if v := c.identVar(n.X); v != nil {
						c.unresolved[v] = true
					}
					if !aliased[n] {
						var src []ast.Expr
						if call, ok := parent.(*ast.CallExpr); ok {
							src = []ast.Expr{call}
						}
						add(n.X, "", c.argWrites(parent, n), src...)
					}
				}
			case *ast.CallExpr:
				// A literal called where it is written runs there, unless a go
				// statement runs it: then it runs concurrently, at any time.
				if _, spawned := parent.(*ast.GoStmt); !spawned {
					if lit, ok := ast.Unparen(n.Fun).(*ast.FuncLit); ok {
						immediate[lit] = true
					}
				}
				if isOnce(staticCallee(info, n)) {
					for _, a := range n.Args {
						if lit, ok := ast.Unparen(a).(*ast.FuncLit); ok {
							onceLits[lit] = true
						}
					}
				}
				if fn := staticCallee(info, n); fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == "go/parser" && fn.Name() == "ParseFile" && len(n.Args) > 2 && info.Types[n.Args[2]].IsNil() {
					// With a nil source, ParseFile reads the file.
					if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
						c.callEffects[sel.Sel] = effect{Kind: kindAmbient, Pkg: catFS.what, Name: "go/parser.ParseFile"}
					}
				}
				if fn := staticCallee(info, n); fn != nil && fn.Pkg() != nil && isStdPath(fn.Pkg().Path()) && recvName(fn) == "" {
					for _, i := range stdWrites(fn, len(n.Args)) {
						if i < len(n.Args) {
							add(n.Args[i], "changed by "+stdName(fn), nil, n)
						}
					}
				}
				if id, ok := ast.Unparen(n.Fun).(*ast.Ident); ok && len(n.Args) > 0 {
					if b, ok := info.Uses[id].(*types.Builtin); ok {
						switch b.Name() {
						case "delete", "clear", "copy":
							add(n.Args[0], "", nil, n)
						}
					}
				}
				// A pointer method of the standard library's stateful types (an
				// atomic.Int64, a bytes.Buffer, a big.Int, a rand.Rand) that changes its
				// receiver, called on a variable or on a pointer a variable holds.
				if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
					if s := info.Selections[sel]; s != nil && s.Kind() == types.MethodVal {
						if m := s.Obj().(*types.Func); m.Pkg() != nil && isStdPath(m.Pkg().Path()) && slices.Contains(stdWrites(m, len(n.Args)+1), 0) {
							add(sel.X, "changed by "+stdName(m), nil, n)
						}
					}
				}
			}
			return true
		})
	}

	// The functions run only at initialisation: init, and the unexported functions that
	// are only called, not in a function literal, by such functions or by the
	// initializers of package-level variables.
	for fn := range c.decls {
		if fn.Name() == "init" && fn.Type().(*types.Signature).Recv() == nil {
			c.initOnly[fn] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for fn := range c.decls {
			if c.initOnly[fn] || fn.Exported() || fn.Name() == "main" || fn.Type().(*types.Signature).Recv() != nil || len(uses[fn]) == 0 {
				continue
			}
			only := true
			for _, u := range uses[fn] {
				if !u.called || u.inLit || u.fn != nil && u.fn != fn && !c.initOnly[u.fn] {
					only = false
					break
				}
			}
			if only {
				c.initOnly[fn] = true
				changed = true
			}
		}
	}

	// What initialisation stores makes the variable's value (and, for a variable of
	// another package, what that package's readers see); the writes elsewhere are found
	// over SSA (mutations) in the module, and from this syntax in other modules' packages.
	for _, w := range pending {
		if w.test || w.cond != nil && !w.cond() {
			continue
		}
		if w.inLit || w.fn != nil && !c.initOnly[w.fn] {
			if !inScope(c.pass) {
				how := w.how
				if w.lazy && how == "" {
					how = lazyHow
				}
				c.writes = append(c.writes, write{w.v, w.pos, how})
			}
			continue
		}
		if w.v.Pkg() != c.pass.Pkg && c.varInits[w.v] == nil {
			c.foreignInits = append(c.foreignInits, w.v)
		}
		c.varInits[w.v] = append(c.varInits[w.v], w.src...)
	}
}

// classify records the writes found over SSA that are not initialisation: those in
// functions other than the declarations, init and the functions only they call, or in a
// function literal not called where it is written (go func() {...}() included). Writes in
// _test.go files are not the program's: it never runs them.
func (c *checker) classify(writes []ssaWrite) {
	slices.SortStableFunc(writes, func(a, b ssaWrite) int {
		if a.pos != b.pos {
			return int(a.pos - b.pos)
		}
		return strings.Compare(a.v.Name(), b.v.Name())
	})
	for _, w := range writes {
		if strings.HasSuffix(c.pass.Fset.Position(w.pos).Filename, "_test.go") || strings.HasSuffix(c.pass.Fset.Position(w.fn.Pos()).Filename, "_test.go") {
			continue
		}
		decl, inLit, lazy := c.ssaContext(w.fn)
		if !inLit && (decl == nil || c.initOnly[decl]) {
			continue
		}
		how := w.how
		if lazy && how == "" {
			how = lazyHow
		}
		c.writes = append(c.writes, write{w.v, w.pos, how})
	}
}

// lazyHow describes a variable assigned in a function that sync.Once runs.
const lazyHow = "filled lazily under sync.Once"

// readsThrough reports whether id, a variable, is used (as parent's operand) only to read a
// field, an element or the pointee: a pointer parameter used so is not passed on.
func (c *checker) readsThrough(id *ast.Ident, parent ast.Node) bool {
	switch p := parent.(type) {
	case *ast.SelectorExpr:
		s := c.pass.TypesInfo.Selections[p]
		return p.X == id && s != nil && s.Kind() == types.FieldVal
	case *ast.StarExpr:
		return p.X == id
	case *ast.IndexExpr:
		return p.X == id
	}
	return false
}

// argWrites returns the condition under which &x, an argument of the call parent (if it
// is one), changes x: always for a function that is not known, never for the arguments of
// math/big's methods (which change their receiver only), and for a function of the package
// when it writes through the parameter or passes it on.
func (c *checker) argWrites(parent ast.Node, u *ast.UnaryExpr) func() bool {
	call, ok := parent.(*ast.CallExpr)
	if !ok {
		return nil
	}
	i := slices.Index(call.Args, ast.Expr(u))
	fn := staticCallee(c.pass.TypesInfo, call)
	if i < 0 || fn == nil || fn.Pkg() == nil {
		return nil
	}
	sig := fn.Type().(*types.Signature)
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		if s := c.pass.TypesInfo.Selections[sel]; s != nil && s.Kind() == types.MethodExpr {
			i-- // the receiver is the first argument
		}
	}
	if fn.Pkg().Path() == "math/big" && sig.Recv() != nil && i >= 0 {
		return func() bool { return false }
	}
	if fn.Pkg() != c.pass.Pkg || c.decls[fn] == nil || i < 0 || i >= sig.Params().Len() || sig.Variadic() && i == sig.Params().Len()-1 {
		return nil
	}
	p := sig.Params().At(i)
	return func() bool { return c.localWritten[p] || c.escaped[p] }
}

// isOnce reports whether fn runs its function argument once: sync.Once.Do, sync.OnceFunc,
// sync.OnceValue, sync.OnceValues.
func isOnce(fn *types.Func) bool {
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "sync" {
		return false
	}
	switch recvName(fn) + "." + fn.Name() {
	case "Once.Do", ".OnceFunc", ".OnceValue", ".OnceValues":
		return true
	}
	return false
}

// typeUnder returns t's underlying type, through a pointer; nil for nil.
func typeUnder(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	if p, ok := t.Underlying().(*types.Pointer); ok {
		return p.Elem().Underlying()
	}
	return t.Underlying()
}

// writeOnly marks the variable e is rooted at (x, x.f, x[i], *x, pkg.X) as written, not
// read, by this use.
func (c *checker) writeOnly(e ast.Expr) {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			c.assigned[x] = true
			return
		case *ast.SelectorExpr:
			if c.pass.TypesInfo.Selections[x] == nil {
				c.assigned[x.Sel] = true // pkg.Var
				return
			}
			e = x.X
		case *ast.IndexExpr:
			if !isContainer(c.pass.TypesInfo.TypeOf(x.X)) {
				return
			}
			e = x.X
		case *ast.StarExpr:
			e = x.X
		default:
			return
		}
	}
}

// onlyReceiverWritten reports whether a call of the standard method fn, its result
// discarded, changes its receiver without reading anything from it for the caller: the
// methods of atomic values, of sync.Map that store, and of buffers and builders that write.
func onlyReceiverWritten(fn *types.Func) bool {
	switch fn.Pkg().Path() {
	case "sync/atomic":
		return true
	case "sync":
		return recvName(fn) == "Map"
	case "bytes", "strings":
		// Not WriteTo, which hands the receiver's content to its argument.
		switch fn.Name() {
		case "Write", "WriteString", "WriteByte", "WriteRune", "Reset", "Grow":
			return true
		}
	}
	return false
}

// isArith reports whether op makes a number, string or bit set of its operands (not a
// comparison or a logical operator).
func isArith(op token.Token) bool {
	switch op {
	case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR,
		token.SHL, token.SHR, token.AND_NOT:
		return true
	}
	return false
}
