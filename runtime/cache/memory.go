package cache

import (
	"sync"
	"sync/atomic"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// memShards is the number of independently locked parts of the memory tier, so that
// stores of different keys rarely contend. Hits take no lock at all.
const memShards = 16

// memEntryOverhead approximates the bytes a memory entry costs beyond its data: the map slot,
// the list links and the slice header.
const memEntryOverhead = 256

// A memKey names a value in the memory tier: the key's digest and the value type. The version
// is implied (one memory tier per Cache).
type memKey struct {
	d  keyhash.Digest
	vt *valueType
}

// A memEntry is one value of the memory tier: its msgp encoding, or, once a hit has decoded
// it for a value type that is copied rather than decoded on hits (see memValue), the decoded
// value. Every field but ref and the list links is fixed once the entry is published in the
// index, so that hits read it without a lock; decoding an entry replaces it with a new one.
type memEntry struct {
	key  memKey
	data []byte // the encoding, nil in an entry that holds the decoded value
	val  any    // *memValue[V] for the entry's value type, or nil
	// size is what the budget charges for the entry (besides memEntryOverhead): the
	// encoding's length, or what the decoded value retains (its type's size and its
	// CachegenSize, or heapSize).
	size int64
	// plain marks an encoding kept on purpose, since its decoded value would cost too
	// much (keepRatio): every hit decodes it.
	plain bool

	// ref is set by a hit and cleared by the eviction that spares the entry once (the
	// CLOCK approximation of LRU): a hit writes nothing when it is already set, so that
	// hits on one key from many cores share its cache line read-only.
	ref atomic.Bool

	prev, next *memEntry // the shard's list, guarded by its mu
}

// A memValue is a decoded value kept by the memory tier, which no caller ever receives
// unless Options.SharedValues is set: a hit returns a copy made by its CachegenClone.
type memValue[V any] struct {
	v *V
}

// A memShard is the list of entries of one part of the memory tier, bounded in bytes: new
// entries enter at the front, and eviction takes them from the back, sparing once those
// that a hit marked.
type memShard struct {
	mu    sync.Mutex
	m     map[memKey]*memEntry
	root  memEntry // sentinel: root.next is the most recently stored entry
	bytes int64
	max   int64
}

// A memory is the in-process tier: the msgp encodings of recently used values (or, for value
// types with a CachegenClone and in shared mode, the values decoded once), bounded in the
// bytes they retain (a decoded value by its estimated heap size), least recently used
// evicted first (approximately). It never gives a caller anything another caller can
// change: a hit decodes or copies, unless the Cache shares values by request.
//
// Lookups go through index, a sync.Map, without a lock; the shards' locks are for stores,
// removals and eviction, which keep index and the shards' maps alike.
type memory struct {
	index   sync.Map // memKey -> *memEntry
	shards  [memShards]memShard
	evicted *atomic.Uint64
}

// newMemory returns a memory tier of max bytes in total, or nil if max <= 0.
func newMemory(max int64, evicted *atomic.Uint64) *memory {
	if max <= 0 {
		return nil
	}
	m := &memory{evicted: evicted}
	for i := range m.shards {
		s := &m.shards[i]
		s.m = make(map[memKey]*memEntry)
		s.root.next, s.root.prev = &s.root, &s.root
		s.max = max / memShards
	}
	return m
}

func (m *memory) shard(k *memKey) *memShard { return &m.shards[k.d[0]%memShards] }

// lookup returns the entry stored under k, marked as used, or nil. It takes no lock.
func (m *memory) lookup(k memKey) *memEntry {
	if m == nil {
		return nil
	}
	v, ok := m.index.Load(k)
	if !ok {
		return nil
	}
	e := v.(*memEntry)
	if !e.ref.Load() {
		e.ref.Store(true)
	}
	return e
}

// get returns the encoding stored under k, which the caller must not modify; nil for an
// entry that holds a decoded value.
func (m *memory) get(k memKey) ([]byte, bool) {
	e := m.lookup(k)
	if e == nil {
		return nil, false
	}
	return e.data, true
}

// put stores data, which it owns from then on, under k, evicting the least recently used
// entries of its shard as needed. Values larger than half a shard are not kept.
func (m *memory) put(k memKey, data []byte) {
	if m == nil {
		return
	}
	// The budget counts what is retained: an encoding in a buffer sized by Msgsize (an
	// upper bound, 9 bytes for an int64 that encodes in 1) keeps its whole capacity alive,
	// so a loose one is copied to its length.
	if cap(data)-len(data) > len(data)/8 {
		data = append([]byte(nil), data...)
	}
	data = data[:len(data):len(data)]
	s := m.shard(&k)
	cost := int64(len(data)) + memEntryOverhead
	if cost > s.max/2 {
		return
	}
	e := &memEntry{key: k, data: data, size: int64(len(data))}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[k]; ok {
		old.unlink()
		s.bytes -= old.size + memEntryOverhead
	}
	s.m[k] = e
	m.index.Store(k, e)
	s.pushFront(e)
	s.bytes += cost
	m.evict(s, e)
}

// evict removes entries from the back of s until it fits its budget. An entry a hit marked
// since it was last considered is spared once: moved to the front, its mark cleared. So is
// fresh, the entry just stored (nil for none), which no hit could mark yet: otherwise the
// entries hit before it would all be spared ahead of it, and a new value would not stay
// while the resident ones are being hit. s.mu is held.
func (m *memory) evict(s *memShard, fresh *memEntry) {
	spared := 0
	for s.bytes > s.max {
		e := s.root.prev
		if e == fresh {
			fresh = nil
			e.unlink()
			s.pushFront(e)
			continue
		}
		if e.ref.Load() && spared < len(s.m) {
			// Bounded, so that hits marking entries as fast as they are spared cannot
			// keep the loop going.
			spared++
			e.ref.Store(false)
			e.unlink()
			s.pushFront(e)
			continue
		}
		e.unlink()
		delete(s.m, e.key)
		m.index.CompareAndDelete(e.key, e)
		s.bytes -= e.size + memEntryOverhead
		m.evicted.Add(1)
	}
}

// replace puts next, which holds the value decoded from old's encoding (or that encoding,
// marked plain), in old's place, if old is still the entry of its key, charging the shard
// next's size instead of old's and evicting as needed; it reports whether it did.
func (m *memory) replace(old, next *memEntry) bool {
	s := m.shard(&old.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[old.key] != old {
		return false
	}
	next.ref.Store(true)
	next.prev, next.next = old.prev, old.next
	next.prev.next, next.next.prev = next, next
	old.prev, old.next = nil, nil
	s.m[old.key] = next
	m.index.Store(old.key, next)
	s.bytes += next.size - old.size
	m.evict(s, nil)
	return true
}

// remove drops the entry stored under k, if any.
func (m *memory) remove(k memKey) {
	if m == nil {
		return
	}
	s := m.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[k]; ok {
		m.drop(s, e)
	}
}

// removeEntry drops e, if it is still the entry of its key, and reports whether it did.
func (m *memory) removeEntry(e *memEntry) bool {
	s := m.shard(&e.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[e.key] != e {
		return false
	}
	m.drop(s, e)
	return true
}

// drop removes e from s and the index. s.mu is held.
func (m *memory) drop(s *memShard, e *memEntry) {
	e.unlink()
	delete(s.m, e.key)
	m.index.CompareAndDelete(e.key, e)
	s.bytes -= e.size + memEntryOverhead
}

func (s *memShard) pushFront(e *memEntry) {
	e.prev = &s.root
	e.next = s.root.next
	s.root.next.prev = e
	s.root.next = e
}

func (e *memEntry) unlink() {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}
