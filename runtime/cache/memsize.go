package cache

import (
	"reflect"
	"time"
)

// Map costs in heapSize, as cachegen's CachegenSize counts them: a map's header, and per
// entry its key and value with a byte of control, times 3/2 for free slots; a map that is
// not empty counts at least mapMinEntries entries, the group a small map allocates.
const (
	mapHeader     = 48
	mapMinEntries = 8
)

var locationType = reflect.TypeFor[*time.Location]()

// heapSize estimates the heap bytes v retains beyond its own: string bytes, slices' capacity,
// maps' entries, pointed-to and boxed values, unexported fields included. Memory reached
// twice (the array of two slices, a pointer, a map) counts once, by where it starts; time
// locations count nothing, being shared by every time in them. It is what the memory tier
// charges for keeping a decoded value whose type has no CachegenSize, once per entry.
func heapSize(v reflect.Value, seen map[uintptr]bool) int64 {
	switch v.Kind() {
	case reflect.String:
		return int64(v.Len())
	case reflect.Slice:
		if v.Cap() == 0 || !first(v.Pointer(), seen) {
			return 0
		}
		elem := v.Type().Elem()
		n := int64(v.Cap()) * int64(elem.Size())
		if mayRetain(elem) {
			for i := range v.Len() {
				n += heapSize(v.Index(i), seen)
			}
		}
		return n
	case reflect.Array:
		var n int64
		if mayRetain(v.Type().Elem()) {
			for i := range v.Len() {
				n += heapSize(v.Index(i), seen)
			}
		}
		return n
	case reflect.Pointer:
		if v.IsNil() || v.Type() == locationType || !first(v.Pointer(), seen) {
			return 0
		}
		return int64(v.Type().Elem().Size()) + heapSize(v.Elem(), seen)
	case reflect.Map:
		if v.IsNil() || !first(v.Pointer(), seen) {
			return 0
		}
		n := int64(mapHeader)
		if v.Len() == 0 {
			return n
		}
		t := v.Type()
		n += int64(max(v.Len(), mapMinEntries)) * int64(t.Key().Size()+t.Elem().Size()+1) * 3 / 2
		if mayRetain(t.Key()) || mayRetain(t.Elem()) {
			for it := v.MapRange(); it.Next(); {
				n += heapSize(it.Key(), seen) + heapSize(it.Value(), seen)
			}
		}
		return n
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		n := heapSize(e, seen)
		if e.Kind() != reflect.Pointer && e.Kind() != reflect.Map {
			n += int64(e.Type().Size()) // boxed
		}
		return n
	case reflect.Struct:
		var n int64
		if mayRetain(v.Type()) {
			for i := range v.NumField() {
				n += heapSize(v.Field(i), seen)
			}
		}
		return n
	}
	return 0
}

// first reports whether p is seen for the first time, and records it.
func first(p uintptr, seen map[uintptr]bool) bool {
	if seen[p] {
		return false
	}
	seen[p] = true
	return true
}

// mayRetain reports whether a value of t can retain memory beyond its own bytes.
func mayRetain(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
		return true
	case reflect.Array:
		return t.Len() > 0 && mayRetain(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if mayRetain(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}
