package cache

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
type Cloner[V any] interface {
	CachegenClone() V
}

// memoryHit returns the value of the memory entry e of value type V, the caller's own unless
// Options.SharedValues is set; false when e's encoding does not decode, in which case e is
// dropped and counted in Stats.Corrupt. An entry whose value is kept decoded (its type has a
// CachegenClone, or values are shared) is decoded by its first hit.
func memoryHit[V any, PV Value[V]](c *Cache, e *memEntry) (V, bool) {
	if mv, ok := e.val.(*memValue[V]); ok {
		if mv.cl != nil && !c.opts.SharedValues {
			return mv.cl.CachegenClone(), true
		}
		return *mv.v, true
	}
	vt := e.key.vt
	var zero V
	if !vt.clone && !c.opts.SharedValues {
		v, err := decodePooled[V, PV](vt, e.data)
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
	mv := &memValue[V]{v: p}
	if vt.clone {
		mv.cl = any(p).(Cloner[V])
	}
	if !c.mem.replace(e, &memEntry{key: e.key, val: mv, size: e.size}) {
		return *p, true // the entry changed meanwhile: this value is no one else's
	}
	if mv.cl != nil && !c.opts.SharedValues {
		return mv.cl.CachegenClone(), true
	}
	return *p, true
}

// dropCorrupt drops the memory entry e, whose encoding did not decode. Only encodings that
// decoded before are kept: this UnmarshalMsg depends on more than its input.
func (c *Cache) dropCorrupt(e *memEntry) {
	c.mem.removeEntry(e)
	c.stats.corrupt.Add(1)
}
