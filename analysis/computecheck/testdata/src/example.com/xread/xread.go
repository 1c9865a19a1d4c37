// Package xread reads xconf's settings in computes; xsetup's init set them. // want package:"computes read example.com/xconf.Level, computes read example.com/xconf.Name"
package xread

import (
	"context"

	"example.com/xconf"
	_ "example.com/xsetup"
	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

func run(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: xconf.Level}, nil // want `compute \(at xsetup\.go:\d+:\d+\) reads the environment \(os.Getenv, via xconf.Level\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: xconf.Name}, nil
	})
}
