package input

import "github.com/cachegen/cachegen/testdata/errors/foreign_shapes/dep"

//cachegen:key
type K struct {
	Items dep.Items
	List  dep.List
	P     dep.Promoted
	Ks    dep.Keys
}
