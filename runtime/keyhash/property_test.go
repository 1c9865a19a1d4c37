package keyhash_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cachegen/cachegen/internal/bench"
	"github.com/cachegen/cachegen/internal/randval"
	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/cachegen/cachegen/testdata/golden/keys"
)

var locs = []*time.Location{time.UTC, time.FixedZone("X", 3600)}

// isa supplies values for the ISA interface: nil, two implementations with equal fields,
// and a pointer.
func isa(t reflect.Type, r *rand.Rand) (reflect.Value, bool) {
	if t != reflect.TypeFor[keys.ISA]() {
		return reflect.Value{}, false
	}
	switch r.IntN(4) {
	case 1:
		return reflect.ValueOf(keys.X86{AVX2: r.IntN(2) == 0}), true
	case 2:
		return reflect.ValueOf(keys.ARM{AVX2: r.IntN(2) == 0}), true
	case 3:
		return reflect.ValueOf(&keys.X86{AVX2: true}), true
	}
	return reflect.Value{}, false
}

func filler(f *randval.Filler) *randval.Filler {
	f.Interface = isa
	return f
}

func randomWide(seed uint64) keys.Wide {
	var w keys.Wide
	filler(randval.New(seed)).Fill(&w)
	return w
}

func encodeKey(t testing.TB, k keyhash.Key) []byte {
	return encode(t, func(h *keyhash.Hasher) { k.HashKey(h) })
}

const propertyRuns = 300

func TestPropertyEqualValuesEqualDigests(t *testing.T) {
	for seed := range uint64(propertyRuns) {
		a, b := randomWide(seed), randomWide(seed)
		if keyhash.Sum(a) != keyhash.Sum(&b) {
			t.Fatalf("seed %d: equal values, different digests", seed)
		}
	}
}

// TestPropertyEveryFieldCounts changes one field at a time, to a different random value, and
// expects the digest to change. A field the generated code forgot would fail here.
func TestPropertyEveryFieldCounts(t *testing.T) {
	typ := reflect.TypeFor[keys.Wide]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			changed := 0
			for seed := range uint64(propertyRuns) {
				w := randomWide(seed)
				base := keyhash.Sum(w)
				mut := w
				fv := reflect.ValueOf(&mut).Elem().Field(i)
				filler(randval.New(seed + 1e6)).FillValue(fv)
				same := randval.Equal(w, mut)
				got := keyhash.Sum(mut)
				switch {
				case f.Tag.Get("cache") == "-":
					if got != base {
						t.Fatalf("seed %d: excluded field %s changed the digest", seed, f.Name)
					}
				case same && got != base:
					t.Fatalf("seed %d: an equivalent value of %s changed the digest", seed, f.Name)
				case !same && got == base:
					t.Fatalf("seed %d: changing %s did not change the digest", seed, f.Name)
				case !same:
					changed++
				}
			}
			if f.Tag.Get("cache") != "-" && changed == 0 {
				t.Fatalf("no run changed %s: the generator of this test is broken", f.Name)
			}
		})
	}
}

// TestPropertyMapOrderIrrelevant: neither the digest of a key nor the list of its leaves
// depends on the order its maps and sets were filled in or are iterated in, so that a miss
// explainer can compare two keys leaf by leaf.
func TestPropertyMapOrderIrrelevant(t *testing.T) {
	for seed := range uint64(propertyRuns) {
		w := randomWide(seed)
		want := keyhash.Sum(w)
		wantLeaves := keyhash.Leaves(w, 0)
		// Rebuild every map, inserting in a different order each time; Go's iteration order
		// then differs from run to run as well.
		for range 5 {
			c := w
			c.M = map[string]int{}
			ks := make([]string, 0, len(w.M))
			for k := range w.M {
				ks = append(ks, k)
			}
			rand.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
			for _, k := range ks {
				c.M[k] = w.M[k]
			}
			c.Tags = append([]string(nil), w.Tags...)
			rand.Shuffle(len(c.Tags), func(i, j int) { c.Tags[i], c.Tags[j] = c.Tags[j], c.Tags[i] })
			if got := keyhash.Sum(c); got != want {
				t.Fatalf("seed %d: reordering a map or set changed the digest", seed)
			}
			if got := keyhash.Leaves(c, 0); !reflect.DeepEqual(got, wantLeaves) {
				t.Fatalf("seed %d: reordering a map or set changed the leaves\n%q\nwant\n%q", seed, got, wantLeaves)
			}
		}
	}
}

