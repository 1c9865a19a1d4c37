package compiler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// compileRun compiles src with the options and runs it with a step limit.
func compileRun(t testing.TB, src string, level int, target Target, debug bool) (string, error) {
	t.Helper()
	p, err := Compile(context.Background(), Options{CompilerVersion: Version, OptLevel: level, Target: target, Debug: debug, File: "test.mc", Source: src})
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	_, err = p.Run(&out, 10_000_000)
	return out.String(), err
}

var targets = []Target{VM64, VM32}

// TestPrograms runs programs with known outputs at every optimization level, on both
// targets, with and without debug information.
func TestPrograms(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		want   string // on every target
		want32 string // on vm32, when it differs
	}{
		{"print", `print 42;`, "42\n", ""},
		{"strings", `print "a", 1, "b c", -2; print "";`, "a 1 b c -2\n\n", ""},
		{"escapes", `print "tab\there \"q\" back\\slash";`, "tab\there \"q\" back\\slash\n", ""},
		{"precedence", `print 2 + 3 * 4, (2 + 3) * 4, 10 - 4 - 3, 1 << 2 + 1, 7 & 3 == 3;`, "14 20 3 5 1\n", ""},
		{"division truncates", `print 7 / 2, -7 / 2, 7 % 3, -7 % 3, 7 % -3;`, "3 -3 1 -1 1\n", ""},
		{"comparisons", `let a = 3; let b = 5; print a < b, a <= b, a > b, a >= b, a == b, a != b, a == 3;`, "1 1 0 0 0 1 1\n", ""},
		{"unary", `let a = 5; print -a, !a, !0, ~a, --a, !!a, ~~a;`, "-5 0 1 -6 5 1 5\n", ""},
		{"bitwise", `let a = 12; let b = 10; print a & b, a | b, a ^ b, a >> 2, -16 >> 2;`, "8 14 6 3 -4\n", ""},
		{"short circuit", `let z = 0; print 0 && 1 / z, 1 || 1 / z, 2 && 3, 0 || 0, 5 || 0;`, "0 1 1 0 1\n", ""},
		{"if else chain", `let i = 0; while i < 4 { if i == 0 { print "zero"; } else if i == 1 { print "one"; } else { print "many", i; } i = i + 1; }`,
			"zero\none\nmany 2\nmany 3\n", ""},
		{"while", `let s = 0; let i = 1; while i <= 100 { s = s + i; i = i + 1; } print s;`, "5050\n", ""},
		{"nested loops", `let n = 0; let i = 0; while i < 10 { let j = 0; while j < i { n = n + j; j = j + 1; } i = i + 1; } print n;`, "120\n", ""},
		{"scopes", `let x = 1; { let x = 2; print x; { x = 3; let x = 4; print x; } print x; } print x;`, "2\n4\n3\n1\n", ""},
		{"let refers to outer", `let x = 10; { let x = x + 1; print x; } print x;`, "11\n10\n", ""},
		{"loop variable redeclared each iteration", `let i = 0; while i < 3 { let sq = i * i; print sq; i = i + 1; }`, "0\n1\n4\n", ""},
		{"constant condition", `if 1 { print "yes"; } else { print "no"; } while 0 { print "never"; } if 2 > 3 { print "no"; }`, "yes\n", ""},
		{"dead stores", `let a = 1; let b = 2; a = 3; b = a * 2; let unused = a + b; print a;`, "3\n", ""},
		{"propagation through branches", `let k = 4; let y = 0; if k > 2 { y = k * 2; } else { y = 1; } print y, k;`, "8 4\n", ""},
		{"propagation stops at loops", `let k = 1; let i = 0; while i < 5 { k = k * 2; i = i + 1; } print k;`, "32\n", ""},
		{"gcd", `let a = 1071; let b = 462; while b != 0 { let t = a % b; a = b; b = t; } print a;`, "21\n", ""},
		{"collatz", `let x = 27; let n = 0; while x != 1 { if x % 2 == 0 { x = x / 2; } else { x = 3 * x + 1; } n = n + 1; } print n;`, "111\n", ""},
		{"multiply by powers of two", `let x = 7; print x * 2, x * 8, x * -1, 0 - x, x * 0, x + 0, x - x;`, "14 56 -7 -7 0 7 0\n", ""},
		{"modulo by two", `let i = -3; while i <= 3 { print i % 2 == 0, i % 2, i / 2; i = i + 1; }`,
			"0 -1 -1\n1 0 -1\n0 -1 0\n1 0 0\n0 1 0\n1 0 1\n0 1 1\n", ""},
		{"shift counts wrap at the width", `let s = 1; print s << 33, -1 >> 40;`, "8589934592 -1\n", "2 -1\n"},
		{"add wraps", `let x = 2147483647; x = x + 1; print x;`, "2147483648\n", "-2147483648\n"},
		{"constant add wraps", `print 2147483647 + 1, 1 << 31;`, "2147483648 2147483648\n", "-2147483648 -2147483648\n"},
		{"multiply wraps", `let f = 1; let k = 1; while k <= 20 { f = f * k; k = k + 1; } print f;`, "2432902008176640000\n", "-2102132736\n"},
		{"minimum divided by -1", `let m = -2147483647 - 1; print m / -1, m % -1;`, "2147483648 0\n", "-2147483648 0\n"},
		{"64-bit minimum", `let m = -9223372036854775807 - 1; print m / -1, m * -1, -m;`, "-9223372036854775808 -9223372036854775808 -9223372036854775808\n", ""},
	}
	for _, tt := range tests {
		for _, target := range targets {
			want := tt.want
			if target == VM32 && tt.want32 != "" {
				want = tt.want32
			}
			if target == VM32 && strings.Contains(tt.src, "9223372036854775807") {
				continue // the literal does not exist on vm32
			}
			for level := 0; level <= MaxOptLevel; level++ {
				for _, debug := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/%v/O%d/g=%v", tt.name, target, level, debug), func(t *testing.T) {
						got, err := compileRun(t, tt.src, level, target, debug)
						if err != nil {
							t.Fatal(err)
						}
						if got != want {
							t.Errorf("output:\n%s\nwant:\n%s", got, want)
						}
					})
				}
			}
		}
	}
}

