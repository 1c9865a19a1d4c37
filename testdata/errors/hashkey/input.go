package input

import "github.com/cachegen/cachegen/runtime/keyhash"

//cachegen:key
type K struct{ A int }

// HashKey is hand-written although K is annotated.
func (k K) HashKey(h *keyhash.Hasher) { h.Int("A", k.A) }
