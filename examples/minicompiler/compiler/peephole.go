package compiler

// peephole rewrites an instruction list with local patterns until none applies, and
// returns it with the number of rewrites: unreachable code, jumps to the next instruction,
// jump threading, branch inversion, constant branches, pushes that are popped, constant
// operations, and a store followed by a load of the same variable.
func peephole(list []instr, t Target) ([]instr, int) {
	total := 0
	for range 64 {
		var n int
		list, n = peepholeOnce(list, t)
		if n == 0 {
			break
		}
		total += n
	}
	return list, total
}

// inverse returns the comparison that is the negation of o, or 0.
func inverse(o op) op {
	switch o {
	case opEq:
		return opNe
	case opNe:
		return opEq
	case opLt:
		return opGe
	case opGe:
		return opLt
	case opLe:
		return opGt
	case opGt:
		return opLe
	}
	return 0
}

func peepholeOnce(list []instr, t Target) ([]instr, int) {
	n := 0
	// Where each label is, and how many jumps refer to it.
	at := map[int64]int{}
	refs := map[int64]int{}
	for i, in := range list {
		switch {
		case in.op == opLabel:
			at[in.arg] = i
		case in.op.isJump():
			refs[in.arg]++
		}
	}
	// firstAfter returns the index of the first instruction at or after i that is not a
	// label.
	firstAfter := func(i int) int {
		for i < len(list) && list[i].op == opLabel {
			i++
		}
		return i
	}
	// labelsBefore reports whether label l is among the labels from i up to the next
	// instruction.
	labelsBefore := func(i int, l int64) bool {
		for ; i < len(list) && list[i].op == opLabel; i++ {
			if list[i].arg == l {
				return true
			}
		}
		return false
	}

	out := make([]instr, 0, len(list))
	for i := 0; i < len(list); i++ {
		in := list[i]
		var next, next2 instr
		if i+1 < len(list) {
			next = list[i+1]
		}
		if i+2 < len(list) {
			next2 = list[i+2]
		}
		switch {
		case in.op == opLabel && refs[in.arg] == 0:
			n++ // an unused label
			continue
		case in.op.isJump():
			// Thread jumps through labels that lead to an unconditional jump.
			for hops := 0; hops < 8; hops++ {
				j := firstAfter(at[in.arg] + 1)
				if j >= len(list) || list[j].op != opJmp || list[j].arg == in.arg {
					break
				}
				in.arg = list[j].arg
				n++
			}
			if labelsBefore(i+1, in.arg) {
				// A jump to the next instruction.
				n++
				if in.op != opJmp {
					out = append(out, instr{opPop, 0, in.pos})
				}
				continue
			}
			if in.op == opJmp {
				j := firstAfter(at[in.arg] + 1)
				if j < len(list) && list[j].op == opHalt {
					in = instr{opHalt, 0, in.pos} // a jump to the end is the end
					n++
				}
			}
			if in.op != opJmp && next.op == opJmp && labelsBefore(i+2, in.arg) {
				// jz L; jmp M; L: is jnz M; L:
				n++
				inv := opJnz
				if in.op == opJnz {
					inv = opJz
				}
				out = append(out, instr{inv, next.arg, in.pos})
				i++
				continue
			}
		case in.op == opPush && (next.op == opJz || next.op == opJnz):
			n++
			i++
			if (in.arg == 0) == (next.op == opJz) {
				out = append(out, instr{opJmp, next.arg, next.pos})
			}
			continue
		case in.op == opNot && (next.op == opJz || next.op == opJnz):
			n++
			i++
			inv := opJnz
			if next.op == opJnz {
				inv = opJz
			}
			out = append(out, instr{inv, next.arg, next.pos})
			continue
		case inverse(in.op) != 0 && next.op == opNot:
			n++
			i++
			out = append(out, instr{inverse(in.op), 0, in.pos})
			continue
		case (in.op == opPush || in.op == opLoad || in.op == opDup) && next.op == opPop:
			n++
			i++
			continue
		case (in.op.isBinary() && opTable[in.op].pure) && next.op == opPop:
			n++
			i++
			out = append(out, instr{opPop, 0, in.pos}, instr{opPop, 0, in.pos})
			continue
		case in.op.isUnary() && next.op == opPop:
			n++
			i++
			out = append(out, instr{opPop, 0, in.pos})
			continue
		case in.op == opStore && next.op == opLoad && next.arg == in.arg:
			n++
			i++
			out = append(out, instr{opDup, 0, in.pos}, in)
			continue
		case in.op == opLoad && next.op == opLoad && next.arg == in.arg:
			n++
			i++
			out = append(out, in, instr{opDup, 0, next.pos})
			continue
		case in.op == opPush && next.op.isUnary():
			n++
			i++
			out = append(out, instr{opPush, unop(next.op, in.arg, t), in.pos})
			continue
		case in.op == opPush && next.op == opPush && next2.op.isBinary():
			if v, ok := binop(next2.op, in.arg, next.arg, t); ok {
				n++
				i += 2
				out = append(out, instr{opPush, v, in.pos})
				continue
			}
		case in.op == opPush && in.arg == 0 && (next.op == opAdd || next.op == opSub || next.op == opOr || next.op == opXor || next.op == opShl || next.op == opShr),
			in.op == opPush && in.arg == 1 && (next.op == opMul || next.op == opDiv):
			n++
			i++
			continue
		}
		out = append(out, in)
		if in.op == opJmp || in.op == opHalt {
			// Code after an unconditional transfer is unreachable up to the next label.
			for i+1 < len(list) && list[i+1].op != opLabel {
				i++
				n++
			}
		}
	}
	return out, n
}

// deadStores replaces the stores of values that are never read afterwards with pops, using
// a liveness analysis over the instruction list's control flow graph, and returns the
// number replaced.
func deadStores(list []instr, numVars int) int {
	if numVars == 0 {
		return 0
	}
	words := (numVars + 63) / 64
	at := labelIndex(list)
	// live[i] is the set of variables live on entry to instruction i.
	live := make([][]uint64, len(list)+1)
	for i := range live {
		live[i] = make([]uint64, words)
	}
	out := make([]uint64, words)
	liveOut := func(i int) []uint64 {
		clear(out)
		in := list[i]
		if in.op != opJmp && in.op != opHalt {
			for w := range out {
				out[w] |= live[i+1][w]
			}
		}
		if in.op.isJump() {
			for w, l := range live[at[in.arg]] {
				out[w] |= l
			}
		}
		return out
	}
	for changed := true; changed; {
		changed = false
		for i := len(list) - 1; i >= 0; i-- {
			lo := liveOut(i)
			in := list[i]
			switch in.op {
			case opLoad:
				lo[in.arg/64] |= 1 << (in.arg % 64)
			case opStore:
				lo[in.arg/64] &^= 1 << (in.arg % 64)
			}
			for w := range lo {
				if live[i][w] != lo[w] {
					live[i][w] = lo[w]
					changed = true
				}
			}
		}
	}
	n := 0
	for i, in := range list {
		if in.op == opStore && liveOut(i)[in.arg/64]&(1<<(in.arg%64)) == 0 {
			list[i] = instr{opPop, 0, in.pos}
			n++
		}
	}
	return n
}
