// Package helpers2: helpers that wrap their compute parameter in a literal, pass it through a
// local or a struct field, and a helper method called as a method expression.
package helpers2

import (
	"context"
	"os"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

type Compute = func(context.Context, Key) (Out, error)

// Timed wraps compute in a literal: it passes compute on.
func Timed(ctx context.Context, c *cache.Cache, k Key, compute Compute) (Out, error) { // want Timed:`helper\(3\)`
	return cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		return compute(ctx, k)
	})
}

// Local passes compute through a local variable.
func Local(ctx context.Context, c *cache.Cache, k Key, compute Compute) (Out, error) { // want Local:`helper\(3\)`
	f := compute
	return cache.Load(ctx, c, k, f)
}

type Opts struct {
	Name    string
	Compute Compute
}

// WithOpts takes compute in a field of its options.
func WithOpts(ctx context.Context, c *cache.Cache, k Key, o Opts) (Out, error) { // want WithOpts:`helper\(3.Compute\)`
	return cache.Load(ctx, c, k, o.Compute)
}

type Memo struct{ c *cache.Cache }

func (m *Memo) Get(ctx context.Context, k Key, compute Compute) (Out, error) { // want Get:`helper\(2\)`
	return cache.Load(ctx, m.c, k, compute)
}

func callers(ctx context.Context, c *cache.Cache, k Key, opts string) {
	Timed(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: k.S + opts}, nil // want `compute captures opts: put it in the key`
	})
	Local(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: os.Getenv(k.S)}, nil // want `compute reads the environment \(os.Getenv\)`
	})
	WithOpts(ctx, c, k, Opts{Name: "x", Compute: func(_ context.Context, k Key) (Out, error) {
		return Out{S: k.S + opts}, nil // want `compute captures opts: put it in the key`
	}})
	WithOpts(ctx, c, k, Opts{Name: "pure", Compute: func(_ context.Context, k Key) (Out, error) {
		return Out{S: k.S}, nil
	}})
	m := Memo{c: c}
	(*Memo).Get(&m, ctx, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: k.S + opts}, nil // want `compute captures opts: put it in the key`
	})
	m.Get(ctx, k, func(_ context.Context, k Key) (Out, error) { return Out{S: k.S}, nil })
	// cache.Load through a function value.
	load := cache.Load[Key, Out, *Out]
	load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: k.S + opts}, nil // want `compute captures opts: put it in the key`
	})
}
