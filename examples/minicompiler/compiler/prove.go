package compiler

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// The prover decides, soundly but incompletely, whether two pure instruction sequences
// compute the same stack: it evaluates both symbolically into normal forms and compares
// them. A normal form is a linear combination, modulo 2^width, of atoms (the inputs, and
// applications of the operators that are not linear) plus a constant; equal normal forms
// mean equal values for every input, because every rewrite below is an identity of the
// target's arithmetic. Different normal forms prove nothing, and the superoptimizer then
// rejects the candidate, even if it agreed on every test vector.

// A term is a normal form: c + sum of k*atom over atoms, coefficients non-zero and wrapped,
// atoms sorted by key.
type term struct {
	c     int64
	atoms []coef
}

// A coef is an atom with its coefficient.
type coef struct {
	k int64
	a *atom
}

// An atom is an input or an operator applied to normal forms.
type atom struct {
	key     string
	op      string
	args    []term
	boolean bool // its value is 0 or 1
}

func (t term) key() string {
	if len(t.atoms) == 0 {
		return strconv.FormatInt(t.c, 10)
	}
	b := strconv.AppendInt(nil, t.c, 10)
	for _, c := range t.atoms {
		if c.k >= 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, c.k, 10)
		b = append(b, '*')
		b = append(b, c.a.key...)
	}
	return string(b)
}

func (t term) isConst() bool { return len(t.atoms) == 0 }

// prover holds the target whose arithmetic the normal forms follow.
type prover struct{ t Target }

func (p prover) constant(v int64) term { return term{c: p.t.wrap(v)} }

func (p prover) atomTerm(a *atom) term { return term{atoms: []coef{{1, a}}} }

func newAtom(op string, boolean bool, args ...term) *atom {
	keys := make([]string, len(args))
	for i, a := range args {
		keys[i] = a.key()
	}
	return &atom{key: op + "(" + strings.Join(keys, ",") + ")", op: op, args: args, boolean: boolean}
}

// add returns x + k*y.
func (p prover) add(x term, k int64, y term) term {
	out := term{c: p.t.wrap(x.c + k*y.c)}
	i, j := 0, 0
	for i < len(x.atoms) || j < len(y.atoms) {
		switch {
		case j == len(y.atoms) || i < len(x.atoms) && x.atoms[i].a.key < y.atoms[j].a.key:
			out.atoms = append(out.atoms, x.atoms[i])
			i++
		case i == len(x.atoms) || y.atoms[j].a.key < x.atoms[i].a.key:
			if v := p.t.wrap(k * y.atoms[j].k); v != 0 {
				out.atoms = append(out.atoms, coef{v, y.atoms[j].a})
			}
			j++
		default:
			if v := p.t.wrap(x.atoms[i].k + k*y.atoms[j].k); v != 0 {
				out.atoms = append(out.atoms, coef{v, x.atoms[i].a})
			}
			i++
			j++
		}
	}
	return out
}

// scale returns k*x.
func (p prover) scale(x term, k int64) term { return p.add(term{}, k, x) }

// isBool reports whether x is 0 or 1 for every input: a constant 0 or 1, b, or 1 - b, for
// a boolean atom b.
func isBool(x term) bool {
	switch {
	case x.isConst():
		return x.c == 0 || x.c == 1
	case len(x.atoms) == 1 && x.atoms[0].a.boolean:
		return x.c == 0 && x.atoms[0].k == 1 || x.c == 1 && x.atoms[0].k == -1
	}
	return false
}

