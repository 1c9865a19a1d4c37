// Package compiler is a small optimizing compiler for the minicompiler language, the kind of
// program whose output cachegen caches: a compile is expensive at -O2, deterministic, and a
// pure function of its Options.
//
// # The language
//
// A program is a sequence of statements over 64-bit (vm64) or 32-bit (vm32) wrapping
// integers:
//
//	// comments run to the end of the line
//	let n = 10;                  // declares a variable in the current block
//	n = n - 1;                   // assigns it
//	if n > 5 { print "big"; } else if n == 5 { print "five"; } else { print n; }
//	while n != 0 { n = n / 2; }
//	print "n =", n, "done";      // strings and integers, separated by spaces, then a newline
//	{ let n = 1; print n; }      // a block is a scope: this n shadows the outer one
//
// Expressions have Go's operators and precedences: * / % << >> & (highest), + - | ^,
// == != < <= > >=, && then || (both short-circuit, and produce 0 or 1), and the unary - ! ~.
// Comparisons produce 1 or 0, and a condition is true when it is not 0. Arithmetic wraps
// at the target's width; shift counts are taken modulo the width; division truncates
// toward zero, and dividing by zero is a run-time error. An integer literal must fit in a
// signed integer of the target's width.
//
// # Compilation
//
// Compile lexes and parses the source, resolves variables to slots, optimizes, generates
// bytecode for a stack machine, and assembles it with its constant pool, string pool and
// (with Options.Debug) a line table. The optimization levels are:
//
//   - -O0: none; every expression is evaluated as written.
//   - -O1: constant folding and algebraic simplification with the target's wrap-around,
//     removal of unreachable branches and of stores that nothing printed or tested depends
//     on, loop rotation, and a peephole pass (jump threading, branch inversion, unreachable
//     code).
//   - -O2: -O1 plus constant propagation and liveness-based dead-store elimination, iterated
//     to a fixpoint, and a bounded peephole superoptimizer: every window of up to six
//     straight-line instructions is compared with every cheaper sequence of up to four
//     instructions, and replaced by the cheapest one that agrees with it on a set of test
//     vectors and that a prover shows equivalent (normal forms: linear combinations modulo
//     2^width of the inputs and of the non-linear operations). That search is what makes
//     -O2 slow (about 200 ms for the command's sample program), and what makes caching its
//     result worthwhile.
//
// Build is Compile behind a cachegen cache: Options is the //cachegen:key, Program the
// //cachegen:value, and Compile the top-level compute function that gets everything through
// its key.
//
// # Execution
//
// Program.Run executes the bytecode on a virtual machine that bounds the number of steps and
// the stack depth, so that every program terminates.
package compiler

//go:generate go run github.com/cachegen/cachegen/cmd/cachegen
