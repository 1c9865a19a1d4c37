package computecheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// This file finds the writes to package-level variables over the package's SSA form, with a
// flow-insensitive notion of what each value may refer to: a value refers to a package
// variable when it is its address, or was loaded, sliced, converted, indexed or copied from
// something that refers to it. A store, a map update, a send, a builtin (copy, clear,
// delete), a standard function or method known to change what it is given (sort.Sort,
// slices.Sort, json.Unmarshal, a bytes.Buffer's Write, an atomic.Int64's Add), or a function
// of the module that changes one of its parameters, through a value that refers to a
// variable, is a write to that variable. So is a write through any local copy or alias of
// it, through a pointer it holds, and through the result of a function returning it.

// A loc is a memory location as the analysis tells them apart: a package variable (with all
// it points to), a parameter of a function (what its argument points to), or an allocation.
type loc struct {
	g    *types.Var    // a package variable
	fn   *ssa.Function // with i: parameter i of fn (the receiver first)
	i    int
	deep bool      // with fn: what parameter i's pointee refers to, not the pointee itself
	site ssa.Value // an allocation: Alloc, MakeMap, MakeSlice, MakeChan, an append's array
}

type locs map[loc]bool

// A mutSummary is what a function changes of its parameters and what its results may refer
// to, for its callers.
type mutSummary struct {
	params  map[int]depth
	results locs
}

// A depth says what a function changes of a parameter: the memory the argument refers to
// (*p, p.f, s[i], m[k]), or also what that memory refers to (p.cfg.Name, s[i].Tags[0]).
type depth uint8

const (
	shallow depth = 1
	deep    depth = 2
)

// A mutFact tells other packages which parameters a function changes (SSA numbering: the
// receiver first), and of those which deeply.
type mutFact struct {
	Params []int
	Deep   []int
}

// AFact marks mutFact as an analysis fact.
func (*mutFact) AFact() {}

func (f *mutFact) String() string {
	var b strings.Builder
	b.WriteString("changes(")
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(string(rune('0' + p)))
		if slices.Contains(f.Deep, p) {
			b.WriteString("*")
		}
	}
	b.WriteString(")")
	return b.String()
}

// An ssaWrite is a write to a package variable found over SSA.
type ssaWrite struct {
	v   *types.Var
	pos token.Pos
	how string
	fn  *ssa.Function
}

type mutator struct {
	c        *checker
	funcs    []*ssa.Function
	refs     map[ssa.Value]locs
	contents map[loc]locs
	sums     map[*ssa.Function]*mutSummary
	byName   map[string][]*ssa.Function // methods of the package's types, by name
	changed  bool
	record   bool

	// The worklist of the fixed point: cur is the function being analysed, queue those
	// to analyse again, as what they read changed since they last were.
	cur     *ssa.Function
	queue   []*ssa.Function
	queued  map[*ssa.Function]bool
	readers map[loc]map[*ssa.Function]bool           // the functions that read what a location holds
	callers map[*ssa.Function]map[*ssa.Function]bool // the functions that applied a summary
	seen    locs                                     // a set used again, for a return's closure
	writes  []ssaWrite
	ifaces  map[*ssa.Global][]types.Type
}

