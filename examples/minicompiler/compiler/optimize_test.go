package compiler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// listing compiles src and returns its bytecode listing.
func listing(t *testing.T, src string, level int) (string, Program) {
	t.Helper()
	p, err := Compile(context.Background(), Options{CompilerVersion: Version, OptLevel: level, Source: src})
	if err != nil {
		t.Fatal(err)
	}
	return p.Disassemble(), p
}

// ops returns the opcodes of a listing, one per line, without offsets and operands.
func ops(listing string) []string {
	var out []string
	for _, line := range strings.Split(listing, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] != ";" {
			out = append(out, f[1])
		}
	}
	return out
}

func count(listing, op string) int {
	n := 0
	for _, o := range ops(listing) {
		if o == op {
			n++
		}
	}
	return n
}

// unknownX declares x with a value that no pass computes at compile time (a loop sets it),
// so that what a test checks is not just folded away by constant propagation.
const unknownX = "let x = 0; let i = 0; while i < 21 { x = x + 1; i = i + 1; }\n"

// TestOptimizations checks what each pass does to the code, level by level: an
// instruction that must disappear at a level, and must still be there below it.
func TestOptimizations(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		level int    // the first level that removes it (or adds it)
		op    string // an instruction that disappears
		added bool   // op appears at level instead
	}{
		{"constant folding", "print 2 * 3 + 4 * 5;", 1, "MUL", false},
		{"folding with wrap-around", "print (1 << 62) * 4 + 7;", 1, "SHL", false},
		{"algebraic identity", unknownX + "print x * 1 + 0;", 1, "MUL", false},
		{"unreachable branch", unknownX + `if 1 > 2 { print "no", x / 3; } print x;`, 1, "DIV", false},
		{"loop that never runs", unknownX + `while 0 { x = x / 2; } print x;`, 1, "DIV", false},
		{"store never read", unknownX + "let unused = x * 7; print x;", 1, "MUL", false},
		{"store read only by itself", unknownX + "let acc = 0; let j = 0; while j < 3 { acc = acc * 3 + j; j = j + 1; } print x;", 1, "MUL", false},
		{"constant propagation", unknownX + `let debug = 0; if debug { print "debug", x * 2; } print x;`, 2, "MUL", false},
		{"propagation through assignments", unknownX + `let k = 3; let m = k + 1; print x / m;`, 2, "ADD", false},
		{"overwritten store", unknownX + "let y = x; y = x * 3; y = x + 1; print y;", 2, "MUL", false},
		{"branch on a constant", unknownX + "if 1 { print x; }", 1, "JZ", false},
		{"jump to the next instruction", unknownX + "if x { } else { print 0; } print 1;", 1, "JZ", false},
		{"not before a branch", unknownX + "if !(x < 2) { print 1; }", 1, "NOT", false},
		{"multiply by two is cheaper as an addition", unknownX + "print x * 2;", 2, "MUL", false},
		{"even test is cheaper as a mask", unknownX + "print x % 2 == 0;", 2, "MOD", false},
		{"double negation", unknownX + "print -(0 - x);", 1, "NEG", false},
		{"add one", unknownX + "print x + 1;", 2, "INC", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for level := 0; level <= MaxOptLevel; level++ {
				l, _ := listing(t, tt.src, level)
				present := count(l, tt.op) > 0
				if wantPresent := (level < tt.level) != tt.added; present != wantPresent {
					t.Errorf("-O%d: %s present %v, want %v:\n%s", level, tt.op, present, wantPresent, l)
				}
				got, err := compileRun(t, tt.src, level, VM64, false)
				want, _ := compileRun(t, tt.src, 0, VM64, false)
				if err != nil || got != want {
					t.Errorf("-O%d printed %q (error %v), -O0 %q", level, got, err, want)
				}
			}
		})
	}
}

// TestOptimizationShrinks checks that each level makes the sample smaller and faster.
func TestOptimizationShrinks(t *testing.T) {
	src := `let i = 0; let s = 0; let debug = 0;
while i < 1000 { if i % 2 == 0 { s = s + i * 2; } else { s = s - 1; } if debug { print i; } i = i + 1; }
print s;`
	var prevSize int
	var prevSteps int64
	for level := 0; level <= MaxOptLevel; level++ {
		_, p := listing(t, src, level)
		var out bytes.Buffer
		res, err := p.Run(&out, 1e7)
		if err != nil || out.String() != "498500\n" {
			t.Fatalf("-O%d: output %q, error %v", level, out.String(), err)
		}
		// Loop rotation trades a jump for one test per iteration: -O1 is faster, not smaller.
		if level > 0 && (len(p.Code) > prevSize || res.Steps >= prevSteps) {
			t.Errorf("-O%d: %d bytes and %d steps, more than -O%d's %d bytes or as many steps (%d)", level, len(p.Code), res.Steps, level-1, prevSize, prevSteps)
		}
		prevSize, prevSteps = len(p.Code), res.Steps
	}
}

