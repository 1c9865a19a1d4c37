package bench

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/mitchellh/hashstructure/v2"
)

// handKey is CompileKey with a hash written by hand, field by field, into the same Hasher:
// what a careful engineer writes without cachegen, and the reference generated code must
// match.
type handKey CompileKey

func (x *handKey) HashKey(h *keyhash.Hasher) {
	h.Begin("benchkey.CompileKey", 1, 2, 3, 4)
	h.String("CompilerVersion", x.CompilerVersion)
	h.Begin("benchkey.Target", 5, 6, 7, 8)
	h.String("Arch", x.Target.Arch)
	h.String("OS", x.Target.OS)
	h.List("Features", len(x.Target.Features))
	for _, f := range x.Target.Features {
		h.String("", f)
	}
	h.EndList()
	h.End()
	h.Int("OptLevel", x.OptLevel)
	h.Bool("Debug", x.Debug)
	h.Map("Flags", len(x.Flags))
	for k, v := range x.Flags {
		h.Entry()
		h.String("key", k)
		h.String("value", v)
	}
	h.EndMap()
	h.List("Defines", len(x.Defines))
	for _, d := range x.Defines {
		h.String("", d)
	}
	h.EndList()
	h.List("Imports", len(x.Imports))
	for _, im := range x.Imports {
		h.String("Module", im.Module)
		h.String("Name", im.Name)
		h.Uint8("Kind", im.Kind)
	}
	h.EndList()
	h.Bytes("Source", x.Source)
	h.End()
}

var sizes = []struct {
	name string
	n    int
}{{"0B", 0}, {"4KiB", 4 << 10}, {"1MiB", 1 << 20}}

var sink keyhash.Digest

// BenchmarkHashKey compares, at each source size, the generated HashKey with the
// alternatives a user would pick. Limit is one sha256.Sum256 over the exact bytes the
// generated code encodes: no Hasher can beat it.
func BenchmarkHashKey(b *testing.B) {
	for _, sz := range sizes {
		k := NewKey(sz.n)
		b.Run("Generated/"+sz.name, func(b *testing.B) {
			b.SetBytes(int64(len(keyhash.AppendEncoding(nil, &k))))
			b.ReportAllocs()
			for b.Loop() {
				sink = keyhash.Sum(&k)
			}
		})
		b.Run("HandWritten/"+sz.name, func(b *testing.B) {
			hk := handKey(k)
			b.SetBytes(int64(len(keyhash.AppendEncoding(nil, &k))))
			b.ReportAllocs()
			for b.Loop() {
				sink = keyhash.Sum(&hk)
			}
		})
		b.Run("Limit/"+sz.name, func(b *testing.B) {
			enc := keyhash.AppendEncoding(nil, &k)
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			for b.Loop() {
				sink = sha256.Sum256(enc)
			}
		})
		b.Run("Hashstructure/"+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := hashstructure.Hash(k, hashstructure.FormatV2, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("JSONSHA256/"+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				data, err := json.Marshal(k)
				if err != nil {
					b.Fatal(err)
				}
				sink = sha256.Sum256(data)
			}
		})
	}
}

// TestReferenceMatchesGenerated keeps the hand-written reference honest: it must write the
// same amount of data as the generated code (its fingerprints differ, so digests do not).
func TestReferenceMatchesGenerated(t *testing.T) {
	k := NewKey(100)
	hk := handKey(k)
	gen, hand := keyhash.AppendEncoding(nil, &k), keyhash.AppendEncoding(nil, &hk)
	if len(gen) != len(hand) {
		t.Fatalf("generated code encodes %d bytes, the reference %d", len(gen), len(hand))
	}
}
