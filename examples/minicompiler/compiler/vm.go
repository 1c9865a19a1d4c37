package compiler

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxStackDepth bounds the VM's operand stack.
const MaxStackDepth = 1 << 16

// ErrStepLimit is wrapped by the RuntimeError of a program stopped after its step budget.
var ErrStepLimit = errors.New("step limit reached")

// ErrDivideByZero is wrapped by the RuntimeError of a division or remainder by zero.
var ErrDivideByZero = errors.New("division by zero")

// A RuntimeError is a failure of a running program. Line and Col are its source position
// when the program has debug information, 0 otherwise.
type RuntimeError struct {
	PC        int
	File      string
	Line, Col int
	Err       error
}

// Error formats e with the source position when known, or the code offset.
func (e *RuntimeError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: runtime error: %v (pc %#x)", e.File, e.Line, e.Col, e.Err, e.PC)
	}
	return fmt.Sprintf("runtime error at pc %#x: %v (compile with -g for source positions)", e.PC, e.Err)
}

// Unwrap returns the underlying error.
func (e *RuntimeError) Unwrap() error { return e.Err }

// RunResult describes an execution.
type RunResult struct {
	Steps int64 // instructions executed
}

// Run executes the program, writing what it prints to w. It stops with a RuntimeError
// wrapping ErrStepLimit after maxSteps instructions (maxSteps <= 0 means no limit), and with
// a RuntimeError on division by zero, stack overflow or invalid bytecode; it never panics,
// whatever the bytecode. An error writing to w is returned as is.
func (p *Program) Run(w io.Writer, maxSteps int64) (RunResult, error) {
	bw := bufio.NewWriter(w)
	res, err := p.run(bw, maxSteps)
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	return res, err
}

func (p *Program) run(w *bufio.Writer, maxSteps int64) (RunResult, error) {
	if p.NumVars < 0 || p.NumVars > maxVars {
		return RunResult{}, &RuntimeError{Err: fmt.Errorf("invalid program: %d variables", p.NumVars)}
	}
	t := p.Target
	if t != VM32 && t != VM64 {
		return RunResult{}, &RuntimeError{Err: fmt.Errorf("invalid program: target %v", t)}
	}
	vars := make([]int64, p.NumVars)
	stack := make([]int64, 0, min(max(p.MaxStack, 16), MaxStackDepth))
	code := p.Code
	var steps int64
	var num []byte
	pc := 0
	fail := func(err error) (RunResult, error) {
		e := &RuntimeError{PC: pc, Err: err}
		if p.Debug != nil {
			e.File = p.Debug.File
			e.Line, e.Col = p.Debug.LineAt(pc)
		}
		return RunResult{Steps: steps}, e
	}
	for {
		if maxSteps > 0 && steps >= maxSteps {
			return fail(fmt.Errorf("%w (%d instructions)", ErrStepLimit, maxSteps))
		}
		steps++
		o, arg, size, ok := decode(code, pc)
		if !ok {
			if pc == len(code) {
				return RunResult{Steps: steps}, nil // running off the end halts
			}
			return fail(fmt.Errorf("invalid instruction %#02x", uint8(o)))
		}
		info := &opTable[o]
		if len(stack) < info.pops {
			return fail(fmt.Errorf("stack underflow in %v", o))
		}
		if len(stack)-info.pops+info.pushes > MaxStackDepth {
			return fail(fmt.Errorf("stack overflow (%d values)", MaxStackDepth))
		}
		next := pc + size
		n := len(stack)
		switch {
		case o.isBinary():
			v, ok := binop(o, stack[n-2], stack[n-1], t)
			if !ok {
				return fail(ErrDivideByZero)
			}
			stack[n-2] = v
			stack = stack[:n-1]
		case o.isUnary():
			stack[n-1] = unop(o, stack[n-1], t)
		default:
			switch o {
			case opHalt:
				return RunResult{Steps: steps}, nil
			case opPushI:
				stack = append(stack, arg)
			case opPushK:
				if int(arg) >= len(p.Consts) {
					return fail(fmt.Errorf("constant #%d out of range", arg))
				}
				stack = append(stack, t.wrap(p.Consts[arg]))
			case opLoad:
				if int(arg) >= len(vars) {
					return fail(fmt.Errorf("variable %d out of range", arg))
				}
				stack = append(stack, vars[arg])
			case opStore:
				if int(arg) >= len(vars) {
					return fail(fmt.Errorf("variable %d out of range", arg))
				}
				vars[arg] = stack[n-1]
				stack = stack[:n-1]
			case opPrint:
				num = strconv.AppendInt(num[:0], stack[n-1], 10)
				stack = stack[:n-1]
				if _, err := w.Write(num); err != nil {
					return RunResult{Steps: steps}, err
				}
			case opPrintS:
				if int(arg) >= len(p.Strings) {
					return fail(fmt.Errorf("string #%d out of range", arg))
				}
				if _, err := w.WriteString(p.Strings[arg]); err != nil {
					return RunResult{Steps: steps}, err
				}
			case opDup:
				stack = append(stack, stack[n-1])
			case opSwap:
				stack[n-2], stack[n-1] = stack[n-1], stack[n-2]
			case opOver:
				stack = append(stack, stack[n-2])
			case opPop:
				stack = stack[:n-1]
			case opJmp:
				next = int(arg)
			case opJz, opJnz:
				v := stack[n-1]
				stack = stack[:n-1]
				if (v == 0) == (o == opJz) {
					next = int(arg)
				}
			}
		}
		if next < 0 || next > len(code) {
			return fail(fmt.Errorf("jump out of the code to %#x", next))
		}
		pc = next
	}
}
