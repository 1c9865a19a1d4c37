package input

import "github.com/cachegen/cachegen/runtime/keyhash"

//cachegen:key
type Base struct{ A int }

// Special is a keyhash.Key only through Base.
type Special struct {
	Base
	Extra int
}

//cachegen:key
type Box[T keyhash.Key] struct{ V T }

//cachegen:key
type K struct {
	B  Box[Special]
	P  Box[*Special]
	OK Box[Base]
}
