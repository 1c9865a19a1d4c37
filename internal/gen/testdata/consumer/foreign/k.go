// Package foreign holds keys made of types of another package: structs hashed field by
// field, types hashed by their standard encoding, types hashed by a function of this package,
// exclusions on the directive, and foreign enums in values.
package foreign

import (
	"math/big"
	"net"
	"net/netip"
	"net/url"
	"regexp"

	"example.com/consumer/foreign/api"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

// K uses foreign types of every kind.
//
//cachegen:key
type K struct {
	Engines []api.Engine
	One     api.Engine
	Chain   *api.Chain
	Nested  api.Nested
	Target  api.Target
	Addr    netip.Addr
	Prefix  netip.Prefix
	Re      *regexp.Regexp
	Big     *big.Int
	URL     *url.URL
	Hidden  api.Hidden
	Define  api.Expr
	Defines map[string]api.Expr
	Wrap    api.Wrapper  // MarshalBinary only by promotion: field by field
	End     api.Endpoint // the same through an embedded pointer, nil in the zero value
	Deep    api.Deep
	Level   api.Level
	AP      AddrPtr    // a named pointer to a type hashed by its encoding
	FP      FloatPtr   // GobEncode, which keeps the precision that MarshalText drops
	Lo      api.Lower  // an unexported named basic type, through an exported alias
	Tags    api.Tagged // a foreign struct's own cache tags are ignored
	Zoned   api.Zoned  // its own MarshalBinary, beside Inner's promoted one
	IP      net.IP     // a named []byte with MarshalText: hashed as its bytes
	IB      api.IntBox // an unexported generic instance with MarshalBinary, through an exported alias
	Set     api.Set    // a named map with MarshalText: hashed by its entries
}

// KG is generic over a field of a generic type of another package hashed by its encoding.
//
//cachegen:key
type KG[T keyhash.Key] struct {
	B api.Box[T]
	N int
}

// AddrPtr is a named pointer type: its method set is empty.
type AddrPtr *netip.Addr

// FloatPtr is a named pointer to a type whose Gob encoding is lossless.
type FloatPtr *big.Float

// hashExpr hashes the expressions of api, which do not hash themselves.
//
//cachegen:hash
func hashExpr(h *keyhash.Hasher, e api.Expr) {
	switch e := e.(type) {
	case nil:
		h.Uint8("kind", 0)
	case api.Bool:
		h.Uint8("kind", 1)
		h.Bool("value", e.V)
	case api.Number:
		h.Uint8("kind", 2)
		h.Float64("value", e.V)
	default:
		panic("hashExpr: unknown expression")
	}
}

// hashHidden hashes what api.Hidden keeps unexported.
//
//cachegen:hash
func hashHidden(h *keyhash.Hasher, v api.Hidden) {
	h.String("Public", v.Public)
	h.Int("secret", v.Secret())
}

// Options adopts a struct of another package it cannot tag, leaving out what cannot be a key.
//
//cachegen:key exclude=OnLoad,Cache
type Options api.Options

// Adopted adopts a struct whose author tagged a field cache:"-": the tag is not the user's.
//
//cachegen:key
type Adopted api.TaggedOptions

// V is a value holding foreign enums.
//
//cachegen:value
type V struct {
	Loader  api.Loader
	Loaders []api.Loader
	ByExt   map[string]api.Loader
	Target  api.Target
	Lo      api.Lower    // an unexported named basic type, through an exported alias
	WZ      api.WireZone // its own msgp methods, beside Wire's promoted ones
	PG      api.PMG      // an unexported generic instance with msgp methods, through an exported alias
}
