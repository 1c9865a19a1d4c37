package gen_test

import (
	"reflect"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/cachegen/cachegen/internal/randval"
	"github.com/cachegen/cachegen/testdata/golden/clones"
	"github.com/cachegen/cachegen/testdata/golden/valueexclusions"
	"github.com/cachegen/cachegen/testdata/golden/values"
	"github.com/tinylib/msgp/msgp"
)

// cloneProperty checks, over random values of T and the zero value, that CachegenClone
// returns exactly what decoding the value's encoding returns (reflect.DeepEqual: nil and
// empty slices and maps apart, times by their representation), and that changing every
// mutable part of the copy leaves the original as it was.
func cloneProperty[T any, PT interface {
	*T
	msgp.Marshaler
	msgp.Unmarshaler
	CachegenClone() T
}](t *testing.T, runs uint64) {
	t.Helper()
	for seed := range runs + 1 {
		var v T
		if seed > 0 {
			f := randval.New(seed)
			f.Locations = []*time.Location{time.UTC, time.FixedZone("X", 3600), time.Local}
			f.Fill(&v)
			withMonotonic(reflect.ValueOf(&v).Elem(), seed)
		}
		b, err := PT(&v).MarshalMsg(nil)
		if err != nil {
			t.Fatalf("seed %d: MarshalMsg: %v", seed, err)
		}
		var want T
		if _, err := PT(&want).UnmarshalMsg(b); err != nil {
			t.Fatalf("seed %d: UnmarshalMsg: %v", seed, err)
		}
		got := PT(&v).CachegenClone()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: %T: CachegenClone differs from decoding the encoding\n got %#v\nwant %#v", seed, v, got, want)
		}
		// The copy of a decoded value is that value.
		if again := PT(&want).CachegenClone(); !reflect.DeepEqual(again, want) {
			t.Fatalf("seed %d: the copy of a decoded value differs from it", seed)
		}
		var before T
		if _, err := PT(&before).UnmarshalMsg(b); err != nil {
			t.Fatal(err)
		}
		randval.Scribble(reflect.ValueOf(&got).Elem())
		if !reflect.DeepEqual(PT(&v).CachegenClone(), before) {
			t.Fatalf("seed %d: changing the copy changed the original", seed)
		}
	}
}

// withMonotonic gives the times directly in v's fields a monotonic reading now and then,
// which decoding drops.
func withMonotonic(v reflect.Value, seed uint64) {
	if v.Kind() != reflect.Struct || seed%3 != 0 {
		return
	}
	for i := range v.NumField() {
		f := reflect.NewAt(v.Field(i).Type(), unsafe.Pointer(v.Field(i).UnsafeAddr())).Elem()
		if f.Type() == reflect.TypeFor[time.Time]() {
			f.Set(reflect.ValueOf(time.Now().Add(time.Duration(seed))))
		}
	}
}

// TestCloneIsDecodeOfEncode is the property of every generated CachegenClone of the golden
// values, which hold every kind of field cachegen copies.
func TestCloneIsDecodeOfEncode(t *testing.T) {
	cloneProperty[values.Artifact](t, 300)
	cloneProperty[values.Options](t, 100)
	cloneProperty[values.Tagged](t, 100)
	cloneProperty[values.Stamp](t, 50)
	cloneProperty[values.Reloc](t, 50)
	cloneProperty[valueexclusions.KV](t, 50)
	cloneProperty[valueexclusions.V](t, 50)
	cloneProperty[clones.Trace](t, 300)
	cloneProperty[clones.Span](t, 100)
	cloneProperty[clones.Node](t, 100)
	cloneProperty[clones.Sparse](t, 100)
}

// TestNoCloneWhereUnsafe: a value whose field has hand-written msgp methods gets no
// CachegenClone (cachegen cannot know how to copy it), so the cache decodes it.
func TestNoCloneWhereUnsafe(t *testing.T) {
	type cloner interface{ CachegenClone() values.Holder }
	if _, ok := any(&values.Holder{}).(cloner); ok {
		t.Error("Holder, which holds a Wire with hand-written msgp methods, has a CachegenClone")
	}
	if _, ok := any(&clones.Tagged{}).(interface{ CachegenClone() clones.Tagged }); ok {
		t.Error("Tagged, whose field has msgp tag options, has a CachegenClone")
	}
	if _, ok := any(&clones.Outer{}).(interface{ CachegenClone() clones.Outer }); ok {
		t.Error("Outer, which holds Tagged, has a CachegenClone")
	}
}

// sizeRatio returns, over random values of T and the zero value, the sum of what the memory
// tier charges for a decoded value (its struct's size and its CachegenSize) divided by the
// sum of the bytes that decoding it allocates.
func sizeRatio[T any, PT interface {
	*T
	msgp.Marshaler
	msgp.Unmarshaler
	CachegenSize() int
}](t *testing.T, runs uint64) float64 {
	t.Helper()
	var est, alloc uint64
	var ms runtime.MemStats
	for seed := range runs + 1 {
		var v T
		if seed > 0 {
			randval.New(seed).Fill(&v)
		}
		b, err := PT(&v).MarshalMsg(nil)
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		targets := make([]T, n)
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		for i := range targets {
			if _, err := PT(&targets[i]).UnmarshalMsg(b); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&ms)
		alloc += (ms.TotalAlloc - before) / n
		est += uint64(unsafe.Sizeof(v)) + uint64(PT(&targets[0]).CachegenSize())
		alloc += uint64(unsafe.Sizeof(v)) // the struct the tier keeps
	}
	return float64(est) / float64(alloc)
}

// TestSizeEstimatesDecodedValue: CachegenSize, which the memory tier charges for a value it
// keeps decoded, is within a small factor of what decoding the value allocates (maps are
// estimated high: their free slots are not known).
func TestSizeEstimatesDecodedValue(t *testing.T) {
	for name, r := range map[string]float64{
		"values.Artifact":    sizeRatio[values.Artifact](t, 100),
		"values.Options":     sizeRatio[values.Options](t, 100),
		"clones.Trace":       sizeRatio[clones.Trace](t, 100),
		"clones.Span":        sizeRatio[clones.Span](t, 100),
		"clones.Node":        sizeRatio[clones.Node](t, 100),
		"clones.Sparse":      sizeRatio[clones.Sparse](t, 100),
		"valueexclusions.KV": sizeRatio[valueexclusions.KV](t, 50),
	} {
		if r < 0.7 || r > 3 {
			t.Errorf("%s: the size estimate is %.2f times what decoding allocates", name, r)
		} else {
			t.Logf("%s: estimate / allocated = %.2f", name, r)
		}
	}
}

// TestReusableMarker: the marker that lets the cache decode into a reused target is
// generated for values whose decoding is cachegen's own code throughout, and not for one
// that holds a type with hand-written msgp methods, which may keep pointers into its
// receiver.
func TestReusableMarker(t *testing.T) {
	if _, ok := any(&values.Holder{}).(interface{ CachegenReusable(*values.Holder) }); ok {
		t.Error("Holder, which holds a Wire with hand-written msgp methods, is marked reusable")
	}
	if _, ok := any(&clones.Outer{}).(interface{ CachegenReusable(*clones.Outer) }); !ok {
		t.Error("Outer, generated throughout (without a CachegenClone), is not marked reusable")
	}
	if _, ok := any(&clones.Trace{}).(interface{ CachegenReusable(*clones.Trace) }); !ok {
		t.Error("Trace is not marked reusable")
	}
}
