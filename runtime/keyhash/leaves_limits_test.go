package keyhash_test

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// fnKey is a key whose HashKey is a function: keys of shapes the golden types lack.
type fnKey func(h *keyhash.Hasher)

func (f fnKey) HashKey(h *keyhash.Hasher) {
	h.Begin("example.com/p.K", 1, 2, 3, 4)
	f(h)
	h.End()
}

// nestedMaps is a key of maps nested depth deep, as a recursive generated type makes them:
// map[string]*Node down to a leaf.
func nestedMaps(depth int) keyhash.Key {
	var walk func(h *keyhash.Hasher, d int)
	walk = func(h *keyhash.Hasher, d int) {
		if d == 0 {
			h.Int("Leaf", 1)
			return
		}
		h.Map("Kids", 1)
		h.Entry()
		h.String("key", "abcdefgh")
		walk(h, d-1)
		h.EndMap()
	}
	return fnKey(func(h *keyhash.Hasher) { walk(h, depth) })
}

// TestVisitLeavesDeepKeys: renaming the entries of nested maps copies the paths below them
// at each level; within a byte budget, a key nested 300 deep is listed in a bounded time (it
// took 16 s, on every miss, before the budget), and says that it left leaves out.
func TestVisitLeavesDeepKeys(t *testing.T) {
	k := nestedMaps(300)
	start := time.Now()
	n := 0
	all := keyhash.VisitLeaves(k, 1025, 32<<10, func(path []byte, typ string, value []byte) { n++ })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("listing the leaves of a key nested 300 deep took %v", d)
	}
	if all || n == 0 {
		t.Errorf("listed %d leaves, all=%v: want some, and not all", n, all)
	}
	if all := keyhash.VisitLeaves(nestedMaps(3), 0, 32<<10, func([]byte, string, []byte) {}); !all {
		t.Error("a shallow key was not listed whole")
	}
}

// TestLeavesStopAtMax: once max leaves are listed, no later leaf is, even when a map's
// closing drops its keys' leaves and leaves room under max.
func TestLeavesStopAtMax(t *testing.T) {
	k := fnKey(func(h *keyhash.Hasher) {
		h.Map("M", 300)
		for i := range 300 {
			h.Entry()
			h.Int("key", i)
			h.Int("value", i)
		}
		h.EndMap()
		h.Int("After", 7)
	})
	leaves := keyhash.Leaves(k, 100)
	for _, l := range leaves {
		if strings.Contains(l.Path, "After") {
			t.Fatalf("Leaves(k, 100) lists %s, which comes after leaves it left out", l.Path)
		}
	}
	if all := keyhash.Leaves(k, 0); all[len(all)-1].Path != "K.After" {
		t.Fatalf("the last leaf of all is %q", all[len(all)-1].Path)
	}
}

// TestPoolsDropLargeHashers: a Hasher that grew for a set of a million empty elements has
// small byte buffers but large index ones; pools must not keep it.
func TestPoolsDropLargeHashers(t *testing.T) {
	h := keyhash.New()
	h.Set("S", 1<<20)
	for range 1 << 20 {
		h.Entry()
	}
	h.EndSet()
	h.Sum()
	if h.Small() {
		t.Fatal("a Hasher holding index buffers of a million entries counts as small")
	}
	if !keyhash.New().Small() {
		t.Fatal("a new Hasher does not count as small")
	}
}

// TestLeavesOfEntriesThatShowAlike: entries of a map that show alike (NaN keys, keys
// compared through what they point to, a leaf of a hand-written hash before the entries)
// are listed in one order whatever Go's, and entries that differ never share a path, so
// that a miss explainer cannot pair the leaves of two different entries.
func TestLeavesOfEntriesThatShowAlike(t *testing.T) {
	nan := map[float64]int{}
	for i := range 4 {
		nan[math.NaN()] = i
	}
	one, two, three := 1, 2, 3
	ptrs := map[*int]string{&one: "x", &two: "y", &three: "x"}
	for _, tc := range []struct {
		name string
		key  keyhash.Key
		want string // a path the listing holds
	}{
		{"NaN keys", fnKey(func(h *keyhash.Hasher) {
			h.Map("F", len(nan))
			for k, v := range nan {
				h.Entry()
				h.Float64("key", k)
				h.Int("value", v)
			}
			h.EndMap()
		}), "K.F[NaN" + keyhash.EntryMark},
		{"pointer keys", fnKey(func(h *keyhash.Hasher) {
			h.Map("M", len(ptrs))
			for k, v := range ptrs {
				h.Entry()
				if h.Ptr("key", k != nil) {
					h.Int("*key", *k)
				}
				h.String("value", v)
			}
			h.EndMap()
		}), "K.M[present, 2]"},
		{"a leaf before the entries", fnKey(func(h *keyhash.Hasher) {
			c := h.Custom("Define", "hashDefs")
			c.Map("M", len(ptrs))
			c.Int("count", len(ptrs))
			for k, v := range ptrs {
				c.Entry()
				c.Int("key", *k)
				c.String("value", v)
			}
			c.EndMap()
			h.EndCustom()
		}), "K.Define.M.count"},
	} {
		first := keyhash.Leaves(tc.key, 0)
		paths := map[string]bool{}
		for _, l := range first {
			if paths[l.Path] && l.Type != "map" {
				t.Errorf("%s: two leaves at %s", tc.name, l.Path)
			}
			paths[l.Path] = true
		}
		found := false
		for p := range paths {
			found = found || strings.HasPrefix(p, tc.want)
		}
		if !found {
			t.Errorf("%s: no path %s... in %q", tc.name, tc.want, first)
		}
		for range 100 {
			if got := keyhash.Leaves(tc.key, 0); !reflect.DeepEqual(got, first) {
				t.Fatalf("%s: two listings differ:\n%q\n%q", tc.name, got, first)
			}
		}
	}
}
