package compiler

// codegen translates the tree into an instruction list for the stack machine.
type codegen struct {
	list    []instr
	labels  int64
	rotate  bool // loops test at the bottom, and conditions jump directly (-O1 and up)
	strings []string
	strIdx  map[string]int
}

func generate(prog []stmt, level int) (list []instr, strs []string) {
	g := &codegen{rotate: level >= 1, strIdx: map[string]int{}}
	g.stmts(prog)
	g.emit(opHalt, 0, Pos{})
	return g.list, g.strings
}

func (g *codegen) emit(o op, arg int64, pos Pos) { g.list = append(g.list, instr{o, arg, pos}) }

func (g *codegen) label() int64 {
	g.labels++
	return g.labels
}

func (g *codegen) str(s string) int64 {
	i, ok := g.strIdx[s]
	if !ok {
		i = len(g.strings)
		g.strIdx[s] = i
		g.strings = append(g.strings, s)
	}
	return int64(i)
}

func (g *codegen) stmts(list []stmt) {
	for _, s := range list {
		g.stmt(s)
	}
}

func (g *codegen) stmt(s stmt) {
	switch s := s.(type) {
	case *assign:
		g.expr(s.value)
		g.emit(opStore, int64(s.slot), s.pos)
	case *ifStmt:
		elseL, endL := g.label(), g.label()
		g.branch(s.cond, false, elseL)
		g.stmts(s.then)
		if len(s.els) > 0 {
			g.emit(opJmp, endL, s.pos)
		}
		g.emit(opLabel, elseL, s.pos)
		if len(s.els) > 0 {
			g.stmts(s.els)
			g.emit(opLabel, endL, s.pos)
		}
	case *whileStmt:
		top, test, end := g.label(), g.label(), g.label()
		if g.rotate {
			// jmp test; top: body; test: if cond goto top
			g.emit(opJmp, test, s.pos)
			g.emit(opLabel, top, s.pos)
			g.stmts(s.body)
			g.emit(opLabel, test, s.pos)
			g.branch(s.cond, true, top)
			return
		}
		g.emit(opLabel, top, s.pos)
		g.branch(s.cond, false, end)
		g.stmts(s.body)
		g.emit(opJmp, top, s.pos)
		g.emit(opLabel, end, s.pos)
	case *printStmt:
		// Adjacent text, separators included, goes out in one PRINTS.
		text := ""
		for i, a := range s.args {
			if i > 0 {
				text += " "
			}
			if a.isStr {
				text += a.str
				continue
			}
			if text != "" {
				g.emit(opPrintS, g.str(text), s.pos)
				text = ""
			}
			g.expr(a.x)
			g.emit(opPrint, 0, s.pos)
		}
		g.emit(opPrintS, g.str(text+"\n"), s.pos)
	case *block:
		g.stmts(s.body)
	}
}

// branch jumps to l when the truth of cond is when, and falls through otherwise.
func (g *codegen) branch(cond expr, when bool, l int64) {
	jump := opJz
	if when {
		jump = opJnz
	}
	if !g.rotate {
		g.expr(cond)
		g.emit(jump, l, cond.position())
		return
	}
	switch e := cond.(type) {
	case *unaryExpr:
		if e.op == tNot {
			g.branch(e.x, !when, l)
			return
		}
	case *binaryExpr:
		if e.op == tAndAnd || e.op == tOrOr {
			// For a && b: jump when false if either is false; jump when true if both are.
			// Dually for a || b.
			short := e.op == tOrOr // the value of the left operand that decides
			if when == short {
				g.branch(e.x, when, l)
				g.branch(e.y, when, l)
				return
			}
			skip := g.label()
			g.branch(e.x, short, skip)
			g.branch(e.y, when, l)
			g.emit(opLabel, skip, e.pos)
			return
		}
	}
	g.expr(cond)
	g.emit(jump, l, cond.position())
}

func (g *codegen) expr(e expr) {
	switch e := e.(type) {
	case *intLit:
		g.emit(opPush, e.val, e.pos)
	case *varRef:
		g.emit(opLoad, int64(e.slot), e.pos)
	case *unaryExpr:
		g.expr(e.x)
		g.emit(unaryOp(e.op), 0, e.pos)
	case *binaryExpr:
		if e.op == tAndAnd || e.op == tOrOr {
			// x && y: x; jz F; y; push 0; ne; jmp E; F: push 0; E:
			// x || y: x; jnz T; y; push 0; ne; jmp E; T: push 1; E:
			short, end := g.label(), g.label()
			and := e.op == tAndAnd
			g.expr(e.x)
			if and {
				g.emit(opJz, short, e.pos)
			} else {
				g.emit(opJnz, short, e.pos)
			}
			g.expr(e.y)
			g.emit(opPush, 0, e.pos)
			g.emit(opNe, 0, e.pos)
			g.emit(opJmp, end, e.pos)
			g.emit(opLabel, short, e.pos)
			g.emit(opPush, b2i(!and), e.pos)
			g.emit(opLabel, end, e.pos)
			return
		}
		g.expr(e.x)
		g.expr(e.y)
		g.emit(binaryOp(e.op), 0, e.pos)
	}
}
