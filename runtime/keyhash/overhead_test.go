package keyhash_test

import (
	"testing"

	"github.com/cachegen/cachegen/internal/bench"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

// BenchmarkHasherOverhead measures the representative key's HashKey with SHA-256 replaced by
// a hash that ignores its input: what the Hasher itself costs on top of SHA-256.
func BenchmarkHasherOverhead(b *testing.B) {
	k := bench.NewKey(0)
	h := keyhash.NewDiscarding()
	for b.Loop() {
		k.HashKey(h)
		h.Sum()
		h.Reset()
	}
}
