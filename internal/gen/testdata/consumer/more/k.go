// Package more holds the shapes an adversarial review found after the first fixes.
package more

import (
	"strings"
	"sync"
	"time"

	"example.com/consumer/b/model"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

// Aliases of this package are written as what they stand for.
type (
	Word  = uint64
	Names = []string
	When  = time.Time
	Size  = Small
)

type (
	Small int8
	Big   int64
	Flag  uint8
)

// Path is hashed by a HashKey of its own, case-insensitively.
type Path string

// HashKey hashes p in lower case.
func (p Path) HashKey(h *keyhash.Hasher) { h.String("path", strings.ToLower(string(p))) }

// Forest is recursive; a set of it ignores order at the top.
type Forest []Forest

// The package's own identifiers may take the names of the decoding limits.
const (
	cachegenlimitArrays = 5
	cachegenlimitMaps   = 6
)

// K holds them all, and a lock, which makes its HashKey receiver a pointer.
//
//cachegen:key
type K struct {
	Seen  map[string]struct{}
	ByE   map[struct{}]int
	Es    []struct{} `cache:"set"`
	W     Word
	N     Names
	T     When
	F     [4]Flag
	P     Path
	S     Size
	Trees Forest `cache:"set"`
	V     model.Vec[int]
	E     model.Exp
	L     *LockedList
	mu    sync.Mutex `cache:"-"`
}

// LockedList is recursive and holds a lock: its helper takes a pointer.
type LockedList [2]struct {
	mu   sync.Mutex `cache:"-"`
	Next *LockedList
	N    int
}

// V is a value with aliases and a type with a HashKey of its own.
//
//cachegen:value
type V struct {
	W Word
	N Names
	T When
	A []int
	P Path
}

var _ = [2]int{cachegenlimitArrays, cachegenlimitMaps}
