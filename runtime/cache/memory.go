package cache

import (
	"sync"
	"sync/atomic"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// memShards is the number of independently locked parts of the memory tier, so that
// parallel hits on different keys rarely contend.
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

// A memEntry is one value's msgp encoding in the LRU list of its shard.
type memEntry struct {
	key        memKey
	data       []byte
	prev, next *memEntry
}

// A memShard is an LRU list of entries bounded in bytes.
type memShard struct {
	mu    sync.Mutex
	m     map[memKey]*memEntry
	root  memEntry // sentinel: root.next is the most recently used entry
	bytes int64
	max   int64
}

// A memory is the in-process tier: the msgp encodings of recently used values, bounded in
// bytes, least recently used evicted first. It stores encodings rather than values so that a
// caller who mutates a value it was given cannot change what the next caller gets.
type memory struct {
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

// get returns the encoding stored under k, which the caller must not modify.
func (m *memory) get(k memKey) ([]byte, bool) {
	if m == nil {
		return nil, false
	}
	s := m.shard(&k)
	s.mu.Lock()
	e, ok := s.m[k]
	if !ok {
		s.mu.Unlock()
		return nil, false
	}
	if s.root.next != e {
		e.unlink()
		s.pushFront(e)
	}
	data := e.data
	s.mu.Unlock()
	return data, true
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[k]; ok {
		s.bytes += int64(len(data)) - int64(len(e.data))
		e.data = data
		e.unlink()
		s.pushFront(e)
	} else {
		e := &memEntry{key: k, data: data}
		s.m[k] = e
		s.pushFront(e)
		s.bytes += cost
	}
	for s.bytes > s.max {
		e := s.root.prev
		e.unlink()
		delete(s.m, e.key)
		s.bytes -= int64(len(e.data)) + memEntryOverhead
		m.evicted.Add(1)
	}
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
		e.unlink()
		delete(s.m, k)
		s.bytes -= int64(len(e.data)) + memEntryOverhead
	}
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
