package cache

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// mapValue holds a map, which msgp writes in Go's iteration order: two encodings of one value
// differ, and verify mode must not call that a difference.
type mapValue struct{ M map[string]int64 }

func (v *mapValue) MarshalMsg(b []byte) ([]byte, error) {
	b = msgp.AppendMapHeader(b, uint32(len(v.M)))
	for k, x := range v.M {
		b = msgp.AppendString(b, k)
		b = msgp.AppendInt64(b, x)
	}
	return b, nil
}

func (v *mapValue) UnmarshalMsg(b []byte) ([]byte, error) {
	n, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		return b, err
	}
	v.M = make(map[string]int64, n)
	for range n {
		var k string
		var x int64
		if k, b, err = msgp.ReadStringBytes(b); err != nil {
			return b, err
		}
		if x, b, err = msgp.ReadInt64Bytes(b); err != nil {
			return b, err
		}
		v.M[k] = x
	}
	return b, nil
}

func (v *mapValue) Msgsize() int { return 5 + len(v.M)*(msgp.StringPrefixSize+16+msgp.Int64Size) }

// logged returns a logger that writes into b.
func logged(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// TestVerifyCatchesAnIncompleteKey: compute reads something its key does not hold (a global
// here); once that changes, a hit serves the old value. Verify mode computes on the hit as
// well, reports the field that differs, counts it, and returns the fresh value, from the
// memory tier and from the disk in another Cache.
func TestVerifyCatchesAnIncompleteKey(t *testing.T) {
	dir := t.TempDir()
	var global atomic.Int64 // what the key leaves out
	global.Store(1)
	compute := func(_ context.Context, k testKey) (testValue, error) {
		return testValue{Name: k.Name, N: global.Load()}, nil
	}
	var log bytes.Buffer
	c := open(t, Options{Dir: dir, Verify: VerifyReport, Logger: logged(&log)})
	if v, err := Load(context.Background(), c, testKey{"k", 1}, compute); err != nil || v.N != 1 {
		t.Fatalf("Load = %+v, %v", v, err)
	}
	global.Store(2)
	v, err := Load(context.Background(), c, testKey{"k", 1}, compute)
	if err != nil || v.N != 2 {
		t.Fatalf("a verified hit returned %+v, %v; want the fresh value", v, err)
	}
	st := c.Stats()
	if st.MemoryHits != 1 || st.Verified != 1 || st.VerifyFailures != 1 {
		t.Fatalf("stats %+v: want one verified memory hit that failed", st)
	}
	for _, want := range []string{"level=ERROR", "cache.testKey", "field=N", "differs from a fresh computation"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, log.String())
		}
	}
	c.Close()

	c2 := open(t, Options{Dir: dir, Verify: VerifyReport, Logger: logged(&log), MemoryBytes: -1})
	global.Store(3)
	if v, _ := Load(context.Background(), c2, testKey{"k", 1}, compute); v.N != 3 {
		t.Fatalf("a verified disk hit returned %+v", v)
	}
	if st := c2.Stats(); st.DiskHits != 1 || st.VerifyFailures != 1 {
		t.Fatalf("stats %+v: want one verified disk hit that failed", st)
	}
}

// TestVerifyCatchesNondeterminism: a compute that returns something else each time fails
// verification; with VerifyPanic, as a CI run would set, the hit panics.
func TestVerifyCatchesNondeterminism(t *testing.T) {
	var calls atomic.Int64
	compute := func(_ context.Context, k testKey) (testValue, error) {
		return testValue{Name: k.Name, Data: []byte{byte(calls.Add(1))}}, nil
	}
	c := open(t, Options{Dir: t.TempDir(), Verify: VerifyPanic})
	load := func() (p any) {
		defer func() { p = recover() }()
		Load(context.Background(), c, testKey{"n", 1}, compute)
		return nil
	}
	if p := load(); p != nil {
		t.Fatalf("the first Load panicked: %v", p)
	}
	p := load()
	if p == nil || !strings.Contains(p.(string), "at Data") {
		t.Fatalf("a nondeterministic compute on a verified hit: recovered %v", p)
	}
}

