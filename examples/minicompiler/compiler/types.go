package compiler

import (
	"fmt"
	"math"
)

// Version identifies this compiler. It is part of every key (Options.CompilerVersion), so
// that a change of the compiler's output format or passes, released under a new version,
// never reuses the previous version's programs even when the cache is shared between
// builds (cache.Options.Version).
const Version = "minicompiler/1.0.0"

// A Target is the machine a program is compiled for. Integer arithmetic wraps at the
// target's width, so a program can print different results on different targets, and
// constant folding must use the target's arithmetic.
type Target uint8

// The targets.
const (
	VM64 Target = iota // 64-bit integers
	VM32               // 32-bit integers
)

// String returns the target's name, as accepted by ParseTarget.
func (t Target) String() string {
	switch t {
	case VM64:
		return "vm64"
	case VM32:
		return "vm32"
	}
	return fmt.Sprintf("Target(%d)", uint8(t))
}

// ParseTarget returns the target named s ("vm32" or "vm64").
func ParseTarget(s string) (Target, error) {
	switch s {
	case "vm64":
		return VM64, nil
	case "vm32":
		return VM32, nil
	}
	return 0, fmt.Errorf("unknown target %q (want vm32 or vm64)", s)
}

// Bits returns the width of the target's integers.
func (t Target) Bits() int {
	if t == VM32 {
		return 32
	}
	return 64
}

// wrap truncates v to the target's width, sign-extended.
func (t Target) wrap(v int64) int64 {
	if t == VM32 {
		return int64(int32(v))
	}
	return v
}

// maxInt returns the largest integer of the target.
func (t Target) maxInt() int64 {
	if t == VM32 {
		return math.MaxInt32
	}
	return math.MaxInt64
}

// MaxOptLevel is the highest optimization level.
const MaxOptLevel = 2

// Options is everything a compiled Program depends on: it is the cache key. A field that
// influenced the output but was missing here would let the cache serve one configuration's
// program to another (the wasmtime -O bug); cachegen's generated HashKey hashes every field,
// and Compile reads nothing else.
//
// The source is in the key as its full text, not as a SHA-256 digest and length: compute
// functions get everything through the key, and a digest alone would force Compile to read
// the text from somewhere the key does not describe. keyhash hashes the text with SHA-256
// anyway, so the entry's name is still a fixed-size digest.
//
//cachegen:key
type Options struct {
	// CompilerVersion is the Version of the compiler that compiles. Build fills it in;
	// Compile refuses options made for another version.
	CompilerVersion string
	// OptLevel is the optimization level, 0 to MaxOptLevel.
	OptLevel int
	// Target is the machine compiled for.
	Target Target
	// Debug adds a DebugInfo (line table and variable names) to the Program.
	Debug bool
	// File names the source in compile errors and in the DebugInfo. It is part of the key
	// even without Debug, since Compile reads it: the same text under another name is
	// another entry.
	File string
	// Source is the program text.
	Source string
}

// Program is a compiled program: bytecode and everything it needs to run. It is the cached
// value; cachegen generates its msgp serializers.
//
//cachegen:value
type Program struct {
	// CompilerVersion, Target and OptLevel record what produced the program. Run executes
	// it with Target's arithmetic.
	CompilerVersion string
	Target          Target
	OptLevel        int
	// Code is the bytecode (see Disassemble for its instructions).
	Code []byte
	// Consts is the constant pool of the PUSHK instruction.
	Consts []int64
	// Strings is the string pool of the PRINTS instruction.
	Strings []string
	// NumVars is the number of variable slots the program uses.
	NumVars int
	// MaxStack is the deepest the operand stack gets.
	MaxStack int
	// Debug is the debug information, present when compiled with Options.Debug.
	Debug *DebugInfo
	// Stats describes what the compiler's passes did.
	Stats Stats
}

// DebugInfo maps bytecode back to the source.
type DebugInfo struct {
	// File is the source's name.
	File string
	// Lines maps code offsets to source positions: entry i covers the bytes from Lines[i].PC
	// up to the next entry's PC. Entries are in increasing PC order.
	Lines []LineEntry
	// Vars names the variable slots.
	Vars []string
}

// A LineEntry says that the code from PC on was generated from the source at Line:Col.
type LineEntry struct {
	PC   uint32
	Line uint32
	Col  uint32
}

// Stats describes a compilation.
type Stats struct {
	// SourceInstrs is the number of instructions generated before bytecode optimization,
	// and Instrs the number in the final program.
	SourceInstrs int
	Instrs       int
	// Rounds is the number of rounds of the -O2 fixpoint loop.
	Rounds int
	// Folded counts constant expressions folded, Eliminated the statements and stores
	// removed as dead or unreachable, Peephole the peephole rewrites.
	Folded     int
	Eliminated int
	Peephole   int
	// Windows is the number of distinct instruction windows the superoptimizer searched,
	// Candidates the number of candidate sequences it evaluated, and Rewrites the windows
	// it replaced with cheaper, proven equivalent sequences.
	Windows    int
	Candidates int64
	Rewrites   int
	// Unproven counts the candidates that agreed with their window on every test vector,
	// but that the prover could not show equivalent: they were rejected.
	Unproven int
}

// LineAt returns the source position of the instruction at pc, or 0, 0 when the program
// has no debug information for it.
func (d *DebugInfo) LineAt(pc int) (line, col int) {
	if d == nil {
		return 0, 0
	}
	for i := len(d.Lines) - 1; i >= 0; i-- {
		if int(d.Lines[i].PC) <= pc {
			return int(d.Lines[i].Line), int(d.Lines[i].Col)
		}
	}
	return 0, 0
}