// TestSuperoptSearch checks the superoptimizer on single windows.
func TestSuperoptSearch(t *testing.T) {
	tests := []struct {
		name string
		win  []instr
		want string // the replacement, or "" for none
	}{
		{"double negation", []instr{{op: opNeg}, {op: opNeg}}, "[]"},
		{"add zero", []instr{{op: opPush, arg: 0}, {op: opAdd}}, "[]"},
		{"add one", []instr{{op: opPush, arg: 1}, {op: opAdd}}, "[INC]"},
		{"subtract one", []instr{{op: opPush, arg: 1}, {op: opSub}}, "[DEC]"},
		{"swap before a commutative operator", []instr{{op: opSwap}, {op: opMul}}, "[MUL]"},
		{"negated comparison", []instr{{op: opLt}, {op: opNot}}, "[GE]"},
		{"times minus one", []instr{{op: opPush, arg: -1}, {op: opMul}}, "[NEG]"},
		{"load twice", []instr{{op: opLoad, arg: 0}, {op: opLoad, arg: 0}}, "[LOAD 0 DUP]"},
		{"double", []instr{{op: opLoad, arg: 0}, {op: opPush, arg: 2}, {op: opMul}}, "[LOAD 0 DUP ADD]"},
		{"even", []instr{{op: opPush, arg: 2}, {op: opMod}, {op: opPush, arg: 0}, {op: opEq}}, "[BNOT PUSH 1 AND]"},
		{"nothing cheaper", []instr{{op: opLoad, arg: 0}, {op: opLoad, arg: 1}, {op: opAdd}}, ""},
		{"shift is not division", []instr{{op: opPush, arg: 2}, {op: opDiv}}, ""},
	}
	for _, target := range targets {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%v/%s", target, tt.name), func(t *testing.T) {
				var stats Stats
				s := newSuperopt(context.Background(), target, &stats)
				var vars []int64
				for _, in := range tt.win {
					if in.op == opLoad && !slices.Contains(vars, in.arg) {
						vars = append(vars, in.arg)
					}
				}
				r := s.search(tt.win, vars)
				got := ""
				if r.found {
					got = fmt.Sprint(r.seq)
				}
				if got != tt.want {
					t.Errorf("search(%v) = %q, want %q", tt.win, got, tt.want)
				}
				if stats.Candidates == 0 && tt.want != "[]" {
					t.Errorf("no candidate evaluated")
				}
			})
		}
	}
}

// TestSuperoptRewritesHold checks every rewrite the superoptimizer makes on random programs
// against vectors it has not seen.
func TestSuperoptRewritesHold(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, target := range targets {
		var stats Stats
		s := newSuperopt(context.Background(), target, &stats)
		programs, size := 4, 8
		if raceEnabled {
			programs, size = 2, 3
		}
		for range programs {
			src := randomProgram(rng, target, size)
			prog, err := parse("", src, target)
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			vars, err := resolve("", prog)
			if err != nil {
				t.Fatal(err)
			}
			list, _ := generate(prog, 2)
			deadStores(list, len(vars))
			if _, _, err := s.run(list); err != nil {
				t.Fatal(err)
			}
		}
		if stats.Rewrites == 0 {
			t.Fatalf("%v: no rewrites in %d random programs", target, programs)
		}
		checked := 0
		for key, r := range s.memo {
			if !r.found {
				continue
			}
			win := parseKey(t, key)
			inputs, _ := shape(win)
			for range 1000 {
				var v vector
				for i := range v.stack {
					v.stack[i] = interesting(rng, target)
				}
				for i := range v.vars {
					v.vars[i] = interesting(rng, target)
				}
				want, _ := s.eval(win, &v, inputs)
				got, _ := s.eval(r.seq, &v, inputs)
				if !slices.Equal(got, want) {
					t.Fatalf("%v: %v rewritten to %v, but on %+v it gives %v, not %v", target, win, r.seq, v, got, want)
				}
			}
			checked++
		}
		t.Logf("%v: %d rewrites of %d windows checked", target, checked, len(s.memo))
	}
}

