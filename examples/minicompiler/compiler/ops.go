package compiler

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// An op is a bytecode operation. The operand of an instruction follows its opcode byte,
// little-endian, with the width given by opTable.
type op uint8

const (
	opHalt   op = iota // stop
	opPushI            // int8: push the operand
	opPushK            // u16: push Consts[operand]
	opLoad             // u16: push variable operand
	opStore            // u16: pop into variable operand
	opPrint            // pop and print in decimal
	opPrintS           // u16: print Strings[operand]
	opAdd              // pop y, pop x, push x+y (and so on for the binary operators)
	opSub
	opMul
	opDiv // traps on division by zero
	opMod // traps on division by zero
	opAnd
	opOr
	opXor
	opShl // shift count modulo the width
	opShr // arithmetic; shift count modulo the width
	opEq  // comparisons push 1 or 0
	opNe
	opLt
	opLe
	opGt
	opGe
	opNeg  // pop x, push -x
	opNot  // pop x, push 1 if x == 0, else 0
	opBNot // pop x, push ^x
	opInc  // pop x, push x+1
	opDec  // pop x, push x-1
	opDup  // push a copy of the top
	opSwap // exchange the top two
	opOver // push a copy of the second from the top
	opPop  // discard the top
	opJmp  // u32: jump to the code offset operand
	opJz   // u32: pop, and jump when it is 0
	opJnz  // u32: pop, and jump when it is not 0
	numOps

	// Pseudo-instructions of the compiler's instruction lists, never in bytecode.
	opPush  op = 0xf0 // push arg: assembled as PUSHI or PUSHK
	opLabel op = 0xf1 // a jump target, arg is its number
)

// opInfo describes an op.
type opInfo struct {
	name    string
	operand int  // operand bytes
	pops    int  // values popped
	pushes  int  // values pushed
	pure    bool // no effect besides the stack, and cannot trap
	weight  int  // execution cost beyond its size, for the superoptimizer's cost model
}

// opTable describes the bytecode ops. It is a constant table.
var opTable = [numOps]opInfo{
	opHalt:   {"HALT", 0, 0, 0, false, 0},
	opPushI:  {"PUSHI", 1, 0, 1, true, 0},
	opPushK:  {"PUSHK", 2, 0, 1, true, 1},
	opLoad:   {"LOAD", 2, 0, 1, true, 1},
	opStore:  {"STORE", 2, 1, 0, false, 1},
	opPrint:  {"PRINT", 0, 1, 0, false, 0},
	opPrintS: {"PRINTS", 2, 0, 0, false, 0},
	opAdd:    {"ADD", 0, 2, 1, true, 0},
	opSub:    {"SUB", 0, 2, 1, true, 0},
	opMul:    {"MUL", 0, 2, 1, true, 2},
	opDiv:    {"DIV", 0, 2, 1, false, 8},
	opMod:    {"MOD", 0, 2, 1, false, 8},
	opAnd:    {"AND", 0, 2, 1, true, 0},
	opOr:     {"OR", 0, 2, 1, true, 0},
	opXor:    {"XOR", 0, 2, 1, true, 0},
	opShl:    {"SHL", 0, 2, 1, true, 0},
	opShr:    {"SHR", 0, 2, 1, true, 0},
	opEq:     {"EQ", 0, 2, 1, true, 0},
	opNe:     {"NE", 0, 2, 1, true, 0},
	opLt:     {"LT", 0, 2, 1, true, 0},
	opLe:     {"LE", 0, 2, 1, true, 0},
	opGt:     {"GT", 0, 2, 1, true, 0},
	opGe:     {"GE", 0, 2, 1, true, 0},
	opNeg:    {"NEG", 0, 1, 1, true, 0},
	opNot:    {"NOT", 0, 1, 1, true, 0},
	opBNot:   {"BNOT", 0, 1, 1, true, 0},
	opInc:    {"INC", 0, 1, 1, true, 0},
	opDec:    {"DEC", 0, 1, 1, true, 0},
	opDup:    {"DUP", 0, 1, 2, true, 0},
	opSwap:   {"SWAP", 0, 2, 2, true, 0},
	opOver:   {"OVER", 0, 2, 3, true, 0},
	opPop:    {"POP", 0, 1, 0, true, 0},
	opJmp:    {"JMP", 4, 0, 0, false, 1},
	opJz:     {"JZ", 4, 1, 0, false, 1},
	opJnz:    {"JNZ", 4, 1, 0, false, 1},
}

