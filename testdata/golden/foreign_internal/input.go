// Package input is a golden input: types of another package's internal package, which this
// package cannot import, named through that package's exported aliases.
package input

import "github.com/cachegen/cachegen/testdata/golden/foreign_internal/dep"

//go:generate go run github.com/cachegen/cachegen/cmd/cachegen

// K holds a type of an internal package with an encoding, through an alias, and a struct
// whose field has that type: generated code, guards included, names it by the alias.
//
//cachegen:key
type K struct {
	OA dep.OuterAddr
	A  dep.Addr
}

// V holds a type of an internal package with msgp methods, through an alias.
//
//cachegen:value
type V struct {
	W dep.Wire
}
