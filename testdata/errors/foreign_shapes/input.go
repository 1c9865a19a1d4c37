package input

import "github.com/cachegen/cachegen/testdata/errors/foreign_shapes/dep"

//cachegen:key
type K struct {
	Items dep.Items
	List  dep.List
	P     dep.Promoted
	Ks    dep.Keys
	R     dep.RecF  // refused inside a recursive type of another package: at this field
	O     dep.Outer // refused two structs down: the fix is on this field
}
