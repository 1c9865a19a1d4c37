// Package dep declares types a key of another package uses.
package dep

import "github.com/cachegen/cachegen/runtime/keyhash"

// Items is a slice of an anonymous struct with an unexported field.
type Items []struct {
	Name string
	hits int
}

type item int

// List is a slice of an unexported named type.
type List []item

// Base has a HashKey.
type Base struct{ A int }

// HashKey hashes Base.
func (x Base) HashKey(h *keyhash.Hasher) { h.Int("A", x.A) }

// Promoted has HashKey only by promotion from Base.
type Promoted struct {
	Base
	Extra int
}

// key is a key that dep does not export.
//
//cachegen:key
type key struct{ A int }

// Keys is an exported slice of it.
type Keys []key

// RecF contains itself, and holds what cannot be hashed.
type RecF struct {
	Kids []RecF
	Ch   chan int
}

// Outer holds a struct of this package that holds what cannot be hashed.
type Outer struct{ In Inner }

// Inner is reached through Outer.
type Inner struct{ Fn func() }
