// Package keys is a golden input: key structs using every kind of field cachegen supports.
package keys

import (
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

//go:generate go run github.com/cachegen/cachegen/cmd/cachegen

// Level is an enum over a basic type.
type Level int8

// Name is a named string.
type Name string

// Blob is a named byte slice.
type Blob []byte

// Strings is an alias.
type Strings = []string

// ISA is a polymorphic key part: any implementation hashes through its own HashKey.
type ISA interface {
	keyhash.Key
	Name() string
}

// Wide has a field of every supported kind.
//
//cachegen:key
type Wide struct {
	B    bool
	I    int
	I8   int8
	I16  int16
	I32  int32
	I64  int64
	U    uint
	U8   uint8
	U16  uint16
	U32  uint32
	U64  uint64
	Ptr  uintptr
	F32  float32
	F64  float64
	C64  complex64
	C128 complex128
	S    string
	Raw  []byte
	Sum  [4]byte
	Arr  [2]int16
	Lvl  Level
	N    Name
	Data Blob
	Al   Strings
	List []string
	Tags []string `cache:"set"`
	M    map[string]int
	MI   map[int32][]string
	Opt  *int
	PP   **string
	In   Inner
	InP  *Inner
	Ins  []Inner
	Anon struct {
		X, Y int
		Z    []uint8 `cache:"set"`
	}
	Nested  map[Name]map[string]bool
	When    time.Time
	Timeout time.Duration
	Target  ISA
	hidden  string
	Skipped func() `cache:"-"`
	Log     any    `cache:"-"`
	Inner
}

// Inner is not annotated: it gets HashKey because Wide contains it.
type Inner struct {
	A string
	b []float64
}

// Generic is a generic key.
//
//cachegen:key
type Generic[T keyhash.Key, U keyhash.Key] struct {
	First  T
	Many   []U
	ByName map[string]T
	Count  int
}

// X86 is an ISA.
//
//cachegen:key
type X86 struct {
	AVX2 bool
}

// Name implements ISA.
func (X86) Name() string { return "x86" }

// ARM is an ISA with the same fields as X86: their digests still differ.
//
//cachegen:key
type ARM struct {
	AVX2 bool
}

// Name implements ISA.
func (ARM) Name() string { return "arm" }

// Manual has a hand-written HashKey and is used as is.
type Manual struct{ v int }

// HashKey implements keyhash.Key.
func (m *Manual) HashKey(h *keyhash.Hasher) { h.Int("v", m.v) }

// UsesManual holds a type with a pointer-receiver HashKey.
//
//cachegen:key
type UsesManual struct {
	M  Manual
	MS map[string]Manual
}

// WithHidden returns w with its unexported field set, for tests in other packages.
func (w Wide) WithHidden(s string) Wide {
	w.hidden = s
	return w
}

// Tuned embeds a key type, whose HashKey is promoted to Tuned: the generated one must still
// cover Level.
//
//cachegen:key
type Tuned struct {
	X86
	Level int
}

// Outer reaches a struct that embeds a pointer to a key type.
//
//cachegen:key
type Outer struct {
	In Promo
}

// Promo has a HashKey promoted from *X86, which is not its own.
type Promo struct {
	*X86
	Level int
}

// In is an alias of Inner, embedded under its alias name.
type In = Inner

// Shapes has fields whose generated code once failed to compile: an embedded alias, blank
// fields, and tagged anonymous structs.
//
//cachegen:key
type Shapes struct {
	In
	A     int
	_     int32
	Items []struct {
		ID int `json:"id"`
	}
	_ string
}
