// Package ifacefixed: a method called on an interface-typed package variable assigned only // want package:`writes example\.com/ifacefixed\.countingFormatter, writes example\.com/ifacefixed\.swapped`
// in its declaration is the method of the type it holds, not of every type with a method of
// that name.
package ifacefixed

import (
	"context"
	"strings"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

type Formatter interface{ Format(s string) string }

type upper struct{}

func (upper) Format(s string) string { return strings.ToUpper(s) }

type counting struct{ n int }

func (c *counting) Format(s string) string { c.n++; return s } // want Format:`changes\(0\)`

var defaultFormatter Formatter = upper{}

func Count(s string) int {
	c := &counting{}
	var f Formatter = c
	f.Format(s)
	return c.n
}

func c1(_ context.Context, k Key) (Out, error) {
	return Out{S: defaultFormatter.Format(k.S)}, nil
}

// Negative neighbours: the variable holds the changing type, in its declaration or after
// a later assignment.
var (
	countingFormatter Formatter = &counting{}
	swapped           Formatter = upper{}
)

func Use(s string) string { return countingFormatter.Format(s) } // want Use:`reads\(example\.com/ifacefixed\.countingFormatter\)`

func Swap() { swapped = &counting{} }

func Use2(s string) string { return swapped.Format(s) } // want Use2:`reads\(example\.com/ifacefixed\.swapped\)`

func c2(_ context.Context, k Key) (Out, error) {
	return Out{S: countingFormatter.Format(k.S) + swapped.Format(k.S)}, nil
}

func Run(c *cache.Cache) { // want Run:`reads\(example\.com/ifacefixed\.defaultFormatter via ifacefixed\.c1, example\.com/ifacefixed\.countingFormatter via ifacefixed\.c2, example\.com/ifacefixed\.swapped via ifacefixed\.c2\)`
	ctx := context.Background()
	cache.Load(ctx, c, Key{}, c1)
	cache.Load(ctx, c, Key{}, c2) // want `reads countingFormatter, a package variable changed by ifacefixed\.counting\.Format` `reads swapped, a package variable assigned`
}
