package input

import (
	"bytes"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

//cachegen:key
type K struct {
	Buf bytes.Buffer
	N   Num
}

// Num has a HashKey of its own.
type Num int

func (n Num) HashKey(h *keyhash.Hasher) { h.Int("n", int(n)) }

// hashBuf hashes a buffer by its contents.
//
//cachegen:hash
func hashBuf(h *keyhash.Hasher, b bytes.Buffer) { h.Bytes("", b.Bytes()) }

// again hashes it a second time.
//
//cachegen:hash
func again(h *keyhash.Hasher, b bytes.Buffer) {}

// wrong has the wrong signature.
//
//cachegen:hash
func wrong(b bytes.Buffer) {}

// generic is generic.
//
//cachegen:hash
func generic[T any](h *keyhash.Hasher, v T) {}

// hashNum hashes a type that hashes itself.
//
//cachegen:hash
func hashNum(h *keyhash.Hasher, n Num) {}

// err shadows a local name of generated code.
//
//cachegen:hash
func err(h *keyhash.Hasher, s string) {}

// T is not a function.
//
//cachegen:hash
type T struct{}

//cachegen:hash with options
func opts(h *keyhash.Hasher, f float64) {}
