package cache

import (
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// A VerifyMode says whether a Cache checks its hits by computing them again.
type VerifyMode int

// The verify modes. Verifying costs a computation on every hit: it is for tests and CI runs
// (as Go's GODEBUG=gocacheverify=1 is), not for production.
const (
	// VerifyFromEnv, the zero value, takes the mode from the environment variable
	// CACHEGEN_VERIFY: "1" selects VerifyReport, "panic" VerifyPanic; anything else,
	// VerifyOff.
	VerifyFromEnv VerifyMode = iota
	// VerifyOff serves hits without computing.
	VerifyOff
	// VerifyReport computes on every hit as well and compares the fresh value with the
	// cached one: a difference is logged as an error (key type, digest, and the path of the
	// first differing field), counted in Stats.VerifyFailures, and the fresh value is
	// returned.
	VerifyReport
	// VerifyPanic is VerifyReport, but a difference panics.
	VerifyPanic
)

// verifyEnv is the environment variable read by VerifyFromEnv.
const verifyEnv = "CACHEGEN_VERIFY"

// resolve returns the mode that m selects.
func (m VerifyMode) resolve() VerifyMode {
	if m != VerifyFromEnv {
		return m
	}
	switch os.Getenv(verifyEnv) {
	case "1":
		return VerifyReport
	case "panic":
		return VerifyPanic
	}
	return VerifyOff
}

// verify computes the value of key again, after a hit gave cached, and compares the two. It
// returns the value Load returns: the fresh one (the cached one when compute fails). A
// compute that panics makes verify panic with a *PanicError, as Load does.
//
// The cached value went through the value's serializers; the fresh one is sent through them
// too before the comparison, so that what they do not keep (a msg:"-" field) is no
// difference, and what they keep (an unexported field that hand-written or generated
// methods store) is compared.
func verify[K keyhash.Key, V any, PV Value[V]](ctx context.Context, c *Cache, key K, digest keyhash.Digest, cached V, compute func(context.Context, K) (V, error)) V {
	c.stats.computes.Add(1)
	fresh, err := computeWrapped(ctx, key, compute)
	if err != nil {
		c.stats.computeErrors.Add(1)
		return cached
	}
	c.stats.verified.Add(1)
	compared := fresh
	if raw, err := PV(&fresh).MarshalMsg(nil); err == nil {
		if v, err := decode[V, PV](raw); err == nil {
			compared = v
		}
	}
	path, differ := firstDifference(reflect.ValueOf(&cached).Elem(), reflect.ValueOf(&compared).Elem(), "")
	if !differ {
		return fresh
	}
	c.stats.verifyFailures.Add(1)
	if path == "" {
		path = "(the whole value)"
	}
	msg := fmt.Sprintf("cachegen: verify: the cached value of %T %s differs from a fresh computation at %s: the key misses something compute reads, or compute is not deterministic",
		key, digest, path)
	if c.verify == VerifyPanic {
		panic(msg)
	}
	c.opts.Logger.Error(msg, "key", fmt.Sprintf("%T", key), "digest", digest.String(), "field", path)
	return fresh
}

// computeWrapped calls compute, turning a panic into a *PanicError panic.
func computeWrapped[K keyhash.Key, V any](ctx context.Context, key K, compute func(context.Context, K) (V, error)) (V, error) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(*PanicError); !ok {
				p = &PanicError{Value: p, Stack: debug.Stack()}
			}
			panic(p)
		}
	}()
	return compute(ctx, key)
}

// firstDifference compares a and b, two values of one type, both decoded by the value's
// serializers, and returns the path of the first difference (Code, Relocs[3].Symbol,
// Names["main"]). Unexported fields count (serializers may keep them); nil and empty slices
// and maps are equal, times are compared as instants, and a NaN equals a NaN.
func firstDifference(a, b reflect.Value, path string) (string, bool) {
	if a.Type() == reflect.TypeFor[time.Time]() && a.CanInterface() {
		return path, !a.Interface().(time.Time).Equal(b.Interface().(time.Time))
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return path, a.IsNil() != b.IsNil()
		}
		if a.Kind() == reflect.Interface && a.Elem().Type() != b.Elem().Type() {
			return path, true
		}
		return firstDifference(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if p, d := firstDifference(a.Field(i), b.Field(i), join(path, a.Type().Field(i).Name)); d {
				return p, true
			}
		}
		return "", false
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return path, true
		}
		if a.Kind() == reflect.Slice && a.Type().Elem().Kind() == reflect.Uint8 {
			if string(a.Bytes()) != string(b.Bytes()) {
				return path, true
			}
			return "", false
		}
		for i := range a.Len() {
			if p, d := firstDifference(a.Index(i), b.Index(i), path+"["+strconv.Itoa(i)+"]"); d {
				return p, true
			}
		}
		return "", false
	case reflect.Map:
		if a.Len() != b.Len() {
			return path, true
		}
		it := a.MapRange()
		for it.Next() {
			bv := b.MapIndex(it.Key())
			sub := path + "[" + keyString(it.Key()) + "]"
			if !bv.IsValid() {
				return sub, true
			}
			if p, d := firstDifference(it.Value(), bv, sub); d {
				return p, true
			}
		}
		return "", false
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		if math.IsNaN(x) && math.IsNaN(y) {
			return "", false
		}
		return path, x != y || math.Signbit(x) != math.Signbit(y)
	case reflect.Complex64, reflect.Complex128:
		return path, a.Complex() != b.Complex()
	case reflect.Bool:
		return path, a.Bool() != b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return path, a.Int() != b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return path, a.Uint() != b.Uint()
	case reflect.String:
		return path, a.String() != b.String()
	}
	return path, a.Pointer() != b.Pointer() // a channel or a function: no serializer keeps one
}

// keyString shows a map key in a path, as Go source writes it when it can.
func keyString(k reflect.Value) string {
	if k.CanInterface() {
		return fmt.Sprintf("%#v", k.Interface())
	}
	switch k.Kind() {
	case reflect.String:
		return strconv.Quote(k.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10)
	}
	return "?"
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
