// Package keyhash is a stub of cachegen's keyhash, with the Key interface only.
package keyhash

// A Hasher is a stub.
type Hasher struct{}

// Key is a type with a HashKey method.
type Key interface {
	HashKey(*Hasher)
}