// isZero returns the normal form of x == 0.
func (p prover) isZero(x term) term {
	if x.isConst() {
		return p.constant(b2i(x.c == 0))
	}
	if isBool(x) {
		return p.add(p.constant(1), -1, x) // !b is 1 - b
	}
	if len(x.atoms) == 1 && x.c == 0 {
		a := x.atoms[0].a
		if x.atoms[0].k%2 != 0 {
			// An odd coefficient is invertible modulo 2^width: k*a == 0 exactly when a == 0.
			if a.op == "mod" && a.args[1].isConst() {
				// a % 2^n == 0 exactly when the low n bits of a are 0.
				if m := a.args[1].c; m != 0 && m != -m && bits.OnesCount64(uint64(abs(m))) == 1 {
					return p.isZero(p.and(a.args[0], p.constant(abs(m)-1)))
				}
			}
			x = p.atomTerm(a)
		}
	}
	// x == 0 exactly when -x == 0: one normal form for both.
	if neg := p.scale(x, -1); neg.key() < x.key() {
		x = neg
	}
	return p.atomTerm(newAtom("z", true, x))
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// and returns the normal form of x & y.
func (p prover) and(x, y term) term {
	switch {
	case x.isConst() && y.isConst():
		return p.constant(x.c & y.c)
	case y.isConst() && !x.isConst():
		x, y = y, x
	}
	if x.isConst() {
		m := x.c
		switch {
		case m == 0:
			return p.constant(0)
		case m == -1:
			return y
		case m == 1 && isBool(y):
			return y
		case y.c < 0:
			// ~z & m == m - (z & m), with z = -1 - y: the normal form keeps the operand
			// whose constant is not negative.
			return p.add(x, -1, p.and(x, p.add(p.constant(-1), -1, y)))
		}
		return p.atomTerm(newAtom("and", m == 1, y, x))
	}
	if x.key() == y.key() {
		return x
	}
	return p.atomTerm(newAtom("and", isBool(x) && isBool(y), sorted(x, y)...))
}

// sorted returns the operands of a commutative operator in a canonical order.
func sorted(x, y term) []term {
	if y.key() < x.key() {
		return []term{y, x}
	}
	return []term{x, y}
}

// binary returns the normal form of x op y, for op a binary operator, or ok false for an
// operator the prover does not know (a division by a non-constant).
func (p prover) binary(o op, x, y term) (term, bool) {
	w := uint64(p.t.Bits() - 1)
	if x.isConst() && y.isConst() {
		v, ok := binop(o, x.c, y.c, p.t)
		return p.constant(v), ok
	}
	switch o {
	case opAdd:
		return p.add(x, 1, y), true
	case opSub:
		return p.add(x, -1, y), true
	case opMul:
		if y.isConst() {
			return p.scale(x, y.c), true
		}
		if x.isConst() {
			return p.scale(y, x.c), true
		}
		return p.atomTerm(newAtom("mul", false, sorted(x, y)...)), true
	case opShl:
		if y.isConst() {
			return p.scale(x, int64(1)<<(uint64(y.c)&w)), true
		}
		return p.atomTerm(newAtom("shl", false, x, y)), true
	case opShr:
		if y.isConst() {
			n := uint64(y.c) & w
			if n == 0 {
				return x, true
			}
			return p.atomTerm(newAtom("shr", isBool(x), x, p.constant(int64(n)))), true
		}
		return p.atomTerm(newAtom("shr", isBool(x), x, y)), true
	case opAnd:
		return p.and(x, y), true
	case opOr, opXor:
		name := "or"
		if o == opXor {
			name = "xor"
		}
		if y.isConst() {
			x, y = y, x
		}
		switch {
		case x.isConst() && x.c == 0:
			return y, true
		case x.isConst() && x.c == -1 && o == opOr:
			return p.constant(-1), true
		case x.isConst() && x.c == -1:
			return p.add(p.constant(-1), -1, y), true // y ^ -1 is ~y
		case x.key() == y.key() && o == opOr:
			return x, true
		case x.key() == y.key():
			return p.constant(0), true
		}
		return p.atomTerm(newAtom(name, false, sorted(x, y)...)), true
	case opDiv, opMod:
		if !y.isConst() || y.c == 0 {
			return term{}, false
		}
		if y.c == 1 || y.c == -1 {
			if o == opMod {
				return p.constant(0), true
			}
			return p.scale(x, y.c), true
		}
		name := "div"
		if o == opMod {
			name = "mod"
		}
		return p.atomTerm(newAtom(name, false, x, y)), true
	case opEq:
		return p.isZero(p.add(x, -1, y)), true
	case opNe:
		return p.isZero(p.isZero(p.add(x, -1, y))), true
	case opLt, opGt, opLe, opGe:
		if o == opGt || o == opLe {
			x, y = y, x // x > y is y < x, x <= y is !(y < x)
		}
		var lt term
		switch {
		case x.key() == y.key():
			lt = p.constant(0)
		default:
			lt = p.atomTerm(newAtom("lt", true, x, y))
		}
		if o == opLe || o == opGe {
			return p.isZero(lt), true
		}
		return lt, true
	}
	return term{}, false
}

// eval evaluates seq symbolically on a stack of input atoms, and returns the normal forms
// of the stack it leaves. ok is false when seq uses what the prover does not know.
func (p prover) eval(seq []instr, inputs int) (stack []term, ok bool) {
	for i := range inputs {
		stack = append(stack, p.atomTerm(&atom{key: fmt.Sprintf("s%d", i), op: "input"}))
	}
	for _, in := range seq {
		pops, _ := effect(in)
		if len(stack) < pops {
			return nil, false
		}
		n := len(stack)
		switch o := in.op; {
		case o == opPush:
			stack = append(stack, p.constant(in.arg))
		case o == opLoad:
			stack = append(stack, p.atomTerm(&atom{key: fmt.Sprintf("v%d", in.arg), op: "input"}))
		case o.isBinary():
			r, ok := p.binary(o, stack[n-2], stack[n-1])
			if !ok {
				return nil, false
			}
			stack = append(stack[:n-2], r)
		case o == opNeg:
			stack[n-1] = p.scale(stack[n-1], -1)
		case o == opNot:
			stack[n-1] = p.isZero(stack[n-1])
		case o == opBNot:
			stack[n-1] = p.add(p.constant(-1), -1, stack[n-1])
		case o == opInc:
			stack[n-1] = p.add(stack[n-1], 1, p.constant(1))
		case o == opDec:
			stack[n-1] = p.add(stack[n-1], -1, p.constant(1))
		case o == opDup:
			stack = append(stack, stack[n-1])
		case o == opSwap:
			stack[n-2], stack[n-1] = stack[n-1], stack[n-2]
		case o == opOver:
			stack = append(stack, stack[n-2])
		case o == opPop:
			stack = stack[:n-1]
		default:
			return nil, false
		}
	}
	return stack, true
}

// equivalent reports whether a and b provably leave the same stack, given inputs values
// below it.
func (p prover) equivalent(a, b []instr, inputs int) bool {
	x, ok := p.eval(a, inputs)
	if !ok {
		return false
	}
	y, ok := p.eval(b, inputs)
	if !ok {
		return false
	}
	return slices.EqualFunc(x, y, func(s, t term) bool { return s.key() == t.key() })
}
