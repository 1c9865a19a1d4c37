// Package benchkey holds the representative compiler key that the HashKey benchmarks hash.
package benchkey

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
