// Package valueexclusions is a golden input: exclusions from a key (cache:"-", exclude=) do
// not apply to values, which serialize every field but those msgp's own msg:"-" drops, and
// the generated file lists both.
package valueexclusions

//go:generate go run github.com/cachegen/cachegen/cmd/cachegen

// KV is a key and a value: B is left out of the key only, Log out of the value only.
//
//cachegen:key exclude=B
//cachegen:value
type KV struct {
	A   int
	B   int
	C   string `cache:"-"`
	Log func() `cache:"-" msg:"-"`
}

// V is a value only: cache:"-" does not drop a field from a value.
//
//cachegen:value
type V struct {
	A int
	B int `cache:"-"`
}