// buildSSA builds the package's SSA form and returns its functions: those declared, the
// package initializer, and their literals.
func (c *checker) buildSSA() []*ssa.Function {
	prog := ssa.NewProgram(c.pass.Fset, 0)
	// Only the direct imports need a package: functions of the others are made on demand.
	for _, p := range c.pass.Pkg.Imports() {
		prog.CreatePackage(p, nil, nil, true)
	}
	pkg := prog.CreatePackage(c.pass.Pkg, c.pass.Files, c.pass.TypesInfo, false)
	pkg.Build()
	var funcs []*ssa.Function
	var add func(f *ssa.Function)
	add = func(f *ssa.Function) {
		if f == nil {
			return
		}
		funcs = append(funcs, f)
		for _, anon := range f.AnonFuncs {
			add(anon)
		}
	}
	if init, ok := pkg.Members["init"].(*ssa.Function); ok {
		add(init)
	}
	for _, file := range c.pass.Files {
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				if fn, ok := c.pass.TypesInfo.Defs[fd.Name].(*types.Func); ok {
					if fd.Name.Name == "init" && fd.Recv == nil {
						continue // reached from the package initializer
					}
					add(prog.FuncValue(fn))
				}
			}
		}
	}
	if init, ok := pkg.Members["init"].(*ssa.Function); ok {
		// The init functions: the package initializer calls them.
		for _, b := range init.Blocks {
			for _, instr := range b.Instrs {
				if call, ok := instr.(*ssa.Call); ok {
					if f := call.Call.StaticCallee(); f != nil && f.Pkg == pkg && strings.HasPrefix(f.Name(), "init#") {
						add(f)
					}
				}
			}
		}
	}
	return funcs
}

// mutations finds the writes to package-level variables of the module, over SSA, and what
// package-level variables hold the address of (a part of) another. It returns the writes.
func (c *checker) mutations() []ssaWrite {
	m := &mutator{
		c:        c,
		funcs:    c.buildSSA(),
		refs:     map[ssa.Value]locs{},
		seen:     locs{},
		contents: map[loc]locs{},
		sums:     map[*ssa.Function]*mutSummary{},
		byName:   map[string][]*ssa.Function{},
	}
	for _, f := range m.funcs {
		m.sums[f] = &mutSummary{params: map[int]depth{}, results: locs{}}
		if f.Signature.Recv() != nil {
			m.byName[f.Name()] = append(m.byName[f.Name()], f)
		}
	}
	// To the fixed point: each function to its own first (what flows within it), then the
	// functions that read what changed: the callers of a function whose summary changed,
	// the readers of a location whose contents changed, a function literal whose free
	// variables refer to more. Every step only adds to finite sets, so it ends, at the same
	// least fixed point in any order; callees first (the reverse of declaration order, as
	// helpers usually follow their callers) makes it end sooner.
	slices.Reverse(m.funcs)
	m.queued = map[*ssa.Function]bool{}
	m.readers = map[loc]map[*ssa.Function]bool{}
	m.callers = map[*ssa.Function]map[*ssa.Function]bool{}
	for _, f := range m.funcs {
		m.queued[f] = true
	}
	m.queue = append(m.queue, m.funcs...)
	for len(m.queue) > 0 {
		f := m.queue[0]
		m.queue = m.queue[1:]
		m.queued[f] = false
		m.cur = f
		for {
			m.changed = false
			m.function(f)
			if !m.changed {
				break
			}
		}
	}
	m.cur = nil
	m.record = true
	for _, f := range m.funcs {
		m.function(f)
	}
	// Package variables that hold (a part of) another: reading one reads the other.
	for l, in := range m.contents {
		if l.g == nil || l.g.Pkg() != c.pass.Pkg {
			continue
		}
		for o := range m.closure(in) {
			if o.g != nil && o.g != l.g && !contains(c.pkgAliases[l.g], o.g) {
				c.pkgAliases[l.g] = append(c.pkgAliases[l.g], o.g)
			}
		}
	}
	for _, f := range m.funcs {
		s := m.sums[f]
		obj, ok := f.Object().(*types.Func)
		if !ok || f.Parent() != nil || len(s.params) == 0 {
			continue
		}
		var fact mutFact
		for i := range len(f.Params) {
			if s.params[i] != 0 {
				fact.Params = append(fact.Params, i)
			}
			if s.params[i]&deep != 0 {
				fact.Deep = append(fact.Deep, i)
			}
		}
		c.pass.ExportObjectFact(obj, &fact)
	}
	return m.writes
}

