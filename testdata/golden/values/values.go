// Package values is a golden input: value structs using every kind of field cachegen
// serializes.
package values

import (
	"time"

	"github.com/tinylib/msgp/msgp"
)

//go:generate go run github.com/cachegen/cachegen/cmd/cachegen

// Level is an enum.
type Level int8

// Reloc is reached from Artifact and gets methods too.
type Reloc struct {
	Offset uint32
	Symbol string
	Kind   uint8
}

// Artifact is a compiler's output.
//
//cachegen:value
type Artifact struct {
	Code   []byte
	Relocs []Reloc
	Traps  []struct {
		Offset uint32
		Code   uint8
	}
	Names   map[uint32]string
	Meta    map[string][]int64
	Nested  map[string]map[int16]string
	Opt     *Level
	Lvl     Level
	When    time.Time
	Timeout time.Duration
	B       bool
	I       int
	I8      int8
	U64     uint64
	F32     float32
	F64     float64
	C128    complex128
	Arr     [4]uint16
	Sum     [32]byte
	Strs    []string
	hidden  string
	Log     func(string) `msg:"-"` // not serialized: listed in the generated file
	Reloc
}

// Options is both a key and a value: the runtime stores keys beside values.
//
//cachegen:key
//cachegen:value
type Options struct {
	OptLevel int
	Target   string
	Flags    map[string]string
}

// Tagged has a slice of tagged anonymous structs, an embedded alias, and a blank field.
//
//cachegen:value
type Tagged struct {
	Items []struct {
		ID   int    `json:"id"`
		Name string `json:"name,omitempty"`
	}
	R
	_ int
}

// R is an alias, embedded under its own name.
type R = Reloc

// Stamp is a value declared before the key that contains it: Job makes it a key too.
//
//cachegen:value
type Stamp struct {
	Build string
	Seq   uint32
}

// Job is a key over a value struct declared before it.
//
//cachegen:key
type Job struct {
	Stamp Stamp
	Name  string
}

// Wire has hand-written msgp methods.
type Wire struct{ A int }

// DecodeMsg implements msgp.Decodable.
func (z *Wire) DecodeMsg(dc *msgp.Reader) (err error) { z.A, err = dc.ReadInt(); return err }

// EncodeMsg implements msgp.Encodable.
func (z Wire) EncodeMsg(en *msgp.Writer) error { return en.WriteInt(z.A) }

// MarshalMsg implements msgp.Marshaler.
func (z Wire) MarshalMsg(b []byte) ([]byte, error) { return msgp.AppendInt(b, z.A), nil }

// UnmarshalMsg implements msgp.Unmarshaler.
func (z *Wire) UnmarshalMsg(b []byte) (o []byte, err error) {
	z.A, o, err = msgp.ReadIntBytes(b)
	return o, err
}

// Msgsize implements msgp.Sizer.
func (z Wire) Msgsize() int { return msgp.IntSize }

// Wrapped has Wire's msgp methods only by promotion, which would drop Extra: it gets
// serializers of its own.
type Wrapped struct {
	Wire
	Extra string
}

// Holder holds a struct whose msgp methods are promoted, and one with its own.
//
//cachegen:value
type Holder struct {
	W  Wrapped
	Wi Wire
	N  int
}
