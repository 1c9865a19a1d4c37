package compiler

import "maps"

// astOpt runs the tree passes: constant folding and algebraic simplification, removal of
// unreachable branches and of dead stores and, at -O2, constant propagation.
type astOpt struct {
	t         Target
	propagate bool // constant propagation (-O2)
	stats     *Stats
}

// consts maps the variable slots whose value is known to that value.
type consts map[int]int64

// optimizeTree runs the tree passes for the level, to a fixpoint at -O2.
func optimizeTree(prog []stmt, level int, t Target, stats *Stats) []stmt {
	if level == 0 {
		return prog
	}
	o := &astOpt{t: t, propagate: level >= 2, stats: stats}
	rounds := 1
	if level >= 2 {
		rounds = 16
	}
	for range rounds {
		before := stats.Folded + stats.Eliminated
		var env consts
		if o.propagate {
			env = consts{}
		}
		prog = o.stmts(prog, env)
		prog = o.removeDeadStores(prog)
		if stats.Folded+stats.Eliminated == before {
			break
		}
	}
	return prog
}

// stmts simplifies a statement list. env, when not nil, holds the constants known on entry
// and is updated to those known on exit.
func (o *astOpt) stmts(list []stmt, env consts) []stmt {
	out := list[:0:0]
	for _, s := range list {
		out = append(out, o.stmt(s, env)...)
	}
	return out
}

// stmt simplifies one statement, which may become several or none.
func (o *astOpt) stmt(s stmt, env consts) []stmt {
	switch s := s.(type) {
	case *assign:
		s.value = o.expr(s.value, env)
		if env != nil {
			if c, ok := s.value.(*intLit); ok {
				env[s.slot] = c.val
			} else {
				delete(env, s.slot)
			}
		}
		return []stmt{s}
	case *ifStmt:
		s.cond = o.expr(s.cond, env)
		if c, ok := s.cond.(*intLit); ok {
			o.stats.Eliminated++ // the branch not taken, and the test
			if c.val != 0 {
				return o.stmts(s.then, env)
			}
			return o.stmts(s.els, env)
		}
		var envElse consts
		if env != nil {
			envElse = maps.Clone(env)
		}
		s.then = o.stmts(s.then, env)
		s.els = o.stmts(s.els, envElse)
		// After the if, a constant is known when both branches agree on it.
		for slot, v := range env {
			if w, ok := envElse[slot]; !ok || w != v {
				delete(env, slot)
			}
		}
		if len(s.then) == 0 && len(s.els) == 0 && !canTrap(s.cond) {
			o.stats.Eliminated++
			return nil
		}
		return []stmt{s}
	case *whileStmt:
		if env != nil {
			// Values assigned in the loop are unknown at its test, in every iteration.
			for slot := range assigned(s.body, map[int]bool{}) {
				delete(env, slot)
			}
		}
		s.cond = o.expr(s.cond, env)
		if c, ok := s.cond.(*intLit); ok && c.val == 0 {
			o.stats.Eliminated++
			return nil
		}
		var envBody consts
		if env != nil {
			envBody = maps.Clone(env)
		}
		s.body = o.stmts(s.body, envBody)
		return []stmt{s}
	case *printStmt:
		for i := range s.args {
			if !s.args[i].isStr {
				s.args[i].x = o.expr(s.args[i].x, env)
			}
		}
		return []stmt{s}
	case *block:
		// Slots are resolved: scopes no longer matter, and the block dissolves.
		return o.stmts(s.body, env)
	}
	return []stmt{s}
}

// assigned adds to set the slots that body assigns, at any depth.
func assigned(body []stmt, set map[int]bool) map[int]bool {
	for _, s := range body {
		switch s := s.(type) {
		case *assign:
			set[s.slot] = true
		case *ifStmt:
			assigned(s.then, set)
			assigned(s.els, set)
		case *whileStmt:
			assigned(s.body, set)
		case *block:
			assigned(s.body, set)
		}
	}
	return set
}

// canTrap reports whether evaluating e can fail: whether it divides by something that is
// not a non-zero constant.
func canTrap(e expr) bool {
	switch e := e.(type) {
	case *unaryExpr:
		return canTrap(e.x)
	case *binaryExpr:
		if e.op == tDiv || e.op == tMod {
			if c, ok := e.y.(*intLit); !ok || c.val == 0 {
				return true
			}
		}
		return canTrap(e.x) || canTrap(e.y)
	}
	return false
}