func contains(vs []*types.Var, v *types.Var) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// get returns what v may refer to.
func (m *mutator) get(v ssa.Value) locs {
	switch v := v.(type) {
	case *ssa.Global:
		if g, ok := v.Object().(*types.Var); ok && m.c.pkgVar(g) != nil {
			return locs{{g: g}: true}
		}
		return nil
	case *ssa.Parameter:
		if !hasRefs(v.Type()) {
			return nil
		}
		for i, p := range v.Parent().Params {
			if p == v {
				return locs{{fn: v.Parent(), i: i}: true}
			}
		}
		return nil
	}
	return m.refs[v]
}

// add records that v may refer to what ls holds.
func (m *mutator) add(v ssa.Value, ls locs) {
	if len(ls) == 0 || v == nil {
		return
	}
	cur := m.refs[v]
	for l := range ls {
		if !cur[l] {
			if cur == nil {
				cur = make(locs, len(ls))
				m.refs[v] = cur
			}
			cur[l] = true
			if fv, ok := v.(*ssa.FreeVar); ok {
				m.enqueue(fv.Parent())
			} else {
				m.changed = true
			}
		}
	}
}

// enqueue records that f is to be analysed again: now if it is the function being
// analysed, else after those before it.
func (m *mutator) enqueue(f *ssa.Function) {
	if f == m.cur {
		m.changed = true
		return
	}
	if m.queued != nil && !m.queued[f] && m.sums[f] != nil {
		m.queued[f] = true
		m.queue = append(m.queue, f)
	}
}

// enqueueAll enqueues the functions of fs.
func (m *mutator) enqueueAll(fs map[*ssa.Function]bool) {
	for f := range fs {
		m.enqueue(f)
	}
}

// reads records that the function being analysed reads what l holds.
func (m *mutator) reads(l loc) {
	if m.cur == nil {
		return
	}
	rs := m.readers[l]
	if rs == nil {
		rs = map[*ssa.Function]bool{}
		m.readers[l] = rs
	}
	rs[m.cur] = true
}

// calls records that the function being analysed applies the summary of g.
func (m *mutator) calls(g *ssa.Function) {
	if m.cur == nil {
		return
	}
	cs := m.callers[g]
	if cs == nil {
		cs = map[*ssa.Function]bool{}
		m.callers[g] = cs
	}
	cs[m.cur] = true
}

// store records that the memory at l holds what ls refers to.
func (m *mutator) store(l loc, ls locs) {
	if l.fn != nil {
		return
	}
	cur := m.contents[l]
	for o := range ls {
		if o.fn != nil || o == l {
			continue
		}
		if !cur[o] {
			if cur == nil {
				cur = locs{}
				m.contents[l] = cur
			}
			cur[o] = true
			m.enqueueAll(m.readers[l])
		}
	}
}

// contentsOf returns what the memory at l may hold references to.
func (m *mutator) contentsOf(l loc) locs {
	m.reads(l)
	out := locs{}
	if l.fn != nil {
		out[loc{fn: l.fn, i: l.i, deep: true}] = true // what the parameter's pointee refers to
	} else if l.site == nil {
		out[l] = true // a variable, with all it points to
	}
	for o := range m.contents[l] {
		out[o] = true
	}
	return out
}

// addContents records that v may refer to what the memory at l may hold references to:
// m.add(v, m.contentsOf(l)) without the set between.
func (m *mutator) addContents(v ssa.Value, l loc) {
	if l.fn != nil {
		m.addOne(v, loc{fn: l.fn, i: l.i, deep: true})
	} else if l.site == nil {
		m.addOne(v, l)
	}
	m.reads(l)
	in := m.contents[l]
	if len(in) > 0 && m.refs[v] == nil {
		m.refs[v] = make(locs, len(in)+1) // sized once rather than grown
	}
	for o := range in {
		m.addOne(v, o)
	}
}

