package input

import "github.com/cachegen/cachegen/runtime/keyhash"

type Tree[T any] map[string]Tree[T]

//cachegen:key
type K[T keyhash.Key] struct {
	T Tree[T]
}