// TestCompileErrors checks that compile errors name the file, line and column.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, src string
		target    Target
		want      string
	}{
		{"undefined", "let a = 1;\nprint a + b;", VM64, "test.mc:2:11: undefined variable b"},
		{"undeclared assignment", "let a = 1;\n  c = 2;", VM64, "test.mc:2:3: assignment to undeclared variable c"},
		{"redeclared", "let a = 1;\nlet a = 2;", VM64, "test.mc:2:1: a redeclared in this block"},
		{"missing semicolon", "let a = 1\nprint a;", VM64, "test.mc:2:1: expected ; after assignment, found \"print\""},
		{"missing expression", "print ;", VM64, "test.mc:1:7: expected expression, found \";\""},
		{"unclosed block", "if 1 {\n print 1;", VM64, "test.mc:1:6: block not closed: missing }"},
		{"unterminated string", `print "abc`, VM64, "test.mc:1:7: string literal not terminated"},
		{"bad escape", `print "a\q";`, VM64, `test.mc:1:9: unknown escape sequence \'q'`},
		{"bad character", "let a = 1 @ 2;", VM64, "test.mc:1:11: unexpected character '@'"},
		{"literal overflows vm64", "print 9223372036854775808;", VM64, "test.mc:1:7: integer literal 9223372036854775808 overflows vm64"},
		{"literal overflows vm32", "print 1;\nprint 2147483648;", VM32, "test.mc:2:7: integer literal 2147483648 overflows vm32"},
		{"identifier after digits", "let a = 12ab;", VM64, "test.mc:1:11: unexpected 'a' after integer literal"},
		{"keyword as name", "let while = 1;", VM64, "test.mc:1:5: expected identifier as variable name, found \"while\""},
		{"too deep", "print " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300) + ";", VM64, "test.mc:1:" + fmt.Sprint(7+maxDepth) + ": nesting deeper than 200 levels"},
		{"if needs a block", "if 1 print 1;", VM64, "test.mc:1:6: expected { after if condition, found \"print\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileRun(t, tt.src, 2, tt.target, false)
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("error %v (%T), want a *compiler.Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant prefix:\n%s", err, tt.want)
			}
		})
	}
}

// TestTrapsSurviveOptimization checks that no optimization removes a division by zero:
// not folding, not dead-store or dead-branch elimination, not the superoptimizer.
func TestTrapsSurviveOptimization(t *testing.T) {
	for _, src := range []string{
		"print 1 / 0;",
		"print (1 / z) * 0;",
		"print 0 * (1 % z);",
		"print (1 / z) & 0;",
		"print (1 / z) && 0;",
		"print (1 / z) || 1;",
		"let unused = 5 / z;",
		"let u = 1; u = u / z;",
		"if 1 / z { }",
		"let c = 1; if c { print 10 % (z * 2); }",
		"let d = z; print 7 / d - 7 / d;",
	} {
		for _, target := range targets {
			for level := 0; level <= MaxOptLevel; level++ {
				out, err := compileRun(t, "let z = 0; print \"start\";\n"+src+"\nprint \"after\";", level, target, false)
				if !errors.Is(err, ErrDivideByZero) || out != "start\n" {
					t.Errorf("%s on %v at -O%d: output %q, error %v; want the division by zero after \"start\"", src, target, level, out, err)
				}
			}
		}
	}
}