// addOne records that v may refer to l.
func (m *mutator) addOne(v ssa.Value, l loc) {
	if v == nil {
		return
	}
	cur := m.refs[v]
	if cur[l] {
		return
	}
	if cur == nil {
		cur = locs{}
		m.refs[v] = cur
	}
	cur[l] = true
	if fv, ok := v.(*ssa.FreeVar); ok {
		m.enqueue(fv.Parent())
	} else {
		m.changed = true
	}
}

// closure returns ls with, transitively, what the allocations and variables it holds hold.
func (m *mutator) closure(ls locs) locs {
	return m.closureInto(locs{}, ls)
}

// closureInto is closure, into out, emptied first: a set to use again.
func (m *mutator) closureInto(out, ls locs) locs {
	clear(out)
	var walk func(l loc)
	walk = func(l loc) {
		if out[l] {
			return
		}
		out[l] = true
		m.reads(l)
		for o := range m.contents[l] {
			walk(o)
		}
	}
	for l := range ls {
		walk(l)
	}
	return out
}

// writeDepth records a write to what ls refers to, and when d is deep to what that refers
// to, transitively.
func (m *mutator) writeDepth(ls locs, d depth, pos token.Pos, how string, f *ssa.Function) {
	if d&deep == 0 {
		m.write(ls, pos, how, f, nil)
		return
	}
	params := locs{}
	for l := range ls {
		if l.fn != nil {
			params[loc{fn: l.fn, i: l.i, deep: true}] = true
		}
	}
	m.write(params, pos, how, f, nil)
	m.write(m.closure(ls), pos, how, f, nil)
}

// write records a write to what ls refers to, at pos in f.
func (m *mutator) write(ls locs, pos token.Pos, how string, f *ssa.Function, stored locs) {
	for l := range ls {
		switch {
		case l.g != nil:
			m.store(l, stored)
			if m.record {
				if !pos.IsValid() {
					pos = f.Pos()
				}
				m.writes = append(m.writes, ssaWrite{l.g, pos, how, f})
			}
		case l.fn != nil:
			d := shallow
			if l.deep {
				d = deep
			}
			if s := m.sums[l.fn]; s != nil && s.params[l.i]&d == 0 {
				s.params[l.i] |= d
				m.enqueueAll(m.callers[l.fn])
			}
		default:
			m.store(l, stored)
		}
	}
}

func (m *mutator) function(f *ssa.Function) {
	for _, b := range f.Blocks {
		for _, instr := range b.Instrs {
			m.instr(f, instr)
		}
	}
}

