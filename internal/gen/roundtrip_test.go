package gen_test

import (
	"bytes"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/cachegen/cachegen/internal/randval"
	"github.com/cachegen/cachegen/testdata/golden/valueexclusions"
	"github.com/cachegen/cachegen/testdata/golden/values"
	"github.com/tinylib/msgp/msgp"
)

// utc fills values with times in UTC: serializers keep a time's instant and decode it in
// UTC, so a value's location is the one thing that does not round-trip (documented).
func utc(seed uint64) *randval.Filler {
	f := randval.New(seed)
	f.Locations = []*time.Location{time.UTC}
	return f
}

// TestValueRoundTrip marshals random wide values through both of msgp's interfaces and
// expects equal values back, every field included (unexported ones too).
func TestValueRoundTrip(t *testing.T) {
	for seed := range uint64(300) {
		var a values.Artifact
		utc(seed).Fill(&a)
		a.Log = nil // excluded with cache:"-"

		b, err := a.MarshalMsg(nil)
		if err != nil {
			t.Fatalf("seed %d: MarshalMsg: %v", seed, err)
		}
		if a.Msgsize() < len(b) {
			t.Fatalf("seed %d: Msgsize %d < encoded size %d", seed, a.Msgsize(), len(b))
		}
		var got values.Artifact
		rest, err := got.UnmarshalMsg(b)
		if err != nil || len(rest) != 0 {
			t.Fatalf("seed %d: UnmarshalMsg: %v (%d bytes left)", seed, err, len(rest))
		}
		if !randval.Equal(a, got) {
			t.Fatalf("seed %d: round trip changed the value\n got %+v\nwant %+v", seed, got, a)
		}

		var buf bytes.Buffer
		w := msgp.NewWriter(&buf)
		if err := a.EncodeMsg(w); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		var dec values.Artifact
		if err := dec.DecodeMsg(msgp.NewReader(&buf)); err != nil {
			t.Fatalf("seed %d: DecodeMsg: %v", seed, err)
		}
		if !randval.Equal(a, dec) {
			t.Fatalf("seed %d: DecodeMsg changed the value", seed)
		}
	}
}

func TestValueRoundTripEveryField(t *testing.T) {
	// Each field alone, so that a field msgp dropped cannot hide behind the others.
	typ := reflect.TypeFor[values.Artifact]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Tag.Get("cache") == "-" {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			for seed := range uint64(50) {
				var a values.Artifact
				utc(seed).FillValue(reflect.ValueOf(&a).Elem().Field(i))
				b, err := a.MarshalMsg(nil)
				if err != nil {
					t.Fatal(err)
				}
				var got values.Artifact
				if _, err := got.UnmarshalMsg(b); err != nil {
					t.Fatal(err)
				}
				if !randval.Equal(a, got) {
					t.Fatalf("seed %d: %s did not round-trip", seed, f.Name)
				}
			}
		})
	}
}

// roundTrip marshals random values of T and expects equal values back.
func roundTrip[T any, PT interface {
	*T
	msgp.Marshaler
	msgp.Unmarshaler
}](t *testing.T, runs uint64) {
	t.Helper()
	for seed := range runs {
		var v T
		utc(seed).Fill(&v)
		b, err := PT(&v).MarshalMsg(nil)
		if err != nil {
			t.Fatalf("seed %d: MarshalMsg: %v", seed, err)
		}
		var got T
		if _, err := PT(&got).UnmarshalMsg(b); err != nil {
			t.Fatalf("seed %d: UnmarshalMsg: %v", seed, err)
		}
		if !randval.Equal(v, got) {
			t.Fatalf("seed %d: %T did not round-trip\n got %+v\nwant %+v", seed, v, got, v)
		}
	}
}

// TestKeyRoundTrip: keys get serializers too, so that a stored key can explain a miss.
func TestKeyRoundTrip(t *testing.T) { roundTrip[values.Options](t, 100) }

// TestTaggedRoundTrip covers tagged anonymous structs, an embedded alias and a blank field.
func TestTaggedRoundTrip(t *testing.T) { roundTrip[values.Tagged](t, 100) }

// TestPromotedMsgpRoundTrip: a struct of the package that has msgp methods only by
// promotion from an embedded field gets serializers of its own; the promoted ones would drop
// its other fields.
func TestPromotedMsgpRoundTrip(t *testing.T) {
	roundTrip[values.Holder](t, 50)
	in := values.Holder{W: values.Wrapped{Wire: values.Wire{A: 1}, Extra: "x"}, N: 2}
	b, err := in.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got values.Holder
	if _, err := got.UnmarshalMsg(b); err != nil {
		t.Fatal(err)
	}
	if got != in {
		t.Errorf("round trip of %+v gave %+v", in, got)
	}
}

// TestKeyExclusionsAreSerialized: cache:"-" and exclude= leave fields out of the key only; a
// value keeps them, so that a hit returns what a miss computed. Only msg:"-" drops one.
func TestKeyExclusionsAreSerialized(t *testing.T) {
	roundTrip[valueexclusions.V](t, 20)
	in := valueexclusions.KV{A: 1, B: 2, C: "c", Log: func() {}}
	b, err := in.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got valueexclusions.KV
	if _, err := got.UnmarshalMsg(b); err != nil {
		t.Fatal(err)
	}
	if got.A != 1 || got.B != 2 || got.C != "c" || got.Log != nil {
		t.Errorf("round trip of %+v gave %+v; want every field but Log", in, got)
	}
}

// TestForgedCountDoesNotAllocate feeds a header that claims a billion elements: decoding
// must fail before it allocates for them.
func TestForgedCountDoesNotAllocate(t *testing.T) {
	data := msgp.AppendMapHeader(nil, 1)
	data = msgp.AppendString(data, "Relocs")
	data = msgp.AppendArrayHeader(data, 1<<30)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var a values.Artifact
	_, err := a.UnmarshalMsg(data)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a forged count decoded without error")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("decoding a %d-byte forged input allocated %d bytes", len(data), grew)
	}
}

// FuzzUnmarshalArtifact feeds arbitrary bytes to a generated UnmarshalMsg: an error is fine,
// a panic or a runaway allocation is not, and whatever decodes must re-encode and decode to
// the same value.
func FuzzUnmarshalArtifact(f *testing.F) {
	for seed := range uint64(4) {
		var a values.Artifact
		utc(seed).Fill(&a)
		a.Log = nil
		b, _ := a.MarshalMsg(nil)
		f.Add(b)
	}
	f.Add([]byte{0x81, 0xa6, 'R', 'e', 'l', 'o', 'c', 's', 0xdd, 0x40, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a values.Artifact
		if _, err := a.UnmarshalMsg(data); err != nil {
			return
		}
		b, err := a.MarshalMsg(nil)
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		var again values.Artifact
		if _, err := again.UnmarshalMsg(b); err != nil {
			t.Fatalf("re-unmarshal: %v", err)
		}
		if !randval.Equal(a, again) {
			t.Fatal("decoded value does not survive a second round trip")
		}
	})
}
