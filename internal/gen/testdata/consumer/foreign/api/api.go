// Package api stands for a package whose types a key uses but whose source its user does not
// own: no cachegen annotations, no HashKey methods.
package api

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// EngineName is a named string of another package.
type EngineName string

// Engine is a foreign struct with exported fields only.
type Engine struct {
	Name    EngineName
	Version string
}

// Target is a foreign enum with a String method.
type Target uint8

// The targets.
const (
	ES5 Target = iota
	ES2020
)

func (t Target) String() string {
	switch t {
	case ES5:
		return "ES5"
	case ES2020:
		return "ES2020"
	}
	return "Target(" + strconv.Itoa(int(t)) + ")"
}

// Loader is a foreign named uint16, used in values.
type Loader uint16

// Chain is a foreign struct that contains itself.
type Chain struct {
	Label string
	Next  *Chain
}

// Nested holds foreign structs in every kind of container.
type Nested struct {
	Engines []Engine
	ByName  map[string]Engine
	First   *Engine
	Pair    [2]Engine
	Inline  struct{ A, B int }
}

// Hidden has unexported state: it can be hashed only by a function of the user's.
type Hidden struct {
	Public string
	secret int
}

// NewHidden returns a Hidden with its secret set.
func NewHidden(public string, secret int) Hidden { return Hidden{Public: public, secret: secret} }

// Secret returns h's secret.
func (h Hidden) Secret() int { return h.secret }

// Expr is an interface that does not embed keyhash.Key, like an AST node.
type Expr interface{ isExpr() }

// Bool and Number are its implementations.
type (
	Bool   struct{ V bool }
	Number struct{ V float64 }
)

func (Bool) isExpr()   {}
func (Number) isExpr() {}

// Options is a struct the user cannot tag; two of its fields cannot be hashed.
type Options struct {
	Minify   bool
	Target   Target
	Engines  []Engine
	OnLoad   func(string) string
	Cache    map[string]any
	Defines  map[string]Expr
	LogLimit int
}

// Wrapper has MarshalBinary and UnmarshalBinary only by promotion from its embedded
// netip.Addr: they would encode the Addr alone, so it is hashed field by field.
type Wrapper struct {
	netip.Addr
	Extra int
}

// Endpoint embeds a pointer whose methods it gets by promotion: a nil URL must not be
// called.
type Endpoint struct {
	*url.URL
	Timeout time.Duration
	Retries int
}

// TextCodec is an interface with both halves of a text encoding.
type TextCodec interface {
	MarshalText() ([]byte, error)
	UnmarshalText([]byte) error
}

// Level is an enum whose String panics for values without a name.
type Level uint8

func (l Level) String() string { return [...]string{"low", "high"}[l] }

// Deep holds a pointer to an enum inside a foreign struct, for the trace path.
type Deep struct {
	PL *Level
}

// lower is an unexported named basic type, exported through an alias.
type lower int8

// Lower is how other packages name lower.
type Lower = lower

// Tagged carries cache tags of its own author, who knows nothing of cachegen: they are not
// the key's user's decisions, and are ignored.
type Tagged struct {
	A     int
	Token string `cache:"-"`
	Order []int  `cache:"set"`
	TTL   int    `cache:"ttl"`
}

// TaggedOptions is Tagged adopted by the user (type T api.TaggedOptions): its tags are
// ignored too.
type TaggedOptions struct {
	Token string `cache:"-"`
	N     int
}

// Inner has an encoding of its own.
type Inner struct{ A int }

func (i Inner) MarshalBinary() ([]byte, error) { return []byte{byte(i.A)}, nil }

func (i *Inner) UnmarshalBinary(b []byte) error {
	if len(b) != 1 {
		return errors.New("api.Inner: bad encoding")
	}
	i.A = int(b[0])
	return nil
}

// Zoned embeds Inner and declares an encoding of its own, which covers Zone too. Should it
// lose it, Inner's promoted one would encode Inner alone: the guard breaks the build.
type Zoned struct {
	Inner
	Zone string
}

func (z Zoned) MarshalBinary() ([]byte, error) { return append([]byte{byte(z.A)}, z.Zone...), nil }

