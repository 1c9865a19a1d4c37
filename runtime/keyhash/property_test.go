package keyhash_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/cachegen/cachegen/testdata/golden/keys"
)

// gen fills values of any key type with random contents, unexported fields included, so the
// properties below hold for every field kind the generator supports. Excluded fields
// (cache:"-") are left zero.
type gen struct {
	r *rand.Rand
}

var (
	timeType = reflect.TypeFor[time.Time]()
	isaType  = reflect.TypeFor[keys.ISA]()
	locs     = []*time.Location{time.UTC, time.FixedZone("X", 3600)}
)

func (g gen) fill(v reflect.Value, depth int) {
	v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem() // unexported fields too
	switch {
	case v.Type() == timeType:
		t := time.Unix(g.r.Int64N(1<<33), g.r.Int64N(1e9)).In(locs[g.r.IntN(len(locs))])
		v.Set(reflect.ValueOf(t))
		return
	case v.Type() == isaType:
		switch g.r.IntN(4) {
		case 0:
			v.SetZero()
		case 1:
			v.Set(reflect.ValueOf(keys.X86{AVX2: g.r.IntN(2) == 0}))
		case 2:
			v.Set(reflect.ValueOf(keys.ARM{AVX2: g.r.IntN(2) == 0}))
		default:
			v.Set(reflect.ValueOf(&keys.X86{AVX2: true}))
		}
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(g.r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(g.r.Uint64()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(g.r.Uint64())
	case reflect.Float32, reflect.Float64:
		v.SetFloat(g.float())
	case reflect.Complex64, reflect.Complex128:
		v.SetComplex(complex(g.float(), g.float()))
	case reflect.String:
		v.SetString(g.str())
	case reflect.Slice:
		n := g.r.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			g.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			g.fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		n := g.r.IntN(4)
		m := reflect.MakeMap(v.Type())
		for range n {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			g.fill(k, depth+1)
			g.fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		if depth > 3 || g.r.IntN(3) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		g.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Tag.Get("cache") == "-" {
				continue
			}
			g.fill(v.Field(i), depth+1)
		}
	case reflect.Func, reflect.Interface:
		v.SetZero()
	}
}

func (g gen) float() float64 {
	switch g.r.IntN(6) {
	case 0:
		return math.Copysign(0, -1)
	case 1:
		return math.Inf(1)
	default:
		return g.r.NormFloat64()
	}
}

func (g gen) str() string {
	b := make([]byte, g.r.IntN(6))
	for i := range b {
		b[i] = "ab\x00\xff"[g.r.IntN(4)]
	}
	return string(b)
}

func randomWide(seed uint64) keys.Wide {
	var w keys.Wide
	gen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}.fill(reflect.ValueOf(&w).Elem(), 0)
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
				gen{rand.New(rand.NewPCG(seed+1e6, 1))}.fill(fv, 0)
				same := reflect.DeepEqual(normal(w), normal(mut))
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

// normal maps values that must hash alike onto one representation: nil and empty slices and
// maps, and times at one instant in one location.
func normal(w keys.Wide) any {
	v := reflect.New(reflect.TypeFor[keys.Wide]()).Elem()
	v.Set(reflect.ValueOf(w))
	normalize(v)
	return v.Interface()
}

func normalize(v reflect.Value) {
	v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		if v.Kind() == reflect.Slice {
			c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(c, v)
			for i := range c.Len() {
				normalize(c.Index(i))
			}
			v.Set(c)
		}
	case reflect.Array:
		for i := range v.Len() {
			normalize(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			v.Set(reflect.ValueOf(time.Unix(t.Unix(), int64(t.Nanosecond())).In(t.Location())))
			return
		}
		for i := range v.NumField() {
			normalize(v.Field(i))
		}
	}
}

func TestPropertyMapOrderIrrelevant(t *testing.T) {
	for seed := range uint64(propertyRuns) {
		w := randomWide(seed)
		want := keyhash.Sum(w)
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
		if prev, ok := seen[enc]; ok && !reflect.DeepEqual(normal(w), normal(randomWide(prev))) {
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

func TestHasherAllocsNothing(t *testing.T) {
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