// TestRuntimeErrors checks division by zero, with and without debug information, and the
// step limit.
func TestRuntimeErrors(t *testing.T) {
	src := "let z = 0;\nprint 1;\nprint 10 / z;\nprint 2;"
	for level := 0; level <= MaxOptLevel; level++ {
		out, err := compileRun(t, src, level, VM64, true)
		if !errors.Is(err, ErrDivideByZero) || out != "1\n" {
			t.Errorf("-O%d -g: output %q, error %v; want \"1\\n\" and division by zero", level, out, err)
		}
		if want := "test.mc:3:"; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("-O%d -g: error %v, want the source position %s...", level, err, want)
		}
		_, err = compileRun(t, src, level, VM64, false)
		if !errors.Is(err, ErrDivideByZero) || !strings.Contains(err.Error(), "compile with -g") {
			t.Errorf("-O%d: error %v, want division by zero without position", level, err)
		}
	}
	p, err := Compile(context.Background(), Options{CompilerVersion: Version, OptLevel: 2, Source: "let i = 0; while 1 { i = i + 1; }"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(&bytes.Buffer{}, 1000)
	if !errors.Is(err, ErrStepLimit) || res.Steps != 1000 {
		t.Errorf("infinite loop: %d steps, error %v; want the step limit after 1000", res.Steps, err)
	}
}

// TestCompileRejectsOptions checks the option validation of Compile.
func TestCompileRejectsOptions(t *testing.T) {
	for _, opts := range []Options{
		{CompilerVersion: "minicompiler/0.9", Source: "print 1;"},
		{CompilerVersion: Version, OptLevel: 3, Source: "print 1;"},
		{CompilerVersion: Version, OptLevel: -1, Source: "print 1;"},
		{CompilerVersion: Version, Target: 7, Source: "print 1;"},
	} {
		if _, err := Compile(context.Background(), opts); err == nil {
			t.Errorf("Compile(%+v) succeeded", opts)
		}
	}
}

// TestRunRejectsBadBytecode runs damaged programs: the VM must fail cleanly, not panic.
func TestRunRejectsBadBytecode(t *testing.T) {
	for _, p := range []Program{
		{Code: []byte{byte(opAdd)}},
		{Code: []byte{0xee}},
		{Code: []byte{byte(opPushK), 5, 0}},
		{Code: []byte{byte(opLoad), 0, 0}},
		{Code: []byte{byte(opJmp), 0xff, 0xff, 0, 0}},
		{Code: []byte{byte(opPrintS), 1, 0}},
		{Code: []byte{byte(opPushI)}},
		{Code: []byte{byte(opPushI), 1, byte(opJmp), 0, 0, 0, 0}}, // overflows the stack
		{NumVars: -1},
		{Target: 9},
	} {
		_, err := p.Run(&bytes.Buffer{}, 1_000_000)
		var rerr *RuntimeError
		if !errors.As(err, &rerr) {
			t.Errorf("Run(%v): error %v, want a RuntimeError", p.Code, err)
		}
	}
}

// TestDebugInfo checks the line table and variable names that -g adds, and that without -g
// there are none.
func TestDebugInfo(t *testing.T) {
	src := "let a = 1;\nlet b = a + 2;\nprint b;\n"
	opts := Options{CompilerVersion: Version, Debug: true, File: "d.mc", Source: src}
	p, err := Compile(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Debug == nil || p.Debug.File != "d.mc" || strings.Join(p.Debug.Vars, ",") != "a,b" {
		t.Fatalf("debug info %+v, want file d.mc and vars a,b", p.Debug)
	}
	lines := map[uint32]bool{}
	for i, e := range p.Debug.Lines {
		lines[e.Line] = true
		if i > 0 && e.PC <= p.Debug.Lines[i-1].PC {
			t.Errorf("line table not increasing at %d: %+v", i, p.Debug.Lines)
		}
	}
	if !lines[1] || !lines[2] || !lines[3] {
		t.Errorf("line table %+v does not cover lines 1 to 3", p.Debug.Lines)
	}
	if l, _ := p.Debug.LineAt(len(p.Code) - 1); l != 3 {
		t.Errorf("last instruction at line %d, want 3", l)
	}
	if !strings.Contains(p.Disassemble(), "@d.mc:2:") {
		t.Errorf("listing without source positions:\n%s", p.Disassemble())
	}
	opts.Debug = false
	q, err := Compile(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if q.Debug != nil {
		t.Errorf("debug info without -g: %+v", q.Debug)
	}
	if !bytes.Equal(p.Code, q.Code) {
		t.Errorf("-g changed the code")
	}
}
