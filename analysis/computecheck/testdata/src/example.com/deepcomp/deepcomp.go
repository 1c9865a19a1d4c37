// Package deepcomp reads deepvar.Mode in a compute. // want package:"computes read example.com/deepvar.Mode"
package deepcomp

import (
	"context"

	"example.com/deepvar"
	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

func compute(_ context.Context, k Key) (Out, error) { return Out{S: k.S + deepvar.Mode}, nil }

func Run(ctx context.Context, c *cache.Cache) { // want Run:`reads\(example.com/deepvar.Mode via deepcomp.compute\)`
	cache.Load(ctx, c, Key{}, compute)
}
