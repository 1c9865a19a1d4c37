// Package foreign is a golden input: a key made of types of other packages, through each
// path cachegen has for them.
package foreign

import (
	"image"
	"net/netip"
	"regexp"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/tinylib/msgp/msgp"
)

//go:generate go run github.com/cachegen/cachegen/cmd/cachegen

// K holds types of other packages.
//
//cachegen:key
type K struct {
	Pt    image.Point       // a struct of another package: field by field
	Rects []image.Rectangle // structs of another package inside one
	Addr  netip.Addr        // MarshalBinary
	Re    *regexp.Regexp    // MarshalText, behind a pointer
	Month time.Month        // an enum of another package, with a String method
	Expr  Expr              // a function marked //cachegen:hash
	Exprs map[string]Expr   // the same function, for each map value
	After string            // a field after one written by a function
	Tree  Tree              // a recursive type: its functions and encodings are listed too
}

// Tree contains itself: a helper function hashes it, and the doc comment of K lists the
// fields it hashes by a function or an encoding.
type Tree []struct {
	Kids Tree
	E    Expr
	Addr netip.Addr
}

// Expr is an interface whose implementations do not hash themselves.
type Expr interface{ isExpr() }

// Lit and Num are its implementations.
type (
	Lit struct{ Parts []string }
	Num float64
)

func (Lit) isExpr() {}
func (Num) isExpr() {}

// hashExpr hashes an Expr: its kind, then what that kind holds.
//
//cachegen:hash
func hashExpr(h *keyhash.Hasher, e Expr) {
	switch e := e.(type) {
	case nil:
		h.Uint8("kind", 0)
	case Lit:
		h.Uint8("kind", 1)
		h.Strings("Parts", e.Parts)
	case Num:
		h.Uint8("kind", 2)
		h.Float64("value", float64(e))
	default:
		panic("hashExpr: an Expr of another kind")
	}
}

// Rect adopts a struct of another package that it cannot tag, leaving one field out.
//
//cachegen:key exclude=Max
type Rect image.Rectangle

// Numbered is a value with a field of msgp.Number, a type of another package with msgp methods of
// its own and unexported fields: it is serialized by those methods, and its underlying
// struct, which this package cannot name, gets no shape guard.
//
//cachegen:value
type Numbered struct {
	N     msgp.Number
	Count int
}