func (m *mutator) instr(f *ssa.Function, instr ssa.Instruction) {
	switch in := instr.(type) {
	case *ssa.Alloc:
		m.add(in, locs{{site: in}: true})
	case *ssa.MakeMap:
		m.add(in, locs{{site: in}: true})
	case *ssa.MakeSlice:
		m.add(in, locs{{site: in}: true})
	case *ssa.MakeChan:
		m.add(in, locs{{site: in}: true})
	case *ssa.MakeClosure:
		fn, _ := in.Fn.(*ssa.Function)
		for i, b := range in.Bindings {
			r := m.get(b)
			m.add(in, r)
			if fn != nil && i < len(fn.FreeVars) {
				m.add(fn.FreeVars[i], r)
			}
		}
		if fn != nil && isBound(fn) && len(in.Bindings) == 1 {
			// A method value (x.M): its calls change what the method changes of x.
			// The value is an allocation holding x; a receiver that is a parameter
			// is changed here, as the allocation cannot hold it.
			site := loc{site: in}
			m.add(in, locs{site: true})
			r := m.get(in.Bindings[0])
			m.store(site, r)
			params := locs{}
			for l := range r {
				if l.fn != nil {
					params[l] = true
				}
			}
			if obj, ok := fn.Object().(*types.Func); ok && len(params) > 0 {
				m.known(f, fn.Prog.FuncValue(obj), obj, []locs{params}, nil, in.Pos())
			}
		}
	case *ssa.UnOp:
		switch in.Op {
		case token.MUL, token.ARROW:
			if hasRefs(in.Type()) {
				for l := range m.get(in.X) {
					m.addContents(in, l)
				}
			}
		}
	case *ssa.FieldAddr:
		m.add(in, m.get(in.X))
	case *ssa.IndexAddr:
		m.add(in, m.get(in.X))
	case *ssa.Field:
		if hasRefs(in.Type()) {
			m.add(in, m.get(in.X))
		}
	case *ssa.Index:
		if hasRefs(in.Type()) {
			m.add(in, m.get(in.X))
		}
	case *ssa.Slice:
		m.add(in, m.get(in.X))
	case *ssa.Lookup:
		if hasRefs(in.Type()) {
			for l := range m.get(in.X) {
				m.addContents(in, l)
			}
		}
	case *ssa.Range:
		m.add(in, m.get(in.X))
	case *ssa.Next:
		for l := range m.get(in.Iter) {
			m.addContents(in, l)
		}
	case *ssa.Extract:
		if hasRefs(in.Type()) {
			m.add(in, m.get(in.Tuple))
		}
	case *ssa.Phi:
		for _, e := range in.Edges {
			m.add(in, m.get(e))
		}
	case *ssa.ChangeType:
		m.add(in, m.get(in.X))
	case *ssa.Convert:
		if hasRefs(in.Type()) {
			m.add(in, m.get(in.X))
		}
	case *ssa.MultiConvert:
		m.add(in, m.get(in.X))
	case *ssa.ChangeInterface:
		m.add(in, m.get(in.X))
	case *ssa.MakeInterface:
		m.add(in, m.get(in.X))
	case *ssa.SliceToArrayPointer:
		m.add(in, m.get(in.X))
	case *ssa.TypeAssert:
		m.add(in, m.get(in.X))
	case *ssa.Select:
		for _, st := range in.States {
			if st.Dir == types.RecvOnly {
				for l := range m.get(st.Chan) {
					m.addContents(in, l)
				}
			} else {
				m.write(m.get(st.Chan), st.Pos, "changed by a send", f, m.get(st.Send))
			}
		}
	case *ssa.Store:
		m.write(m.get(in.Addr), in.Pos(), "", f, m.get(in.Val))
	case *ssa.MapUpdate:
		stored := locs{}
		for l := range m.get(in.Value) {
			stored[l] = true
		}
		for l := range m.get(in.Key) {
			stored[l] = true
		}
		m.write(m.get(in.Map), in.Pos(), "", f, stored)
	case *ssa.Send:
		m.write(m.get(in.Chan), in.Pos(), "changed by a send", f, m.get(in.X))
	case *ssa.Return:
		s := m.sums[f]
		for _, r := range in.Results {
			for l := range m.closureInto(m.seen, m.get(r)) {
				if l.site == nil && (l.fn == nil || l.fn == f) && !s.results[l] {
					s.results[l] = true
					m.enqueueAll(m.callers[f])
				}
			}
		}
	case *ssa.Call:
		m.call(f, in.Common(), in, in.Pos())
	case *ssa.Go:
		m.call(f, in.Common(), nil, in.Pos())
	case *ssa.Defer:
		m.call(f, in.Common(), nil, in.Pos())
	}
}

