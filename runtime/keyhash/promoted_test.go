package keyhash_test

import (
	"strings"
	"testing"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// base is a key with a HashKey of its own, written as cachegen writes them.
type base struct{ A int }

func (x base) HashKey(h *keyhash.Hasher) {
	h.Begin("github.com/cachegen/cachegen/runtime/keyhash_test.base", 1, 2, 3, 4)
	h.Int("A", x.A)
	h.End()
}

// special embeds base and adds a field, without a HashKey of its own: it is a Key only by
// promotion, and base's HashKey would skip Extra.
type special struct {
	base
	Extra int
}

// specialPtr embeds a pointer to the key.
type specialPtr struct {
	*base
	Extra int
}

// level is a non-struct key whose hand-written HashKey, like many, does not call Begin.
type level int

func (l level) HashKey(h *keyhash.Hasher) { h.Int("level", int(l)) }

// specialLevel has HashKey only by promotion from level: no Begin ever runs.
type specialLevel struct {
	level
	Extra int
}

// covered embeds base and has its own HashKey that covers every field, as generated code does.
type covered struct {
	base
	Extra int
}

func (x covered) HashKey(h *keyhash.Hasher) {
	h.Begin("github.com/cachegen/cachegen/runtime/keyhash_test.covered", 5, 6, 7, 8)
	x.base.HashKey(h.Field("base"))
	h.Int("Extra", x.Extra)
	h.End()
}

// holder holds any key behind an interface, as a generated HashKey of a key with an interface
// field (or a generic key's type-parameter field) does.
type holder struct{ V keyhash.Key }

func (x holder) HashKey(h *keyhash.Hasher) {
	h.Begin("github.com/cachegen/cachegen/runtime/keyhash_test.holder", 9, 10, 11, 12)
	h.Interface("V", x.V)
	h.End()
}

func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg, _ = r.(string)
			if msg == "" {
				msg = "non-string panic"
			}
		}
	}()
	f()
	return ""
}

// TestPromotedHashKeyPanics: a value hashed by a HashKey that covers only part of it is
// refused at run time, where the generator cannot see it (behind an interface, as a type
// argument, or passed to Sum directly), and the message names the type and the fix.
func TestPromotedHashKeyPanics(t *testing.T) {
	tests := []struct {
		name string
		key  keyhash.Key
	}{
		{"Sum of a struct", special{Extra: 1}},
		{"Sum of a pointer", &special{Extra: 1}},
		{"Sum of an embedded pointer", specialPtr{base: &base{}, Extra: 1}},
		{"behind an interface", holder{V: special{Extra: 1}}},
		{"behind an interface, as a pointer", holder{V: &special{Extra: 1}}},
		{"nested interfaces", holder{V: holder{V: special{Extra: 2}}}},
		{"Sum, promoted from a key that never calls Begin", specialLevel{Extra: 1}},
		{"behind an interface, promoted from a key that never calls Begin", holder{V: specialLevel{Extra: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := panicOf(func() { keyhash.Sum(tt.key) })
			if msg == "" {
				t.Fatal("no panic: a promoted HashKey hashed the value")
			}
			for _, want := range []string{"special", "promote", "//cachegen:key"} {
				if !strings.Contains(msg, want) {
					t.Errorf("panic %q lacks %q", msg, want)
				}
			}
			// The pooled Hasher must be usable afterwards.
			if keyhash.Sum(base{A: 1}) == keyhash.Sum(base{A: 2}) {
				t.Fatal("Hasher broken after the panic")
			}
		})
	}
}

// TestOwnHashKeyWithEmbeddedKey: a struct that embeds a key and has its own HashKey (what
// cachegen generates for an annotated struct) is hashed as usual, in every position.
func TestOwnHashKeyWithEmbeddedKey(t *testing.T) {
	for _, k := range []keyhash.Key{
		covered{Extra: 1}, &covered{Extra: 1}, holder{V: covered{Extra: 1}}, holder{V: base{A: 1}}, holder{},
	} {
		if msg := panicOf(func() { keyhash.Sum(k) }); msg != "" {
			t.Fatalf("%T: %s", k, msg)
		}
	}
	if keyhash.Sum(covered{Extra: 1}) == keyhash.Sum(covered{Extra: 2}) {
		t.Fatal("Extra is not in the digest")
	}
	if keyhash.Sum(holder{V: covered{Extra: 1}}) == keyhash.Sum(holder{V: covered{Extra: 2}}) {
		t.Fatal("Extra is not in the digest behind an interface")
	}
}

// TestEmbeddedKeyCheckAllocsNothing: the check costs no allocation once a Hasher has seen
// the type, behind an interface and in Sum.
func TestEmbeddedKeyCheckAllocsNothing(t *testing.T) {
	skipIfTracing(t)
	k := holder{V: covered{Extra: 1}}
	h := keyhash.New()
	k.HashKey(h)
	h.Sum()
	if n := testing.AllocsPerRun(200, func() {
		h.Reset()
		k.HashKey(h)
		h.Sum()
	}); n != 0 {
		t.Fatalf("hashing allocated %v times per run", n)
	}
	if raceEnabled {
		return // the race detector makes sync.Pool drop items; make test runs this without -race
	}
	c := covered{Extra: 1}
	keyhash.Sum(&c)
	if n := testing.AllocsPerRun(200, func() { keyhash.Sum(&c) }); n != 0 {
		t.Fatalf("Sum allocated %v times per run", n)
	}
}

// outer holds a key of "another package" statically, as generated code does with FieldOf
// where that key embeds a key.
type outer[T keyhash.Key] struct {
	V    T
	Name string
}

func (x outer[T]) HashKey(h *keyhash.Hasher) {
	h.Begin("github.com/cachegen/cachegen/runtime/keyhash_test.outer", 13, 14, 15, 16)
	x.V.HashKey(h.FieldOf("V", x.Name))
	h.End()
}

// TestFieldOf: a static field whose type lost its own HashKey (so that the embedded key's is
// promoted) panics; one that kept it does not.
func TestFieldOf(t *testing.T) {
	const pkg = "github.com/cachegen/cachegen/runtime/keyhash_test."
	if msg := panicOf(func() { keyhash.Sum(outer[covered]{V: covered{Extra: 1}, Name: pkg + "covered"}) }); msg != "" {
		t.Fatalf("own HashKey refused: %s", msg)
	}
	if msg := panicOf(func() { keyhash.Sum(outer[special]{Name: pkg + "special"}) }); !strings.Contains(msg, "special is hashed by the HashKey method it promotes") {
		t.Fatalf("promoted HashKey: panic %q", msg)
	}
	if msg := panicOf(func() { keyhash.Sum(outer[specialLevel]{Name: pkg + "specialLevel"}) }); !strings.Contains(msg, "did not start with h.Begin") {
		t.Fatalf("promoted HashKey without Begin: panic %q", msg)
	}
}