// parseKey turns a memo key back into its window.
func parseKey(t *testing.T, key string) []instr {
	var win []instr
	for _, f := range strings.Fields(key) {
		o, a, _ := strings.Cut(f, ":")
		code, err := strconv.ParseUint(o, 10, 8)
		if err != nil {
			t.Fatal(err)
		}
		arg, err := strconv.ParseInt(a, 36, 64)
		if err != nil {
			t.Fatal(err)
		}
		win = append(win, instr{op: op(code), arg: arg})
	}
	return win
}

// interesting returns a random value, often a small one or an edge of the target's range.
func interesting(rng *rand.Rand, t Target) int64 {
	switch rng.IntN(4) {
	case 0:
		return int64(rng.IntN(70) - 35)
	case 1:
		edges := []int64{t.maxInt(), -t.maxInt() - 1, t.maxInt() - 1, -t.maxInt(), 1 << 30, -(1 << 30)}
		return t.wrap(edges[rng.IntN(len(edges))] + int64(rng.IntN(3)-1))
	}
	return t.wrap(int64(rng.Uint64()) >> rng.IntN(64))
}

// randomProgram returns a random terminating program of about size top-level statements:
// straight-line arithmetic over a few variables, branches, bounded loops, prints, and
// divisions that may fail.
func randomProgram(rng *rand.Rand, target Target, size int) string {
	var b strings.Builder
	nvars := 2 + rng.IntN(4)
	// lit writes a value as an expression: the most negative literal does not exist.
	lit := func(v int64) string {
		if v < 0 {
			return fmt.Sprintf("(0 - %d - 1)", -(v + 1))
		}
		return fmt.Sprint(v)
	}
	for i := range nvars {
		fmt.Fprintf(&b, "let v%d = %s;\n", i, lit(interesting(rng, target)))
	}
	var expr func(depth int) string
	expr = func(depth int) string {
		if depth == 0 || rng.IntN(3) == 0 {
			if rng.IntN(2) == 0 {
				return fmt.Sprintf("v%d", rng.IntN(nvars))
			}
			return lit(interesting(rng, target))
		}
		if rng.IntN(6) == 0 {
			return []string{"-", "!", "~"}[rng.IntN(3)] + "(" + expr(depth-1) + ")"
		}
		ops := []string{"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=", ">", ">=", "&&", "||"}
		return "(" + expr(depth-1) + " " + ops[rng.IntN(len(ops))] + " " + expr(depth-1) + ")"
	}
	var stmts func(depth, n int, loop int)
	loops := 0
	stmts = func(depth, n int, loop int) {
		for range n {
			switch k := rng.IntN(10); {
			case k < 4:
				fmt.Fprintf(&b, "v%d = %s;\n", rng.IntN(nvars), expr(3))
			case k < 6:
				fmt.Fprintf(&b, "print %s, %s;\n", expr(2), expr(3))
			case k < 8 && depth > 0:
				fmt.Fprintf(&b, "if %s {\n", expr(2))
				stmts(depth-1, 1+rng.IntN(3), loop)
				if rng.IntN(2) == 0 {
					b.WriteString("} else {\n")
					stmts(depth-1, 1+rng.IntN(3), loop)
				}
				b.WriteString("}\n")
			case depth > 0:
				loops++
				c := fmt.Sprintf("c%d", loops)
				fmt.Fprintf(&b, "let %s = 0;\nwhile %s < %d && %s {\n", c, c, 1+rng.IntN(6), expr(1))
				stmts(depth-1, 1+rng.IntN(3), loops)
				fmt.Fprintf(&b, "%s = %s + 1;\n}\n", c, c)
			default:
				loops++
				fmt.Fprintf(&b, "let w%d = %s;\nprint w%d;\n", loops, expr(2), loops)
			}
		}
	}
	stmts(2, size/2+rng.IntN(size/2+1), 0)
	return b.String()
}

// TestOptimizedProgramsAgree is the property test of the optimizer: random programs print
// the same thing, and fail the same way, at every level.
func TestOptimizedProgramsAgree(t *testing.T) {
	n, size := 24, 8
	if testing.Short() || raceEnabled {
		n, size = 8, 3
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		target := targets[i%2]
		src := randomProgram(rng, target, size)
		want, wantErr := compileRun(t, src, 0, target, false)
		for level := 1; level <= MaxOptLevel; level++ {
			got, err := compileRun(t, src, level, target, false)
			if got != want || !sameFailure(err, wantErr) {
				t.Fatalf("program %d on %v: -O%d printed\n%s(error %v)\nbut -O0 printed\n%s(error %v)\nprogram:\n%s", i, target, level, got, err, want, wantErr, src)
			}
		}
	}
}

// sameFailure reports whether two runs ended the same way.
func sameFailure(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return errors.Is(a, ErrDivideByZero) == errors.Is(b, ErrDivideByZero)
}
