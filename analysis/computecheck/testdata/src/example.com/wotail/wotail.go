// Package wotail: WriteTo reads its receiver, and a variable assigned its own value with an // want package:`writes example\.com/wotail\.logbuf, writes example\.com/wotail\.rd, writes example\.com/wotail\.brd, writes example\.com/wotail\.sink, writes example\.com/wotail\.y, writes example\.com/wotail\.z, writes example\.com/wotail\.w`
// operator is only written, like x++.
package wotail

import (
	"bytes"
	"context"
	"strings"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

var (
	logbuf bytes.Buffer
	rd     = strings.NewReader("abc")
	brd    = bytes.NewReader([]byte("abc"))
	sink   bytes.Buffer
	y      int
	z      int
	w      int
)

func c1(_ context.Context, k Key) (Out, error) {
	logbuf.WriteString(k.S)
	var out bytes.Buffer
	logbuf.WriteTo(&out)
	rd.WriteTo(&out)
	brd.WriteTo(&out)
	return Out{S: out.String()}, nil
}

// Negative neighbours: only written.
func c2(_ context.Context, k Key) (Out, error) {
	sink.WriteString(k.S)
	sink.Reset()
	y = y + 1
	z = 2 * z
	return Out{S: k.S}, nil
}

// A right side that reads another variable, or the result used: a read.
func c3(_ context.Context, k Key) (Out, error) {
	w = w + z
	return Out{S: k.S}, nil
}

func Run(c *cache.Cache) { // want Run:`reads\(example\.com/wotail\.logbuf via wotail\.c1, example\.com/wotail\.rd via wotail\.c1, example\.com/wotail\.brd via wotail\.c1, example\.com/wotail\.z via wotail\.c3\)`
	ctx := context.Background()
	cache.Load(ctx, c, Key{}, c1) // want `reads logbuf, a package variable changed by bytes\.Buffer\.WriteString` `reads rd, a package variable changed by strings\.Reader\.WriteTo` `reads brd, a package variable changed by bytes\.Reader\.WriteTo`
	cache.Load(ctx, c, Key{}, c2)
	cache.Load(ctx, c, Key{}, c3) // want `reads z, a package variable assigned`
}
