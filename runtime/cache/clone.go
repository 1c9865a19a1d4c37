package cache

import (
	"fmt"
	"reflect"
	"runtime/debug"
)

// Cloner is implemented by the pointer type of a value type with a deep-copy method, as
// cachegen generates for //cachegen:value structs whose fields it can copy (the generated
// file says which get none, and why). CachegenClone must return a value equal to what
// decoding the receiver's msgp encoding returns, sharing nothing that can be modified with
// the receiver.
//
// Load uses it on its own: for a value type V whose *V is a Cloner[V], the memory tier keeps
// the value decoded (on the first hit of its entry) and each hit returns a copy, which costs
// a fraction of decoding. Other value types, hand-written msgp types among them, are decoded
// from the stored encoding on every hit. Cloner is not part of the Value constraint.
//
// The tier charges a value it keeps decoded what the value retains: V's size plus what the
// CachegenSize() int method cachegen generates beside CachegenClone estimates (string bytes,
// slices' capacity, maps' entries, pointed-to values), or, for a Cloner without one, what a
// walk of the value finds. A value that would retain more than four times its encoding
// (a slice or map of small numbers, empty maps), or more than half a shard of the tier, is
// not kept decoded: its entry keeps the encoding, and each hit decodes it.
//
// A CachegenClone that panics is recovered from: the panic is counted in Stats.Errors and
// logged at error level with its stack, the value is decoded instead (or, for an entry that
// only held the decoded value, read from the disk tier), and the memory tier of that Cache
// decodes the values of V rather than copying them from then on.
type Cloner[V any] interface {
	CachegenClone() V
}

// sizer is implemented, beside Cloner[V], by the pointer type of a value type V whose
// decoded values' heap size cachegen estimates (CachegenSize): what the memory tier charges,
// with V's own size, for keeping a value decoded. Other types are measured by walking the
// value (heapSize).
type sizer interface {
	CachegenSize() int
}

// reusable is implemented by the pointer type of a value type V whose UnmarshalMsg is code
// cachegen generated throughout (CachegenReusable, a marker): it leaves nothing in its
// receiver that points into the receiver, so a hit may decode into a pooled target and copy
// the value out. The method's argument ties the marker to V: one promoted from an embedded
// struct does not count.
type reusable[V any] interface {
	CachegenReusable(*V)
}

// keepRatio bounds what a decoded value may cost the memory tier against its encoding: an
// entry whose value would retain more than keepRatio times its encoding's length (plus
// memEntryOverhead) keeps the encoding and decodes it on every hit, as do entries whose
// decoded value would not fit in half a shard.
const keepRatio = 4

// memoryHit returns the value of the memory entry e of value type V, the caller's own unless
// Options.SharedValues is set; false when e's encoding does not decode, in which case e is
// dropped and counted in Stats.Corrupt, or when a value kept decoded cannot be copied (its
// CachegenClone panicked), in which case e is dropped. An entry whose value is kept decoded
// (its type has a CachegenClone, or values are shared) is decoded by its first hit, and kept
// so unless the decoded value would cost the tier too much (keepRatio).
func memoryHit[V any, PV Value[V]](c *Cache, e *memEntry) (V, bool) {
	shared := c.opts.SharedValues
	vt := e.key.vt
	var zero V
	if mv, ok := e.val.(*memValue[V]); ok {
		if shared {
			return *mv.v, true
		}
		if !vt.cloneFailed.Load() {
			if v, ok := cloneOf(c, vt, mv.v); ok {
				return v, true
			}
		}
		c.mem.removeEntry(e) // nothing to copy from: the flight reads the disk
		return zero, false
	}
	if e.plain || !shared && (!vt.clone || vt.cloneFailed.Load()) {
		v, err := decodeHit[V, PV](vt, e.data)
		if err != nil {
			c.dropCorrupt(e)
			return zero, false
		}
		return v, true
	}
	p := new(V)
	if err := unmarshal[V, PV](p, e.data); err != nil {
		c.dropCorrupt(e)
		return zero, false
	}
	// The tier is charged what the decoded value retains; one much larger than its
	// encoding (a map or slice of small numbers), or too large for the shard, is not kept.
	size := int64(vt.base)
	if vt.sized {
		size += int64(any(p).(sizer).CachegenSize())
	} else {
		size += heapSize(reflect.ValueOf(p).Elem(), map[uintptr]bool{})
	}
	if size > keepRatio*int64(len(e.data))+memEntryOverhead || size+memEntryOverhead > c.mem.shard(&e.key).max/2 {
		c.mem.replace(e, &memEntry{key: e.key, data: e.data, size: e.size, plain: true})
		return *p, true // no one else's
	}
	v := *p
	if !shared {
		// The copy first: a CachegenClone that panics must not leave its value kept.
		var ok bool
		if v, ok = cloneOf(c, vt, p); !ok {
			return *p, true
		}
	}
	if !c.mem.replace(e, &memEntry{key: e.key, val: &memValue[V]{v: p}, size: size}) {
		return *p, true // the entry changed meanwhile: this value is no one else's
	}
	return v, true
}

// cloneOf returns p's CachegenClone. When it panics, cloneOf recovers, reports the panic
// (Stats.Errors, and the logger at error level with the stack), marks V so that its values
// are decoded rather than copied from then on, and returns false.
func cloneOf[V any](c *Cache, vt *valueType, p *V) (v V, ok bool) {
	defer func() {
		if !ok {
			r := recover()
			vt.cloneFailed.Store(true)
			err := fmt.Errorf("cache: CachegenClone of %s panicked: %v", vt.name, r)
			c.fail(err)
			c.opts.Logger.Error("cachegen cache: CachegenClone panicked; values of the type are decoded from now on",
				"err", err, "stack", string(debug.Stack()))
		}
	}()
	return any(p).(Cloner[V]).CachegenClone(), true
}

// dropCorrupt drops the memory entry e, whose encoding did not decode, and counts it once:
// concurrent hits of e all fail, and only the one that removes it counts. Only encodings
// that decoded before are kept: this UnmarshalMsg depends on more than its input.
func (c *Cache) dropCorrupt(e *memEntry) {
	if c.mem.removeEntry(e) {
		c.stats.corrupt.Add(1)
	}
}
