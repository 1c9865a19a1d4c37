package cache

import (
	"bytes"
	"fmt"

	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/tinylib/msgp/msgp"
)

// testKey is a key with a hand-written HashKey, as cachegen would generate it.
type testKey struct {
	Name string
	Opt  int
}

func (k testKey) HashKey(h *keyhash.Hasher) {
	h.Begin("cache.testKey", 0x6b1f3c2a9d4e5f60, 0x1122334455667788, 0x99aabbccddeeff00, 0x0f1e2d3c4b5a6978)
	h.String("Name", k.Name)
	h.Int("Opt", k.Opt)
	h.End()
}

// testValue is a value with hand-written msgp methods: a 3-element array.
type testValue struct {
	Name string
	Data []byte
	N    int64
}

func (v *testValue) MarshalMsg(b []byte) ([]byte, error) {
	b = msgp.AppendArrayHeader(b, 3)
	b = msgp.AppendString(b, v.Name)
	b = msgp.AppendBytes(b, v.Data)
	b = msgp.AppendInt64(b, v.N)
	return b, nil
}

func (v *testValue) UnmarshalMsg(b []byte) ([]byte, error) {
	n, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return b, err
	}
	if n != 3 {
		return b, msgp.ArrayError{Wanted: 3, Got: n}
	}
	if v.Name, b, err = msgp.ReadStringBytes(b); err != nil {
		return b, err
	}
	if v.Data, b, err = msgp.ReadBytesBytes(b, v.Data[:0]); err != nil {
		return b, err
	}
	if v.N, b, err = msgp.ReadInt64Bytes(b); err != nil {
		return b, err
	}
	return b, nil
}

func (v *testValue) Msgsize() int {
	return 1 + msgp.StringPrefixSize + len(v.Name) + msgp.BytesPrefixSize + len(v.Data) + msgp.Int64Size
}

func (v testValue) equal(w testValue) bool {
	return v.Name == w.Name && bytes.Equal(v.Data, w.Data) && v.N == w.N
}

// otherValue is a second value type, to check that types are told apart under one key.
type otherValue struct{ S string }

func (v *otherValue) MarshalMsg(b []byte) ([]byte, error) { return msgp.AppendString(b, v.S), nil }
func (v *otherValue) UnmarshalMsg(b []byte) ([]byte, error) {
	var err error
	v.S, b, err = msgp.ReadStringBytes(b)
	return b, err
}
func (v *otherValue) Msgsize() int { return msgp.StringPrefixSize + len(v.S) }

// valueFor is the value that the test compute functions derive from a key: Data is size
// bytes of pseudo-random "instructions", which compress, but not trivially.
func valueFor(k testKey, size int) testValue {
	data := make([]byte, 0, size+8)
	x := uint32(len(k.Name)*7919 + k.Opt*104729 + 1)
	for _, c := range k.Name {
		x = x*31 + uint32(c)
	}
	for len(data) < size {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		op := opcodes[x%uint32(len(opcodes))]
		data = append(data, op...)
		if x&0x300 == 0 { // an immediate operand
			data = append(data, byte(x>>16), byte(x>>24))
		}
	}
	return testValue{Name: fmt.Sprintf("%s/%d", k.Name, k.Opt), Data: data[:size], N: int64(k.Opt) * 1000}
}

// opcodes are instruction encodings of 1 to 4 bytes, some common prefixes shared.
var opcodes = [][]byte{
	{0x48, 0x89, 0xc7}, {0x48, 0x8b, 0x45, 0xf8}, {0xc3}, {0x55}, {0x5d}, {0x48, 0x83, 0xec},
	{0xe8}, {0x0f, 0x85}, {0x31, 0xc0}, {0x89, 0x7d, 0xfc}, {0x8b, 0x45, 0xfc}, {0x48, 0x01, 0xd0},
	{0x90}, {0x74}, {0xeb}, {0x41, 0x57}, {0x41, 0x5f}, {0x48, 0x8d, 0x3d}, {0x66, 0x90}, {0xcc},
}
