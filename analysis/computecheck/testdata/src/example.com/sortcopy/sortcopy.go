// Package sortcopy: sorting a copy of a package slice whose elements hold references moves // want package:`writes example\.com/sortcopy\.touched, writes example\.com/sortcopy\.touched2, writes example\.com/sortcopy\.sorted`
// the copy's elements, not the variable's; changing what an element points to, or sorting
// the variable itself, changes it.
package sortcopy

import (
	"context"
	"slices"
	"sort"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

type Rule struct {
	Name string
	Tags []string
}

var (
	rules  = []Rule{{Name: "b", Tags: []string{"x"}}, {Name: "a"}}
	rules2 = []*Rule{{Name: "b"}, {Name: "a"}}
)

func c1(_ context.Context, k Key) (Out, error) {
	rs := append([]Rule(nil), rules...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
	rs2 := append([]*Rule(nil), rules2...)
	slices.SortFunc(rs2, func(a, b *Rule) int { return len(a.Name) - len(b.Name) })
	return Out{S: rs[0].Name + rs2[0].Name + k.S}, nil
}

// Negative neighbours.
var (
	touched  = []Rule{{Name: "b", Tags: []string{"x"}}}
	touched2 = []*Rule{{Name: "b"}}
	sorted   = []Rule{{Name: "b"}, {Name: "a"}}
)

func Touch(s string) { // want Touch:`reads\(example\.com/sortcopy\.touched, example\.com/sortcopy\.touched2\)`
	rs := append([]Rule(nil), touched...)
	rs[0].Tags[0] = s
	rs2 := append([]*Rule(nil), touched2...)
	rs2[0].Name = s
}

func Sort() { sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name }) } // want Sort:`reads\(example\.com/sortcopy\.sorted\)`

func c2(_ context.Context, k Key) (Out, error) {
	return Out{S: touched[0].Tags[0] + touched2[0].Name + sorted[0].Name + k.S}, nil
}

func Run(c *cache.Cache) { // want Run:`reads\(example\.com/sortcopy\.rules via sortcopy\.c1, example\.com/sortcopy\.rules2 via sortcopy\.c1, example\.com/sortcopy\.touched via sortcopy\.c2, example\.com/sortcopy\.touched2 via sortcopy\.c2, example\.com/sortcopy\.sorted via sortcopy\.c2\)`
	ctx := context.Background()
	cache.Load(ctx, c, Key{}, c1)
	cache.Load(ctx, c, Key{}, c2) // want `reads touched, a package variable assigned` `reads touched2, a package variable assigned` `reads sorted, a package variable changed by sort\.Slice`
}