// TestPropertyDistinctValuesDistinctEncodings compares encoded streams, not digests: no two
// non-equivalent values may share one.
func TestPropertyDistinctValuesDistinctEncodings(t *testing.T) {
	seen := map[string]uint64{}
	for seed := range uint64(propertyRuns * 3) {
		w := randomWide(seed)
		enc := string(encodeKey(t, w))
		if prev, ok := seen[enc]; ok && !randval.Equal(w, randomWide(prev)) {
			t.Fatalf("seeds %d and %d: different values share an encoding", prev, seed)
		}
		seen[enc] = seed
	}
}

func TestInterfaceIdentity(t *testing.T) {
	tests := []struct {
		name string
		a, b keys.ISA
	}{
		{"equal fields, different types", keys.X86{}, keys.ARM{}},
		{"value and pointer", keys.X86{}, &keys.X86{}},
		{"nil and typed nil", nil, (*keys.X86)(nil)},
		{"nil and zero", nil, keys.X86{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if keyhash.Sum(keys.Wide{Target: tt.a}) == keyhash.Sum(keys.Wide{Target: tt.b}) {
				t.Fatal("digests collide")
			}
		})
	}
}

func TestKnownCollisionsAvoided(t *testing.T) {
	// The collisions reflection-based hashers are known for: adjacent strings, nil pointer
	// versus pointer to zero, nil slice element versus absent.
	zero := 0
	tests := []struct {
		name string
		a, b keys.Wide
	}{
		{"adjacent strings", keys.Wide{S: "ab"}.WithHidden(""), keys.Wide{S: "a"}.WithHidden("b")},
		{"nil pointer vs pointer to zero", keys.Wide{}, keys.Wide{Opt: &zero}},
		{"list boundaries", keys.Wide{List: []string{"a", "b"}}, keys.Wide{List: []string{"ab"}}},
		{"-0 vs +0", keys.Wide{F64: 0}, keys.Wide{F64: math.Copysign(0, -1)}},
		{"location", keys.Wide{When: time.Unix(0, 0).UTC()}, keys.Wide{When: time.Unix(0, 0).In(locs[1])}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if keyhash.Sum(tt.a) == keyhash.Sum(tt.b) {
				t.Fatal("digests collide")
			}
		})
	}
	if keyhash.Sum(keys.Wide{List: nil}) != keyhash.Sum(keys.Wide{List: []string{}}) {
		t.Fatal("nil and empty slices must hash alike")
	}
}

func TestTypedFingerprint(t *testing.T) {
	if keyhash.Sum(keys.X86{AVX2: true}) == keyhash.Sum(keys.ARM{AVX2: true}) {
		t.Fatal("two key types with equal fields share a digest")
	}
}

// skipIfTracing skips allocation tests under CACHEGEN_TRACE=1, a debugging mode that
// formats every value it traces.
func skipIfTracing(t *testing.T) {
	if os.Getenv("CACHEGEN_TRACE") == "1" {
		t.Skip("CACHEGEN_TRACE=1: tracing allocates by design")
	}
}

func TestHasherAllocsNothing(t *testing.T) {
	skipIfTracing(t)
	w := randomWide(7)
	h := keyhash.New()
	w.HashKey(h) // grow the buffers once
	h.Sum()
	n := testing.AllocsPerRun(200, func() {
		h.Reset()
		w.HashKey(h)
		h.Sum()
	})
	if n != 0 {
		t.Fatalf("hashing a generated key allocates %v times", n)
	}
}

func TestSumAllocsNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; make test runs this test without -race")
	}
	skipIfTracing(t)
	w := randomWide(7)
	keyhash.Sum(&w) // warm the pool and grow buffers
	if n := testing.AllocsPerRun(200, func() { keyhash.Sum(&w) }); n != 0 {
		t.Fatalf("keyhash.Sum(&key) allocates %v times per call", n)
	}
}

func TestTrace(t *testing.T) {
	var out bytes.Buffer
	h := keyhash.New()
	h.Trace(&out)
	w := keys.Wide{S: "hello", List: []string{"x"}, M: map[string]int{"k": 3}, Target: keys.ARM{AVX2: true}}
	w.HashKey(h)
	d := h.Sum()
	for _, want := range []string{
		`Wide github.com/cachegen/cachegen/testdata/golden/keys.Wide fingerprint`,
		`Wide.S string = "hello"`,
		`Wide.List[0] string = "x"`,
		`Wide.M[0].key string = "k"`,
		`Wide.M[0].value int = 3`,
		`Wide.Target.AVX2 bool = true`,
		"= " + d.String(),
	} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("trace lacks %q:\n%s", want, out.String())
		}
	}
	if d != keyhash.Sum(w) {
		t.Error("tracing changed the digest")
	}
}