// TestVerifyHoldsForMaps: a deterministic compute of a value holding a map passes, though the
// map's encodings differ between runs; and nothing is verified when it is off, or without
// CACHEGEN_VERIFY.
func TestVerifyHoldsForMaps(t *testing.T) {
	compute := func(_ context.Context, k testKey) (mapValue, error) {
		m := map[string]int64{}
		for i := range 50 {
			m[string(rune('a'+i%26))+k.Name+string(rune('0'+i/26))] = int64(i)
		}
		return mapValue{M: m}, nil
	}
	t.Setenv(verifyEnv, "1")
	c := open(t, Options{Dir: t.TempDir()}) // from the environment
	for range 10 {
		if _, err := Load(context.Background(), c, testKey{"m", 1}, compute); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Verified != 9 || st.VerifyFailures != 0 {
		t.Fatalf("stats %+v: want 9 verified hits, none failed", st)
	}
	off := open(t, Options{Dir: t.TempDir(), Verify: VerifyOff})
	for range 2 {
		Load(context.Background(), off, testKey{"m", 1}, compute)
	}
	if st := off.Stats(); st.Verified != 0 || st.Computes != 1 {
		t.Fatalf("stats %+v: VerifyOff verified", st)
	}
}

// TestFirstDifference: what a round trip keeps is compared, and the path names the first
// difference; an unexported field counts, since the values compared both went through the
// serializers.
func TestFirstDifference(t *testing.T) {
	type inner struct {
		S []string
		M map[string]int
	}
	type value struct {
		A      int
		In     inner
		P      *inner
		T      time.Time
		F      float64
		hidden int
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	base := func() value {
		return value{A: 1, In: inner{S: []string{"x", "y"}, M: map[string]int{"k": 1}}, P: &inner{}, T: at, F: math.NaN()}
	}
	cases := []struct {
		name   string
		change func(v *value)
		want   string // "" for equal
	}{
		{"same", func(v *value) {}, ""},
		{"unexported", func(v *value) { v.hidden = 9 }, "hidden"}, // serializers may keep it
		{"nil and empty", func(v *value) { v.P.S = []string{}; v.P.M = map[string]int{} }, ""},
		{"another zone, same instant", func(v *value) { v.T = at.In(time.FixedZone("X", 3600)) }, ""},
		{"scalar", func(v *value) { v.A = 2 }, "A"},
		{"slice element", func(v *value) { v.In.S[1] = "z" }, "In.S[1]"},
		{"slice length", func(v *value) { v.In.S = v.In.S[:1] }, "In.S"},
		{"map value", func(v *value) { v.In.M["k"] = 2 }, `In.M["k"]`},
		{"map key", func(v *value) { v.In.M = map[string]int{"j": 1} }, `In.M["k"]`},
		{"nil pointer", func(v *value) { v.P = nil }, "P"},
		{"time", func(v *value) { v.T = at.Add(time.Second) }, "T"},
		{"float", func(v *value) { v.F = 1 }, "F"},
	}
	for _, tc := range cases {
		a, b := base(), base()
		tc.change(&b)
		path, differ := firstDifference(reflect.ValueOf(a), reflect.ValueOf(b), "")
		if differ != (tc.want != "") || path != tc.want {
			t.Errorf("%s: firstDifference = %q, %t; want %q", tc.name, path, differ, tc.want)
		}
	}
}

// skipValue keeps N and the unexported hidden, and not Skip, as a value with a msg:"-" field
// and a serializer that stores an unexported field would.
type skipValue struct {
	N, Skip int64
	hidden  int64
}

func (v *skipValue) MarshalMsg(b []byte) ([]byte, error) {
	return msgp.AppendInt64(msgp.AppendInt64(b, v.N), v.hidden), nil
}

func (v *skipValue) UnmarshalMsg(b []byte) (rest []byte, err error) {
	if v.N, b, err = msgp.ReadInt64Bytes(b); err != nil {
		return b, err
	}
	v.hidden, b, err = msgp.ReadInt64Bytes(b)
	return b, err
}

func (v *skipValue) Msgsize() int { return 2 * msgp.Int64Size }

// TestVerifyComparesWhatTheSerializersKeep: a field the value's serializers drop is no
// difference (the cached copy never has it), and an unexported field they keep is one.
func TestVerifyComparesWhatTheSerializersKeep(t *testing.T) {
	var hidden atomic.Int64
	compute := func(_ context.Context, k testKey) (skipValue, error) {
		return skipValue{N: int64(k.Opt), Skip: time.Now().UnixNano(), hidden: hidden.Load()}, nil
	}
	var logs bytes.Buffer
	c := open(t, Options{Dir: t.TempDir(), Verify: VerifyReport, Logger: logged(&logs)})
	for range 3 {
		if _, err := Load(context.Background(), c, testKey{"skip", 1}, compute); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Verified != 2 || st.VerifyFailures != 0 {
		t.Fatalf("stats %+v: a field the serializers drop was reported\n%s", st, logs.String())
	}
	hidden.Store(7)
	if _, err := Load(context.Background(), c, testKey{"skip", 1}, compute); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.VerifyFailures != 1 || !strings.Contains(logs.String(), "at hidden") {
		t.Fatalf("stats %+v: an unexported field the serializers keep was not compared\n%s", st, logs.String())
	}
}

// TestVerifyComputePanics: a compute that panics on a verifying hit panics in Load with a
// *PanicError, as on a miss.
func TestVerifyComputePanics(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), Verify: VerifyReport})
	load(t, c, testKey{"vp", 1}, computeSmall)
	defer func() {
		if p, ok := recover().(*PanicError); !ok || p.Value != "verify kaboom" {
			t.Errorf("recovered %v, want a *PanicError", p)
		}
	}()
	Load(context.Background(), c, testKey{"vp", 1}, func(context.Context, testKey) (testValue, error) { panic("verify kaboom") })
}