// call applies what a call changes of its arguments, and what its result refers to.
func (m *mutator) call(f *ssa.Function, common *ssa.CallCommon, result ssa.Value, pos token.Pos) {
	args := common.Args
	if common.IsInvoke() {
		args = append([]ssa.Value{common.Value}, args...)
	}
	argLocs := make([]locs, len(args))
	for i, a := range args {
		argLocs[i] = m.get(a)
	}
	if b, ok := common.Value.(*ssa.Builtin); ok {
		switch b.Name() {
		case "copy", "clear", "delete":
			m.writeDepth(argLocs[0], shallow, pos, "", f)
		case "append":
			if len(args) > 0 {
				if _, resliced := args[0].(*ssa.Slice); resliced {
					m.writeDepth(argLocs[0], shallow, pos, "", f)
				}
			}
			// The result is the first argument's array or a new one, holding what the
			// first argument's elements and the elements appended refer to; not the
			// array they are copied from.
			if result != nil && len(args) > 0 {
				site := loc{site: result}
				m.add(result, argLocs[0])
				m.add(result, locs{site: true})
				if elem, ok := result.Type().Underlying().(*types.Slice); ok && hasRefs(elem.Elem()) {
					for _, ls := range argLocs {
						for l := range ls {
							m.store(site, m.contentsOf(l))
						}
					}
				}
			}
		}
		return
	}
	m.callee(f, common, args, argLocs, result, pos)
}

// callee applies the summaries of what a call may run, with the arguments' locations
// (the receiver first).
func (m *mutator) callee(f *ssa.Function, common *ssa.CallCommon, args []ssa.Value, argLocs []locs, result ssa.Value, pos token.Pos) {
	if common.IsInvoke() {
		// A method of an interface: the methods of that name of the types the value may
		// hold (those of the package variable it was loaded from when that is assigned
		// only a known set of types, else the package's types implementing it), and the
		// standard methods known to change their argument.
		name := common.Method.Name()
		if fns, ok := m.fixedMethods(common.Value, name); ok {
			for _, g := range fns {
				if s := m.sums[g]; s != nil {
					m.apply(f, g, s, funcName(g.Object().(*types.Func)), argLocs, result, pos)
				}
			}
		} else {
			iface, _ := common.Value.Type().Underlying().(*types.Interface)
			for _, g := range m.byName[name] {
				if iface != nil && types.Implements(g.Signature.Recv().Type(), iface) {
					m.apply(f, g, m.sums[g], funcName(g.Object().(*types.Func)), argLocs, result, pos)
				}
			}
		}
		if common.Method.Pkg() == nil || isStdPath(pkgPath(common.Method)) {
			for _, i := range stdWrites(common.Method, len(args)) {
				m.writeArg(f, argLocs, i, stdDepth(common.Method, i), "changed by "+stdName(common.Method), pos)
			}
		}
		m.allArgs(argLocs, result)
		return
	}
	callee := common.StaticCallee()
	if callee == nil || isBound(callee) {
		// A function value: the method values it may be, with their receivers.
		for l := range m.get(common.Value) {
			mc, ok := l.site.(*ssa.MakeClosure)
			if !ok || len(mc.Bindings) != 1 {
				continue
			}
			if fn, ok := mc.Fn.(*ssa.Function); ok && isBound(fn) {
				if obj, ok := fn.Object().(*types.Func); ok {
					recv := m.contentsOf(l)
					delete(recv, l)
					m.known(f, fn.Prog.FuncValue(obj), obj, append([]locs{recv}, argLocs...), result, pos)
				}
			}
		}
		m.allArgs(argLocs, result)
		return
	}
	if o := callee.Origin(); o != nil {
		callee = o
	}
	m.known(f, callee, nil, argLocs, result, pos)
}

