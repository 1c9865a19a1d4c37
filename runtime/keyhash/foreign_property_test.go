package keyhash_test

import (
	"fmt"
	"image"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/cachegen/cachegen/testdata/golden/foreign"
)

// randomForeign returns a random key made of types of other packages, each drawn from a
// small pool so that equal values are frequent, and a description that is equal exactly when
// two keys are equal.
func randomForeign(seed uint64) (foreign.K, string) {
	r := rand.New(rand.NewPCG(seed, 7))
	addrs := []string{"10.0.0.1", "10.0.0.2", "::1", "fe80::1%eth0", "fe80::1%eth1", "::ffff:10.0.0.1"}
	res := []string{"", "a", "a+", "a*", "(a)"}
	var parts = []string{"", "x", "y", "xy"}
	expr := func() foreign.Expr {
		switch r.IntN(4) {
		case 1:
			var p []string
			for range r.IntN(3) {
				p = append(p, parts[r.IntN(len(parts))])
			}
			return foreign.Lit{Parts: p}
		case 2:
			return foreign.Num(float64(r.IntN(3)))
		}
		return nil
	}
	describe := func(e foreign.Expr) string {
		if l, ok := e.(foreign.Lit); ok {
			return fmt.Sprintf("Lit%q", l.Parts) // nil and empty Parts hash alike, as slices do
		}
		return fmt.Sprintf("%T %v", e, e)
	}
	var k foreign.K
	var d strings.Builder
	k.Pt = image.Pt(r.IntN(2), r.IntN(2))
	for range r.IntN(3) {
		k.Rects = append(k.Rects, image.Rect(0, 0, r.IntN(2), r.IntN(2)))
	}
	if a := r.IntN(len(addrs) + 1); a < len(addrs) {
		k.Addr = netip.MustParseAddr(addrs[a])
	}
	if i := r.IntN(len(res) + 1); i < len(res) {
		k.Re = regexp.MustCompile(res[i])
	}
	k.Month = time.Month(r.IntN(3))
	k.Expr = expr()
	for range r.IntN(3) {
		if k.Exprs == nil {
			k.Exprs = map[string]foreign.Expr{}
		}
		k.Exprs[parts[r.IntN(len(parts))]] = expr()
	}
	k.After = parts[r.IntN(len(parts))]

	fmt.Fprintf(&d, "%v %v %v ", k.Pt, k.Rects, k.Addr)
	if k.Re != nil {
		fmt.Fprintf(&d, "re%q ", k.Re.String())
	} else {
		d.WriteString("nil ")
	}
	fmt.Fprintf(&d, "%d %s [", k.Month, describe(k.Expr))
	for _, p := range parts { // sorted: map order does not count
		if e, ok := k.Exprs[p]; ok {
			fmt.Fprintf(&d, "%q:%s ", p, describe(e))
		}
	}
	fmt.Fprintf(&d, "] %q", k.After)
	return k, d.String()
}

// TestPropertyForeignPaths: through each path for types of other packages (a struct hashed
// field by field, MarshalBinary, MarshalText behind a pointer, a function marked
// //cachegen:hash writing a variable number of values, then a field after it), equal keys
// share a digest and different keys never share an encoding.
func TestPropertyForeignPaths(t *testing.T) {
	seen := map[string]string{}
	digests := map[string]keyhash.Digest{}
	for seed := range uint64(propertyRuns * 10) {
		k, desc := randomForeign(seed)
		enc := string(encodeKey(t, k))
		if prev, ok := seen[enc]; ok && prev != desc {
			t.Fatalf("seed %d: different keys share an encoding:\n%s\n%s", seed, prev, desc)
		}
		seen[enc] = desc
		d := keyhash.Sum(k)
		if prev, ok := digests[desc]; ok && prev != d {
			t.Fatalf("seed %d: equal keys, different digests: %s", seed, desc)
		}
		digests[desc] = d
	}
	if len(digests) < propertyRuns {
		t.Fatalf("only %d distinct keys: the generator is too narrow", len(digests))
	}
}
