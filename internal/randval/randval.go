// Package randval fills Go values of any type with random contents, unexported fields
// included, and normalizes values for comparison. The property and fuzz tests of keys and
// values use it so that their properties hold for every field kind, not just the ones a test
// author thought of.
package randval

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"reflect"
	"time"
	"unsafe"
)

var (
	timeType         = reflect.TypeFor[time.Time]()
	defaultLocations = []*time.Location{time.UTC, time.FixedZone("X", 3600)}
)

// A Filler fills values from a random source. Fields tagged cache:"-" are left zero, and so
// are funcs and interfaces unless Interface supplies a value.
type Filler struct {
	R *rand.Rand
	// Interface, when set, returns a value for an interface-typed location, or false to
	// leave it nil.
	Interface func(t reflect.Type, r *rand.Rand) (reflect.Value, bool)
	// Locations are the time zones times are put in; nil means UTC and one fixed zone.
	Locations []*time.Location
}

// New returns a Filler drawing from a PCG seeded with seed.
func New(seed uint64) *Filler {
	return &Filler{R: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// FromBytes returns a Filler whose every choice is read from data, so that a fuzzer steers
// the values; once data runs out it continues with a fixed pseudo-random stream (a source
// stuck at zero would hang rand's rejection sampling).
func FromBytes(data []byte) *Filler {
	return &Filler{R: rand.New(&byteSource{data: data})}
}

type byteSource struct {
	data []byte
	rest rand.PCG
}

func (s *byteSource) Uint64() uint64 {
	if len(s.data) == 0 {
		return s.rest.Uint64()
	}
	var b [8]byte
	n := copy(b[:], s.data)
	s.data = s.data[n:]
	return binary.LittleEndian.Uint64(b[:])
}

// Fill sets the value *p points to.
func (g *Filler) Fill(p any) {
	g.fill(reflect.ValueOf(p).Elem(), 0)
}

// FillValue sets v, which must be addressable.
func (g *Filler) FillValue(v reflect.Value) { g.fill(v, 0) }

func (g *Filler) fill(v reflect.Value, depth int) {
	v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem() // unexported fields too
	if v.Type() == timeType {
		locs := g.Locations
		if locs == nil {
			locs = defaultLocations
		}
		t := time.Unix(g.R.Int64N(1<<33), g.R.Int64N(1e9)).In(locs[g.R.IntN(len(locs))])
		v.Set(reflect.ValueOf(t))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(g.R.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(g.R.Uint64()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(g.R.Uint64())
	case reflect.Float32, reflect.Float64:
		v.SetFloat(g.float())
	case reflect.Complex64, reflect.Complex128:
		v.SetComplex(complex(g.float(), g.float()))
	case reflect.String:
		v.SetString(g.str())
	case reflect.Slice:
		n := g.R.IntN(4)
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
		n := g.R.IntN(4)
		m := reflect.MakeMap(v.Type())
		for range n {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			g.fill(k, depth+1)
			g.fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		if depth > 3 || g.R.IntN(3) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		g.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.Tag.Get("cache") == "-" || f.Name == "_" {
				continue
			}
			g.fill(v.Field(i), depth+1)
		}
	case reflect.Interface:
		if g.Interface != nil {
			if iv, ok := g.Interface(v.Type(), g.R); ok {
				v.Set(iv)
				return
			}
		}
		v.SetZero()
	case reflect.Func:
		v.SetZero()
	}
}

// float returns a finite float or +Inf, with -0 often: never NaN, which equals nothing and
// would make every comparison of decoded values fail.
func (g *Filler) float() float64 {
	switch g.R.IntN(6) {
	case 0:
		return math.Copysign(0, -1)
	case 1:
		return math.Inf(1)
	default:
		return g.R.NormFloat64()
	}
}

func (g *Filler) str() string {
	b := make([]byte, g.R.IntN(6))
	for i := range b {
		b[i] = "ab\x00\xff"[g.R.IntN(4)]
	}
	return string(b)
}

// Normal returns a copy of v in which values that must encode alike share one form: nil and
// empty slices and maps become nil, and times are rebuilt from their instant and location
// (dropping monotonic readings). reflect.DeepEqual on normal forms is the equivalence that
// keys hash by and values round-trip by.
func Normal[T any](v T) T {
	c := reflect.New(reflect.TypeFor[T]()).Elem()
	c.Set(reflect.ValueOf(v))
	normalize(c)
	return c.Interface().(T)
}

func normalize(v reflect.Value) {
	v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	switch v.Kind() {
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			normalize(c.Index(i))
		}
		v.Set(c)
	case reflect.Map:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			normalize(e)
			c.SetMapIndex(it.Key(), e)
		}
		v.Set(c)
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(v.Elem())
			normalize(p.Elem())
			v.Set(p)
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

// Equal reports whether a and b are equivalent: equal after Normal, with floats compared by
// their bits, so that a NaN that kept its bits through a round trip counts as equal and -0
// differs from +0.
func Equal[T any](a, b T) bool {
	na, nb := Normal(a), Normal(b)
	return equal(reflect.ValueOf(&na).Elem(), reflect.ValueOf(&nb).Elem())
}

func equal(a, b reflect.Value) bool {
	if a.CanAddr() {
		a = reflect.NewAt(a.Type(), unsafe.Pointer(a.UnsafeAddr())).Elem()
	}
	if b.CanAddr() {
		b = reflect.NewAt(b.Type(), unsafe.Pointer(b.UnsafeAddr())).Elem()
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Complex64, reflect.Complex128:
		x, y := a.Complex(), b.Complex()
		return math.Float64bits(real(x)) == math.Float64bits(real(y)) && math.Float64bits(imag(x)) == math.Float64bits(imag(y))
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() || a.Kind() == reflect.Slice && a.IsNil() != b.IsNil() {
			return false
		}
		for i := range a.Len() {
			if !equal(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() || a.IsNil() != b.IsNil() {
			return false
		}
		it := a.MapRange()
		for it.Next() {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() {
				return false
			}
			av, bc := reflect.New(a.Type().Elem()).Elem(), reflect.New(b.Type().Elem()).Elem()
			av.Set(it.Value())
			bc.Set(bv)
			if !equal(av, bc) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return equal(a.Elem(), b.Elem())
	case reflect.Struct:
		if a.Type() == timeType {
			return reflect.DeepEqual(a.Interface(), b.Interface())
		}
		for i := range a.NumField() {
			if a.Type().Field(i).Name == "_" {
				continue // as in Go's ==, blank fields do not count
			}
			if !equal(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// Scribble changes, in place, everything v shares by reference: the elements of slices,
// the entries of maps (and adds one), what pointers point to: tests change what a copy
// holds to see that the original does not change.
func Scribble(v reflect.Value) {
	if v.CanAddr() {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	switch v.Kind() {
	case reflect.Slice:
		for i := range v.Len() {
			Change(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			Change(e)
			v.SetMapIndex(k, e)
		}
		k := reflect.New(v.Type().Key()).Elem()
		Change(k)
		v.SetMapIndex(k, reflect.New(v.Type().Elem()).Elem())
	case reflect.Pointer:
		if !v.IsNil() {
			Change(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			Change(v.Field(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			Change(v.Index(i))
		}
	}
}

// Change changes v, which is addressable or a fresh copy: a scalar to another value, a
// composite through Scribble.
func Change(v reflect.Value) {
	if v.CanAddr() {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(v.Float() + 1)
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Func, reflect.Interface, reflect.Chan, reflect.Complex64, reflect.Complex128, reflect.Uintptr, reflect.UnsafePointer:
	default:
		Scribble(v)
	}
}
