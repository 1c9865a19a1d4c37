// Package hashfn has functions marked //cachegen:hash for a basic type and an unnamed slice
// type: each hashes its type only, not the named types over it.
package hashfn

import (
	"strings"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// Name is a named string: not hashed by hashFold.
type Name string

// Args is a named []string: not hashed by hashCount.
type Args []string

// K holds both types and the named ones over them.
//
//cachegen:key
type K struct {
	S string
	N Name
	L []string
	A Args
}

// hashFold hashes strings without regard to case.
//
//cachegen:hash
func hashFold(h *keyhash.Hasher, s string) { h.String("folded", strings.ToLower(s)) }

// hashCount hashes a []string by its length only.
//
//cachegen:hash
func hashCount(h *keyhash.Hasher, l []string) { h.Int("len", len(l)) }