// TestEmbeddedKeyDoesNotHideFields: a HashKey promoted from an embedded key type is not the
// struct's own, so the struct's other fields still count (and a nil embedded pointer does
// not panic).
func TestEmbeddedKeyDoesNotHideFields(t *testing.T) {
	if keyhash.Sum(keys.Tuned{Level: 1}) == keyhash.Sum(keys.Tuned{Level: 2}) {
		t.Error("Tuned.Level does not count")
	}
	if keyhash.Sum(keys.Outer{In: keys.Promo{Level: 1}}) == keyhash.Sum(keys.Outer{In: keys.Promo{Level: 2}}) {
		t.Error("Promo.Level does not count")
	}
	if keyhash.Sum(keys.Outer{}) == keyhash.Sum(keys.Outer{In: keys.Promo{X86: &keys.X86{}}}) {
		t.Error("a nil embedded pointer hashes like a present one")
	}
}

// TestGenericInstancesDiffer: instances of one generic key with different type arguments
// never share a digest, even when no value of a type argument is present.
func TestGenericInstancesDiffer(t *testing.T) {
	a := keys.Generic[keys.X86, keys.X86]{First: keys.X86{AVX2: true}, Count: 1}
	b := keys.Generic[keys.X86, keys.ARM]{First: keys.X86{AVX2: true}, Count: 1}
	if keyhash.Sum(a) == keyhash.Sum(b) {
		t.Error("Generic[X86, X86] and Generic[X86, ARM] share a digest")
	}
	if keyhash.Sum(keys.Generic[keys.X86, keys.ARM]{}) == keyhash.Sum(keys.Generic[keys.ARM, keys.X86]{}) {
		t.Error("zero values of two instances share a digest")
	}
	// A type argument that is an interface or a pointer: nil is tagged, never called.
	_ = keyhash.Sum(keys.Generic[keyhash.Key, *keys.X86]{Many: []*keys.X86{nil}})
}

// TestZonesWithOneName: locations can share a name; the zone's offset tells them apart.
func TestZonesWithOneName(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	a := keys.Wide{When: at.In(time.FixedZone("X", 3600))}
	b := keys.Wide{When: at.In(time.FixedZone("X", 7200))}
	if keyhash.Sum(a) == keyhash.Sum(b) {
		t.Error("one instant in two zones named alike shares a digest")
	}
}

// TestVisitLeavesAllocs: listing the leaves of a key for the miss explainer reuses pooled
// buffers: what allocates is the formatting of values that have no cheaper form (complex
// numbers, times, String methods) and the renaming of map entries after their keys.
func TestVisitLeavesAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; make test runs this test without -race")
	}
	long := strings.Repeat("s", 200)
	for _, tc := range []struct {
		name string
		key  keyhash.Key
		max  float64
	}{
		{"scalars and lists", &keys.Wide{S: "hello", List: []string{"x", "y"}, Raw: []byte("long enough to be shown by its digest")}, 5},
		{"the representative key", ptr(bench.NewKey(4096)), 0},
		{"long strings, shown by their digest", fnKey(func(h *keyhash.Hasher) {
			for range 10 {
				h.String("S", long)
			}
		}), 0},
		{"integers past 255, in a map", fnKey(func(h *keyhash.Hasher) {
			h.Map("M", 300)
			for i := range 300 {
				h.Entry()
				h.Int("key", 1000+i)
				h.Uint64("value", 1<<40+uint64(i))
			}
			h.EndMap()
		}), 0},
	} {
		n := 0
		visit := func(path []byte, typ string, value []byte) { n++ }
		keyhash.VisitLeaves(tc.key, 0, 0, visit)
		if n == 0 {
			t.Fatalf("%s: no leaves", tc.name)
		}
		all := testing.AllocsPerRun(50, func() { keyhash.Leaves(tc.key, 0) })
		if a := testing.AllocsPerRun(100, func() { keyhash.VisitLeaves(tc.key, 0, 0, visit) }); a > tc.max || a >= all {
			t.Errorf("%s: VisitLeaves allocates %v times (Leaves %v), want at most %v", tc.name, a, all, tc.max)
		}
	}
}

func ptr[T any](v T) *T { return &v }