func (o op) String() string {
	switch {
	case o < numOps:
		return opTable[o].name
	case o == opPush:
		return "PUSH"
	case o == opLabel:
		return "LABEL"
	}
	return fmt.Sprintf("op(%#02x)", uint8(o))
}

// isBinary reports whether o is a binary arithmetic, bitwise or comparison operator.
func (o op) isBinary() bool { return o >= opAdd && o <= opGe }

// isUnary reports whether o is a unary operator.
func (o op) isUnary() bool { return o >= opNeg && o <= opDec }

// isJump reports whether o is a jump.
func (o op) isJump() bool { return o == opJmp || o == opJz || o == opJnz }

// binop applies a binary operator with the target's arithmetic. ok is false when it traps
// (division by zero).
func binop(o op, x, y int64, t Target) (v int64, ok bool) {
	switch o {
	case opAdd:
		v = x + y
	case opSub:
		v = x - y
	case opMul:
		v = x * y
	case opDiv:
		if y == 0 {
			return 0, false
		}
		v = x / y // MinInt64 / -1 wraps in Go, as it does on the machine
	case opMod:
		if y == 0 {
			return 0, false
		}
		v = x % y
	case opAnd:
		v = x & y
	case opOr:
		v = x | y
	case opXor:
		v = x ^ y
	case opShl:
		v = x << (uint64(y) & uint64(t.Bits()-1))
	case opShr:
		v = x >> (uint64(y) & uint64(t.Bits()-1))
	case opEq:
		v = b2i(x == y)
	case opNe:
		v = b2i(x != y)
	case opLt:
		v = b2i(x < y)
	case opLe:
		v = b2i(x <= y)
	case opGt:
		v = b2i(x > y)
	case opGe:
		v = b2i(x >= y)
	default:
		panic(fmt.Sprintf("binop %v", o))
	}
	return t.wrap(v), true
}

