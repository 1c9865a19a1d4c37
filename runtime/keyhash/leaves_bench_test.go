package keyhash_test

import (
	"testing"

	"github.com/cachegen/cachegen/internal/bench"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

// BenchmarkLeaves measures what the miss explainer pays on a miss to list the leaves of the
// representative key, next to its digest.
func BenchmarkLeaves(b *testing.B) {
	k := bench.NewKey(4096)
	b.Run("Leaves", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(keyhash.Leaves(&k, 0)) == 0 {
				b.Fatal("no leaves")
			}
		}
	})
	b.Run("VisitLeaves", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			keyhash.VisitLeaves(&k, 0, 0, func([]byte, string, []byte) { n++ })
		}
		if n == 0 {
			b.Fatal("no leaves")
		}
	})
	b.Run("Sum", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			keyhash.Sum(&k)
		}
	})
}