// known applies the summary of a function that a call runs: one of the package's, a fact
// of another package's, or what the standard library is known to change. A method value's
// call has its receiver's locations first in argLocs.
func (m *mutator) known(f *ssa.Function, callee *ssa.Function, obj *types.Func, argLocs []locs, result ssa.Value, pos token.Pos) {
	if obj == nil {
		obj, _ = callee.Object().(*types.Func)
	}
	if s := m.sums[callee]; s != nil {
		name := callee.Name()
		if obj != nil {
			name = funcName(obj)
		}
		m.apply(f, callee, s, name, argLocs, result, pos)
		return
	}
	if obj == nil || obj.Pkg() == nil {
		m.allArgs(argLocs, result)
		return
	}
	if !isStdPath(obj.Pkg().Path()) {
		var fact mutFact
		if m.c.pass.ImportObjectFact(obj, &fact) {
			for _, i := range fact.Params {
				d := shallow
				if slices.Contains(fact.Deep, i) {
					d = deep
				}
				m.writeArg(f, argLocs, i, d, "changed by "+funcName(obj), pos)
			}
		}
		m.allArgs(argLocs, result)
		return
	}
	for _, i := range stdWrites(obj, len(argLocs)) {
		m.writeArg(f, argLocs, i, stdDepth(obj, i), "changed by "+stdName(obj), pos)
	}
	// What a standard method returns shares its receiver when it is a pointer (a
	// FlagSet's String, a big.Int's Add, a list's Front) or known to (a big.Int's Bits, a
	// buffer's Bytes, a sync.Map's values); a standard function's result shares its
	// argument only for the functions known to return (a part of) it: bytes.TrimSpace,
	// sort.Reverse, slices.Insert. The rest (regexp's Find*, strings.Fields) is new.
	if result != nil && hasRefs(result.Type()) && len(argLocs) > 0 {
		if recvName(obj) != "" && stdSharesRecv(obj) {
			m.add(result, argLocs[0])
		} else if recvName(obj) == "" && stdSharesArg(obj) {
			m.add(result, argLocs[0])
		}
	}
}

// writeArg records a write of depth d to argument i.
func (m *mutator) writeArg(f *ssa.Function, argLocs []locs, i int, d depth, how string, pos token.Pos) {
	if i >= 0 && i < len(argLocs) {
		m.writeDepth(argLocs[i], d, pos, how, f)
	}
}

// allArgs records that a call's result may refer to what its arguments refer to.
func (m *mutator) allArgs(argLocs []locs, result ssa.Value) {
	if result != nil && hasRefs(result.Type()) {
		for _, ls := range argLocs {
			m.add(result, ls)
		}
	}
}

// apply applies the summary s of callee to a call in f.
func (m *mutator) apply(f, callee *ssa.Function, s *mutSummary, name string, argLocs []locs, result ssa.Value, pos token.Pos) {
	m.calls(callee)
	for i, d := range s.params {
		m.writeArg(f, argLocs, i, d, "changed by "+name, pos)
	}
	if result == nil {
		return
	}
	for l := range s.results {
		if l.fn == callee {
			if l.i < len(argLocs) {
				if l.deep {
					m.add(result, m.deepOf(argLocs[l.i]))
				} else {
					m.add(result, argLocs[l.i])
				}
			}
		} else if l.fn == nil {
			m.add(result, locs{l: true})
		}
	}
}

// isBound reports whether fn is the wrapper of a method value (x.M).
func isBound(fn *ssa.Function) bool {
	return strings.HasPrefix(fn.Synthetic, "bound method wrapper")
}

// deepOf returns what the memory ls refers to may refer to, transitively.
func (m *mutator) deepOf(ls locs) locs {
	out := m.closure(ls)
	for l := range ls {
		if l.fn != nil {
			out[loc{fn: l.fn, i: l.i, deep: true}] = true
		}
	}
	return out
}

// fixedMethods returns the methods named name of the types that v, loaded from an
// unexported package variable of interface type, may hold, when every assignment of the
// variable in the package is of a known type and its address is not taken.
func (m *mutator) fixedMethods(v ssa.Value, name string) ([]*ssa.Function, bool) {
	load, ok := v.(*ssa.UnOp)
	if !ok || load.Op != token.MUL {
		return nil, false
	}
	g, ok := load.X.(*ssa.Global)
	if !ok {
		return nil, false
	}
	ts, ok := m.ifaceTypes()[g]
	if !ok || ts == nil {
		return nil, false
	}
	var out []*ssa.Function
	for _, t := range ts {
		sel := g.Pkg.Prog.MethodSets.MethodSet(t).Lookup(g.Pkg.Pkg, name)
		if sel == nil {
			if ms := g.Pkg.Prog.MethodSets.MethodSet(t).Lookup(nil, name); ms != nil {
				sel = ms
			}
		}
		if sel == nil {
			return nil, false
		}
		fn, _ := sel.Obj().(*types.Func)
		if fn == nil {
			return nil, false
		}
		out = append(out, g.Pkg.Prog.FuncValue(fn))
	}
	return out, true
}

