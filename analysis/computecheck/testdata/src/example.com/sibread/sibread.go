// Package sibread reads sibvar.Level in a compute; it does not import sibset. // want package:"computes read example.com/sibvar.Level"
package sibread

import (
	"context"
	"strings"

	"example.com/sibvar"
	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

func compute(_ context.Context, k Key) (Out, error) {
	return Out{S: strings.Repeat(k.S, sibvar.Level)}, nil
}

func Run(ctx context.Context, c *cache.Cache, k Key) { // want Run:`reads\(example.com/sibvar.Level via sibread.compute\)`
	cache.Load(ctx, c, k, compute)
}