// unop applies a unary operator with the target's arithmetic.
func unop(o op, x int64, t Target) int64 {
	switch o {
	case opNeg:
		return t.wrap(-x)
	case opNot:
		return b2i(x == 0)
	case opBNot:
		return ^x // the complement of a sign-extended value is sign-extended
	case opInc:
		return t.wrap(x + 1)
	case opDec:
		return t.wrap(x - 1)
	}
	panic(fmt.Sprintf("unop %v", o))
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// An instr is an instruction of the compiler's instruction lists: a bytecode op or a
// pseudo-op, its argument (a value, slot, pool index or label number), and the source
// position it was generated from.
type instr struct {
	op  op
	arg int64
	pos Pos
}

func (in instr) String() string {
	switch {
	case in.op == opLabel:
		return fmt.Sprintf("L%d:", in.arg)
	case in.op.isJump():
		return fmt.Sprintf("%v L%d", in.op, in.arg)
	case in.op == opPush || in.op == opLoad || in.op == opStore || in.op == opPrintS || in.op == opPushI || in.op == opPushK:
		return fmt.Sprintf("%v %d", in.op, in.arg)
	}
	return in.op.String()
}

// pushSize returns the encoded size of pushing v.
func pushSize(v int64) int {
	if v >= math.MinInt8 && v <= math.MaxInt8 {
		return 2
	}
	return 3
}

// size returns the encoded size of an instruction, 0 for a label.
func (in instr) size() int {
	switch in.op {
	case opLabel:
		return 0
	case opPush:
		return pushSize(in.arg)
	}
	return 1 + opTable[in.op].operand
}

// cost is the superoptimizer's cost of an instruction: its size and its weight.
func (in instr) cost() int {
	if in.op == opPush {
		if pushSize(in.arg) == 2 {
			return 2
		}
		return 3 + opTable[opPushK].weight
	}
	return in.size() + opTable[in.op].weight
}

// assembly is the result of assembling an instruction list.
type assembly struct {
	code    []byte
	consts  []int64
	strings []string
	lines   []LineEntry
}

// assemble encodes an instruction list (jumps refer to labels) into bytecode, interning the
// constants; strs is the string pool that PRINTS operands index.
func assemble(list []instr, strs []string) (assembly, error) {
	// Pass 1: the offset of every label.
	labels := map[int64]int{}
	pc := 0
	for _, in := range list {
		if in.op == opLabel {
			labels[in.arg] = pc
		}
		pc += in.size()
	}
	if uint64(pc) > math.MaxUint32 {
		return assembly{}, fmt.Errorf("program too large: %d bytes of code", pc)
	}
	a := assembly{code: make([]byte, 0, pc), strings: strs}
	constIdx := map[int64]int{}
	var last Pos
	for _, in := range list {
		if in.op == opLabel {
			continue
		}
		if in.pos != last && in.pos != (Pos{}) {
			a.lines = append(a.lines, LineEntry{PC: uint32(len(a.code)), Line: uint32(in.pos.Line), Col: uint32(in.pos.Col)})
			last = in.pos
		}
		switch in.op {
		case opPush:
			if pushSize(in.arg) == 2 {
				a.code = append(a.code, byte(opPushI), byte(int8(in.arg)))
				continue
			}
			i, ok := constIdx[in.arg]
			if !ok {
				i = len(a.consts)
				if i > math.MaxUint16 {
					return assembly{}, &Error{Pos: in.pos, Msg: fmt.Sprintf("too many distinct constants (the limit is %d)", math.MaxUint16+1)}
				}
				constIdx[in.arg] = i
				a.consts = append(a.consts, in.arg)
			}
			a.code = append(a.code, byte(opPushK))
			a.code = binary.LittleEndian.AppendUint16(a.code, uint16(i))
		case opJmp, opJz, opJnz:
			target, ok := labels[in.arg]
			if !ok {
				return assembly{}, fmt.Errorf("internal error: jump to undefined label L%d", in.arg)
			}
			a.code = append(a.code, byte(in.op))
			a.code = binary.LittleEndian.AppendUint32(a.code, uint32(target))
		case opLoad, opStore, opPrintS:
			a.code = append(a.code, byte(in.op))
			a.code = binary.LittleEndian.AppendUint16(a.code, uint16(in.arg))
		default:
			a.code = append(a.code, byte(in.op))
		}
	}
	return a, nil
}

// decode returns the op and operand of the instruction at pc, and its size. ok is false
// when the instruction is invalid or truncated.
func decode(code []byte, pc int) (o op, arg int64, size int, ok bool) {
	if pc < 0 || pc >= len(code) {
		return 0, 0, 0, false
	}
	o = op(code[pc])
	if o >= numOps {
		return o, 0, 1, false
	}
	n := opTable[o].operand
	if pc+1+n > len(code) {
		return o, 0, 1, false
	}
	switch n {
	case 1:
		arg = int64(int8(code[pc+1]))
	case 2:
		arg = int64(binary.LittleEndian.Uint16(code[pc+1:]))
	case 4:
		arg = int64(binary.LittleEndian.Uint32(code[pc+1:]))
	}
	return o, arg, 1 + n, true
}

// Disassemble returns a listing of the program's bytecode: one instruction per line with its
// offset, and with debug information the source position it came from and variable names.
func (p *Program) Disassemble() string {
	var b strings.Builder
	fmt.Fprintf(&b, "; %s, %s, -O%d: %d bytes of code, %d constants, %d strings, %d variables, max stack %d\n",
		p.CompilerVersion, p.Target, p.OptLevel, len(p.Code), len(p.Consts), len(p.Strings), p.NumVars, p.MaxStack)
	for pc := 0; pc < len(p.Code); {
		o, arg, size, ok := decode(p.Code, pc)
		if !ok {
			fmt.Fprintf(&b, "%06x  <invalid %#02x>\n", pc, p.Code[pc])
			pc++
			continue
		}
		line := fmt.Sprintf("%06x  %-6s", pc, o)
		comment := ""
		switch o {
		case opPushI:
			line += fmt.Sprintf(" %d", arg)
		case opJmp, opJz, opJnz:
			line += fmt.Sprintf(" %06x", arg)
		case opPushK:
			line += fmt.Sprintf(" #%d", arg)
			if int(arg) < len(p.Consts) {
				comment = fmt.Sprint(p.Consts[arg])
			}
		case opLoad, opStore:
			line += fmt.Sprintf(" %d", arg)
			if p.Debug != nil && int(arg) < len(p.Debug.Vars) {
				comment = p.Debug.Vars[arg]
			}
		case opPrintS:
			line += fmt.Sprintf(" #%d", arg)
			if int(arg) < len(p.Strings) {
				comment = fmt.Sprintf("%q", p.Strings[arg])
			}
		}
		if p.Debug != nil {
			if l, c := p.Debug.LineAt(pc); l > 0 {
				if comment != "" {
					comment += " "
				}
				comment += fmt.Sprintf("@%s:%d:%d", p.Debug.File, l, c)
			}
		}
		if comment != "" {
			line = fmt.Sprintf("%-22s ; %s", line, comment)
		}
		b.WriteString(line)
		b.WriteByte('\n')
		pc += size
	}
	return b.String()
}