// binaryOp maps the arithmetic tokens to their ops.
func binaryOp(k tokKind) op {
	switch k {
	case tAdd:
		return opAdd
	case tSub:
		return opSub
	case tMul:
		return opMul
	case tDiv:
		return opDiv
	case tMod:
		return opMod
	case tAnd:
		return opAnd
	case tOr:
		return opOr
	case tXor:
		return opXor
	case tShl:
		return opShl
	case tShr:
		return opShr
	case tEq:
		return opEq
	case tNe:
		return opNe
	case tLt:
		return opLt
	case tLe:
		return opLe
	case tGt:
		return opGt
	case tGe:
		return opGe
	}
	return 0
}

// unaryOp maps the unary tokens to their ops.
func unaryOp(k tokKind) op {
	switch k {
	case tSub:
		return opNeg
	case tNot:
		return opNot
	}
	return opBNot
}

func (o *astOpt) lit(pos Pos, v int64) *intLit {
	o.stats.Folded++
	return &intLit{pos: pos, val: v}
}

// expr folds and simplifies e, substituting the constants of env.
func (o *astOpt) expr(e expr, env consts) expr {
	switch e := e.(type) {
	case *varRef:
		if v, ok := env[e.slot]; ok {
			return o.lit(e.pos, v)
		}
		return e
	case *unaryExpr:
		e.x = o.expr(e.x, env)
		if c, ok := e.x.(*intLit); ok {
			return o.lit(e.pos, unop(unaryOp(e.op), c.val, o.t))
		}
		if in, ok := e.x.(*unaryExpr); ok && in.op == e.op && e.op != tNot {
			o.stats.Folded++ // --x and ~~x are x
			return in.x
		}
		return e
	case *binaryExpr:
		e.x = o.expr(e.x, env)
		e.y = o.expr(e.y, env)
		return o.binary(e)
	}
	return e
}

// truth returns x != 0 as an expression producing 0 or 1.
func truth(x expr) expr {
	return &binaryExpr{pos: x.position(), op: tNe, x: x, y: &intLit{pos: x.position()}}
}

func (o *astOpt) binary(e *binaryExpr) expr {
	cx, xc := e.x.(*intLit)
	cy, yc := e.y.(*intLit)
	switch e.op {
	case tAndAnd, tOrOr:
		and := e.op == tAndAnd
		if xc {
			o.stats.Folded++
			if (cx.val != 0) == and {
				// 1 && y and 0 || y: the value of y, as a truth value.
				if yc {
					return o.lit(e.pos, b2i(cy.val != 0))
				}
				return truth(e.y)
			}
			return &intLit{pos: e.pos, val: b2i(!and)}
		}
		if yc && !canTrap(e.x) && (cy.val != 0) != and {
			// x && 0 and x || 1, when x has no effect.
			return o.lit(e.pos, b2i(!and))
		}
		if yc && (cy.val != 0) == and {
			// x && 1 and x || 0.
			o.stats.Folded++
			return truth(e.x)
		}
		return e
	}
	bop := binaryOp(e.op)
	if xc && yc {
		if v, ok := binop(bop, cx.val, cy.val, o.t); ok {
			return o.lit(e.pos, v)
		}
		return e // a division by zero stays, to fail at run time
	}
	switch {
	case yc && cy.val == 0 && (bop == opAdd || bop == opSub || bop == opOr || bop == opXor || bop == opShl || bop == opShr),
		yc && cy.val == 1 && (bop == opMul || bop == opDiv),
		yc && cy.val == -1 && bop == opAnd:
		o.stats.Folded++
		return e.x
	case xc && cx.val == 0 && (bop == opAdd || bop == opOr || bop == opXor),
		xc && cx.val == 1 && bop == opMul,
		xc && cx.val == -1 && bop == opAnd:
		o.stats.Folded++
		return e.y
	case yc && cy.val == 0 && (bop == opMul || bop == opAnd) && !canTrap(e.x),
		yc && (cy.val == 1 || cy.val == -1) && bop == opMod && !canTrap(e.x):
		return o.lit(e.pos, 0)
	case xc && cx.val == 0 && (bop == opMul || bop == opAnd) && !canTrap(e.y):
		return o.lit(e.pos, 0)
	case xc && cx.val == 0 && bop == opSub:
		o.stats.Folded++
		return &unaryExpr{pos: e.pos, op: tSub, x: e.y}
	case yc && cy.val == -1 && (bop == opMul || bop == opDiv):
		o.stats.Folded++
		return &unaryExpr{pos: e.pos, op: tSub, x: e.x}
	}
	// (x op c1) op c2 is x op (c1 op c2) for the associative operators, wrap-around
	// included.
	if in, ok := e.x.(*binaryExpr); ok && yc && in.op == e.op && (bop == opAdd || bop == opMul || bop == opAnd || bop == opOr || bop == opXor) {
		if c1, ok := in.y.(*intLit); ok {
			v, _ := binop(bop, c1.val, cy.val, o.t)
			o.stats.Folded++
			return o.binary(&binaryExpr{pos: e.pos, op: e.op, x: in.x, y: &intLit{pos: cy.pos, val: v}})
		}
	}
	// c op x is x op c for the commutative operators, so that the rules above apply.
	if xc && !yc && (bop == opAdd || bop == opMul || bop == opAnd || bop == opOr || bop == opXor) {
		if in, ok := e.y.(*binaryExpr); ok && in.op == e.op {
			if _, ok := in.y.(*intLit); ok {
				return o.binary(&binaryExpr{pos: e.pos, op: e.op, x: e.y, y: e.x})
			}
		}
	}
	return e
}

