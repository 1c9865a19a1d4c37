package keyhash_test

import (
	"fmt"
	"os"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// Options is what a compilation depends on. cachegen writes its HashKey from a
// //cachegen:key annotation; this one is written out to show what generated code does: the
// schema fingerprint, then one typed call per field.
type Options struct {
	Source   string
	OptLevel int
	Flags    map[string]string
}

func (x Options) HashKey(h *keyhash.Hasher) {
	h.Begin("example.com/cc.Options", 0x7d1c0e0a7f3b19c4, 0x2b7e151628aed2a6, 0xabf7158809cf4f3c, 0x762e7160f38b4da5)
	h.String("Source", x.Source)
	h.Int("OptLevel", x.OptLevel)
	h.Map("Flags", len(x.Flags))
	for k, v := range x.Flags {
		h.Entry()
		h.String("key", k)
		h.String("value", v)
	}
	h.EndMap()
	h.End()
}

func ExampleSum() {
	a := Options{Source: "x := 1", OptLevel: 0}
	b := Options{Source: "x := 1", OptLevel: 2}
	fmt.Println(keyhash.Sum(a) == keyhash.Sum(b))                          // the optimization level is part of the key
	fmt.Println(keyhash.Sum(a) == keyhash.Sum(&Options{Source: "x := 1"})) // T and *T hash alike
	// Output:
	// false
	// true
}

// A trace shows every value that entered a digest; CACHEGEN_TRACE=1 turns it on for every
// digest a program computes.
func ExampleHasher_Trace() {
	h := keyhash.New()
	h.Trace(os.Stdout)
	Options{Source: "x := 1", OptLevel: 2, Flags: map[string]string{"-g": ""}}.HashKey(h)
	h.Sum()
	// Output:
	// keyhash: Options example.com/cc.Options fingerprint 7d1c0e0a7f3b19c4...
	// keyhash:   Options.Source string = "x := 1"
	// keyhash:   Options.OptLevel int = 2
	// keyhash:   Options.Flags map len 1
	// keyhash:     Options.Flags[0].key string = "-g"
	// keyhash:     Options.Flags[0].value string = ""
	// keyhash: = 6c1d128339a6015ebce0660c84837aaddaf360dec56bca26179b1f17501b8e11
}

// AppendEncoding shows the bytes behind a digest: the 32-byte fingerprint, the source's
// length and bytes, the level, and the (empty) map's length.
func ExampleAppendEncoding() {
	enc := keyhash.AppendEncoding(nil, Options{Source: "x := 1", OptLevel: 2})
	fmt.Printf("%d bytes: ...% x\n", len(enc), enc[32:])
	// Output:
	// 62 bytes: ...06 00 00 00 00 00 00 00 78 20 3a 3d 20 31 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
}
