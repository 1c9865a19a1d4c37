// Package bench holds the representative key and value of the benchmarks: a compiler's
// options (CompileKey, hashed by generated HashKey) and its output (Artifact, serialized by
// generated msgp methods).
package bench

//go:generate go run github.com/cachegen/cachegen/cmd/cachegen

// CompileKey is what a compiler's output depends on.
//
//cachegen:key
type CompileKey struct {
	CompilerVersion string
	Target          Target
	OptLevel        int
	Debug           bool
	Flags           map[string]string
	Defines         []string
	Imports         []struct {
		Module, Name string
		Kind         uint8
	}
	Source []byte
}

// Target is the machine the code is compiled for.
type Target struct {
	Arch, OS string
	Features []string
}

// Artifact is a compiler's output: code, relocations, trap sites and a name table.
//
//cachegen:value
type Artifact struct {
	Code   []byte
	Relocs []struct {
		Offset uint32
		Symbol string
		Kind   uint8
	}
	Traps []struct {
		Offset uint32
		Code   uint8
	}
	Names map[uint32]string
}