// removeDeadStores removes the assignments to variables whose values cannot affect what
// the program prints or which way it branches, when the assigned value cannot trap. A
// variable is useful when a condition, a print or a trapping expression reads it, or when an
// assignment to a useful variable does: so "x = x + 1" alone does not keep x alive.
func (o *astOpt) removeDeadStores(prog []stmt) []stmt {
	useful := map[int]bool{}
	deps := map[int][]int{} // slot -> the slots that assignments to it read
	var work []int
	root := func(e expr) {
		reads(e, func(slot int) { work = append(work, slot) })
	}
	var walk func(body []stmt)
	walk = func(body []stmt) {
		for _, s := range body {
			switch s := s.(type) {
			case *assign:
				if canTrap(s.value) {
					root(s.value)
				} else {
					reads(s.value, func(slot int) { deps[s.slot] = append(deps[s.slot], slot) })
				}
			case *ifStmt:
				root(s.cond)
				walk(s.then)
				walk(s.els)
			case *whileStmt:
				root(s.cond)
				walk(s.body)
			case *printStmt:
				for _, a := range s.args {
					if !a.isStr {
						root(a.x)
					}
				}
			case *block:
				walk(s.body)
			}
		}
	}
	walk(prog)
	for len(work) > 0 {
		slot := work[len(work)-1]
		work = work[:len(work)-1]
		if !useful[slot] {
			useful[slot] = true
			work = append(work, deps[slot]...)
		}
	}
	return filterStores(prog, func(s *assign) bool {
		if !useful[s.slot] && !canTrap(s.value) {
			o.stats.Eliminated++
			return false
		}
		return true
	})
}

// reads calls f with the slot of every variable that e reads.
func reads(e expr, f func(slot int)) {
	switch e := e.(type) {
	case *varRef:
		f(e.slot)
	case *unaryExpr:
		reads(e.x, f)
	case *binaryExpr:
		reads(e.x, f)
		reads(e.y, f)
	}
}

// filterStores keeps the statements of body, at any depth, except the assignments that
// keep rejects.
func filterStores(body []stmt, keep func(*assign) bool) []stmt {
	out := body[:0:0]
	for _, s := range body {
		switch s := s.(type) {
		case *assign:
			if !keep(s) {
				continue
			}
		case *ifStmt:
			s.then = filterStores(s.then, keep)
			s.els = filterStores(s.els, keep)
		case *whileStmt:
			s.body = filterStores(s.body, keep)
		case *block:
			s.body = filterStores(s.body, keep)
		}
		out = append(out, s)
	}
	return out
}
