package bench

import (
	"fmt"
	"math/rand/v2"
)

// NewKey returns the representative key of the benchmarks: 6 target features, 8 flags, 16
// defines, 32 imports, and n bytes of source.
func NewKey(n int) CompileKey {
	r := rand.New(rand.NewPCG(1, 2))
	k := CompileKey{
		CompilerVersion: "cc 1.26.3 (linux/amd64)",
		Target:          Target{Arch: "amd64", OS: "linux", Features: []string{"sse2", "sse4.2", "avx", "avx2", "bmi2", "popcnt"}},
		OptLevel:        2,
		Flags:           map[string]string{},
		Source:          make([]byte, n),
	}
	for i := range 8 {
		k.Flags[fmt.Sprintf("-f%d-option", i)] = fmt.Sprintf("value-%d", i)
	}
	for i := range 16 {
		k.Defines = append(k.Defines, fmt.Sprintf("DEFINE_%d=%d", i, i*7))
	}
	for i := range 32 {
		k.Imports = append(k.Imports, struct {
			Module, Name string
			Kind         uint8
		}{fmt.Sprintf("env%d", i%4), fmt.Sprintf("func_%d", i), uint8(i % 3)})
	}
	for i := range k.Source {
		k.Source[i] = byte(r.IntN(96) + 32)
	}
	return k
}

// NewArtifact returns the representative value of the benchmarks: 256 KiB of code (opcodes
// drawn from a skewed distribution, so it compresses like real code), 2000 relocations, 500
// trap sites and 300 names. Different seeds give different artifacts of that shape.
func NewArtifact(seed uint64) Artifact {
	r := rand.New(rand.NewPCG(3, 4+seed))
	a := Artifact{Code: make([]byte, 256<<10), Names: map[uint32]string{}}
	for i := range a.Code {
		a.Code[i] = byte(r.ExpFloat64() * 24)
	}
	for i := range 2000 {
		a.Relocs = append(a.Relocs, struct {
			Offset uint32
			Symbol string
			Kind   uint8
		}{uint32(r.IntN(len(a.Code))), fmt.Sprintf("sym_%d", i%400), uint8(r.IntN(4))})
	}
	for range 500 {
		a.Traps = append(a.Traps, struct {
			Offset uint32
			Code   uint8
		}{uint32(r.IntN(len(a.Code))), uint8(r.IntN(8))})
	}
	for i := range 300 {
		a.Names[uint32(i*16)] = fmt.Sprintf("func_%d", i)
	}
	return a
}