func (z *Zoned) UnmarshalBinary(b []byte) error {
	if len(b) < 1 {
		return errors.New("api.Zoned: bad encoding")
	}
	z.A, z.Zone = int(b[0]), string(b[1:])
	return nil
}

// Wire has hand-written msgp methods.
type Wire struct{ A int }

func (z *Wire) DecodeMsg(dc *msgp.Reader) (err error) { z.A, err = dc.ReadInt(); return err }
func (z Wire) EncodeMsg(en *msgp.Writer) error        { return en.WriteInt(z.A) }
func (z Wire) MarshalMsg(b []byte) ([]byte, error)    { return msgp.AppendInt(b, z.A), nil }
func (z *Wire) UnmarshalMsg(b []byte) (o []byte, err error) {
	z.A, o, err = msgp.ReadIntBytes(b)
	return o, err
}
func (z Wire) Msgsize() int { return msgp.IntSize }

// WireZone embeds Wire and declares msgp methods of its own, which cover Zone too.
type WireZone struct {
	Wire
	Zone string
}

func (z *WireZone) DecodeMsg(dc *msgp.Reader) (err error) {
	if z.A, err = dc.ReadInt(); err != nil {
		return err
	}
	z.Zone, err = dc.ReadString()
	return err
}

func (z WireZone) EncodeMsg(en *msgp.Writer) error {
	if err := en.WriteInt(z.A); err != nil {
		return err
	}
	return en.WriteString(z.Zone)
}

func (z WireZone) MarshalMsg(b []byte) ([]byte, error) {
	return msgp.AppendString(msgp.AppendInt(b, z.A), z.Zone), nil
}

func (z *WireZone) UnmarshalMsg(b []byte) (o []byte, err error) {
	if z.A, o, err = msgp.ReadIntBytes(b); err != nil {
		return o, err
	}
	z.Zone, o, err = msgp.ReadStringBytes(o)
	return o, err
}

func (z WireZone) Msgsize() int { return msgp.IntSize + msgp.StringPrefixSize + len(z.Zone) }

// Box is generic, with an encoding of its own. A generic key with a field Box[T] is guarded
// for every T: should the encoding move to an embedded field, the build breaks.
type Box[T any] struct{ V T }

func (b Box[T]) MarshalBinary() ([]byte, error) { return []byte(fmt.Sprint(b.V)), nil }

func (b *Box[T]) UnmarshalBinary(p []byte) error {
	_, err := fmt.Sscan(string(p), &b.V)
	return err
}

// ubox is a generic type this package does not export, with an encoding of its own; IntBox
// is an exported alias of one instance, through which a key names it and its guard too.
type ubox[T any] struct{ V T }

func (b ubox[T]) MarshalBinary() ([]byte, error) { return []byte(fmt.Sprint(b.V)), nil }

func (b *ubox[T]) UnmarshalBinary(p []byte) error {
	_, err := fmt.Sscan(string(p), &b.V)
	return err
}

// IntBox is how other packages name ubox[int].
type IntBox = ubox[int]

// pmg is a generic type this package does not export, with msgp methods on the pointer;
// PMG is an exported alias of one instance.
type pmg[T any] struct{ A int }

// PMG is how other packages name pmg[int].
type PMG = pmg[int]

func (z *pmg[T]) MarshalMsg(b []byte) ([]byte, error) { return msgp.AppendInt(b, z.A), nil }
func (z *pmg[T]) UnmarshalMsg(b []byte) (o []byte, err error) {
	z.A, o, err = msgp.ReadIntBytes(b)
	return o, err
}
func (z *pmg[T]) EncodeMsg(w *msgp.Writer) error       { return w.WriteInt(z.A) }
func (z *pmg[T]) DecodeMsg(r *msgp.Reader) (err error) { z.A, err = r.ReadInt(); return err }
func (z *pmg[T]) Msgsize() int                         { return msgp.IntSize }

// Set is a named map with an encoding of its own: it is hashed by its entries, not by
// MarshalText, which (lossy on purpose here) gives every set one text.
type Set map[string]bool

func (s Set) MarshalText() ([]byte, error) { return []byte("set"), nil }

func (s *Set) UnmarshalText([]byte) error { return nil }
