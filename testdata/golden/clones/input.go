// Package clones is a golden input: value structs whose CachegenClone must copy nested
// shapes (slices of byte slices, pointers to structs, structs with times in slices, maps of
// pointers, arrays of slices, a recursive struct, one that decodes to far more than its
// encoding), and one that gets none.
package clones

import "time"

//go:generate go run github.com/cachegen/cachegen/cmd/cachegen

// Span is reached from Trace, and holds a time.
type Span struct {
	Name  string
	Start time.Time
	Tags  map[string]string
	Data  []byte
	// Octets is an array to msgp, not binary: it decodes empty as nil.
	Octets []uint8
	Runs   map[string][]uint8
}

// Node is recursive through a pointer and a slice.
type Node struct {
	ID   int
	Kids []*Node
	Next *Node
}

// Trace holds nested shapes.
//
//cachegen:value
type Trace struct {
	Chunks  [][]byte
	Spans   []Span
	ByName  map[string]*Span
	Lists   map[int32][][]string
	Windows [2][]uint16
	Root    *Node
	Ptrs    []*int64
	Anon    []struct {
		At   time.Time
		Vals []float64
	}
	Pairs [3]struct {
		K string
		V []byte
	}
}

// Tagged uses a msgp tag option, which changes what decoding produces: it gets no
// CachegenClone, and neither does Outer, which holds it.
//
//cachegen:value
type Tagged struct {
	Items []string `msg:"items,omitempty"`
}

// Outer holds a struct without a CachegenClone.
//
//cachegen:value
type Outer struct {
	T Tagged
	N int
}

// Sparse decodes to far more than it encodes: an empty map or slice is one byte of
// encoding, and a heap map or a slice header decoded. Its CachegenSize says so, and the
// cache's memory tier keeps its encoding rather than the decoded value.
//
//cachegen:value
type Sparse struct {
	Maps   []map[string]int
	Slices [][]int
}