// ifaceTypes returns, for the unexported package variables of interface type of the
// package, the concrete types stored in them; nil for one whose address escapes or that is
// assigned a value of a type not known.
func (m *mutator) ifaceTypes() map[*ssa.Global][]types.Type {
	if m.ifaces != nil {
		return m.ifaces
	}
	m.ifaces = map[*ssa.Global][]types.Type{}
	unknown := map[*ssa.Global]bool{}
	for _, f := range m.funcs {
		for _, b := range f.Blocks {
			for _, instr := range b.Instrs {
				var ops [8]*ssa.Value
				for _, op := range instr.Operands(ops[:0]) {
					g, ok := (*op).(*ssa.Global)
					if !ok || !types.IsInterface(g.Type().(*types.Pointer).Elem()) || g.Object() == nil || g.Object().Exported() {
						continue
					}
					switch in := instr.(type) {
					case *ssa.UnOp:
						if in.Op == token.MUL {
							continue
						}
					case *ssa.Store:
						if in.Addr == g {
							if mi, ok := in.Val.(*ssa.MakeInterface); ok {
								if !slices.ContainsFunc(m.ifaces[g], func(t types.Type) bool { return types.Identical(t, mi.X.Type()) }) {
									m.ifaces[g] = append(m.ifaces[g], mi.X.Type())
								}
								continue
							}
						}
					}
					unknown[g] = true
				}
			}
		}
	}
	for g := range unknown {
		m.ifaces[g] = nil
	}
	return m.ifaces
}

func pkgPath(obj types.Object) string {
	if obj.Pkg() == nil {
		return ""
	}
	return obj.Pkg().Path()
}

// hasRefs reports whether a value of type t can refer to memory: a pointer, map, slice,
// channel, interface or function, or a struct, array or tuple holding one.
func hasRefs(t types.Type) bool {
	return hasRefsSeen(t, map[types.Type]bool{})
}

func hasRefsSeen(t types.Type, seen map[types.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch u := t.Underlying().(type) {
	case *types.Pointer, *types.Map, *types.Slice, *types.Chan, *types.Interface, *types.Signature:
		return true
	case *types.Struct:
		for i := range u.NumFields() {
			if hasRefsSeen(u.Field(i).Type(), seen) {
				return true
			}
		}
	case *types.Array:
		return hasRefsSeen(u.Elem(), seen)
	case *types.Tuple:
		for i := range u.Len() {
			if hasRefsSeen(u.At(i).Type(), seen) {
				return true
			}
		}
	case *types.TypeParam:
		return true
	}
	return false
}

// ssaContext returns the declared function a function of SSA belongs to (nil for the
// package initializer), whether it is in a function literal that is not called where it is
// written, and whether in one that sync.Once runs.
func (c *checker) ssaContext(f *ssa.Function) (decl *types.Func, inLit, lazy bool) {
	for f.Parent() != nil {
		if lit, ok := f.Syntax().(*ast.FuncLit); ok {
			if !c.immediate[lit] {
				inLit = true
			}
			if c.onceLits[lit] {
				lazy = true
			}
		}
		f = f.Parent()
	}
	if fd, ok := f.Syntax().(*ast.FuncDecl); ok {
		decl, _ = c.pass.TypesInfo.Defs[fd.Name].(*types.Func)
	}
	return decl, inLit, lazy
}
