// Package resolve: computes resolved through conversions, reassigned locals, struct and map
// literals; captures that do not change the result; method values on stateless receivers.
package resolve

import (
	"context"
	"os"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

type ComputeFunc func(context.Context, Key) (Out, error)

func pure(_ context.Context, k Key) (Out, error)     { return Out{S: k.S}, nil }
func readsEnv(_ context.Context, k Key) (Out, error) { return Out{S: os.Getenv("X")}, nil }

func conversions(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, ComputeFunc(func(_ context.Context, k Key) (Out, error) { return Out{S: k.S}, nil }))
	cache.Load(ctx, c, k, ComputeFunc(func(_ context.Context, k Key) (Out, error) {
		return Out{S: os.Getenv("A")}, nil // want `compute reads the environment \(os.Getenv\)`
	}))
}

func values(ctx context.Context, c *cache.Cache, k Key, opts string) {
	f := pure
	f = readsEnv // want `compute \(readsEnv, at resolve\.go:\d+:\d+\) reads the environment \(os.Getenv\)`
	cache.Load(ctx, c, k, f)
	s := struct{ f ComputeFunc }{f: func(_ context.Context, k Key) (Out, error) {
		return Out{S: opts}, nil // want `compute captures opts`
	}}
	cache.Load(ctx, c, k, s.f)
	m := map[string]ComputeFunc{"x": func(_ context.Context, k Key) (Out, error) {
		return Out{S: opts}, nil // want `compute captures opts`
	}}
	cache.Load(ctx, c, k, m["x"])
}

func leaf(_ context.Context, k Key) (Out, error) { return Out{S: k.S}, nil }

// Loading a dependency through the same cache, and reading the key variable Load is given,
// do not change what compute returns.
func captures(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		sub, err := cache.Load(ctx, c, Key{S: k.S + "/dep"}, leaf)
		return Out{S: sub.S + k.S}, err
	})
	cache.Load(ctx, c, k, func(_ context.Context, _ Key) (Out, error) { return Out{S: k.S}, nil })
	other := k
	cache.Load(ctx, c, k, func(_ context.Context, _ Key) (Out, error) { return Out{S: other.S}, nil }) // want `compute captures other`
}

type compiler struct{}

func (compiler) compile(_ context.Context, k Key) (Out, error) { return Out{S: k.S}, nil }

func (*compiler) env(_ context.Context, k Key) (Out, error) { return Out{S: os.Getenv(k.S)}, nil }

type zero [0]int

func (zero) compile(_ context.Context, k Key) (Out, error) { return Out{S: k.S}, nil }

type stateful struct{ n int }

func (s stateful) compile(_ context.Context, k Key) (Out, error) { return Out{S: k.S}, nil }

func methodValues(ctx context.Context, c *cache.Cache, k Key, s stateful) {
	cache.Load(ctx, c, k, compiler{}.compile)
	cache.Load(ctx, c, k, zero{}.compile)
	cache.Load(ctx, c, k, (&compiler{}).env) // want `compute \(\(\&compiler\{\}\)\.env, at resolve\.go:\d+:\d+\) reads the environment \(os.Getenv\)`
	cache.Load(ctx, c, k, s.compile)         // want `compute is the method value s.compile, which captures its receiver s`
}
