// Package tables: computes taken from tables, options structs, fields, factories, ranges, // want package:"writes example.com/tables.counter"
// type assertions and channels; functions held in tables; helpers that pass compute on in
// an options struct or call a hook.
package tables

import (
	"context"
	"os"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

type F = func(context.Context, Key) (Out, error)

func pure(_ context.Context, k Key) (Out, error) { return Out{S: k.S}, nil }
func bad(_ context.Context, k Key) (Out, error)  { return Out{S: os.Getenv("X")}, nil }

// F7: a package table of computes.
var (
	computes = map[string]F{"env": bad}
	pures    = map[string]F{"pure": pure}
)

func fromTables(ctx context.Context, c *cache.Cache, k Key, kind string) {
	cache.Load(ctx, c, k, computes["env"]) // want `compute \(computes\["env"\], at tables\.go:\d+:\d+\) reads the environment \(os.Getenv, via tables.computes → tables.bad\)`
	cache.Load(ctx, c, k, computes[kind])  // want `compute \(computes\[kind\], at tables\.go:\d+:\d+\) reads the environment \(os.Getenv, via tables.computes → tables.bad\)`
	cache.Load(ctx, c, k, pures[kind])
}

// F7b: a field of a package options struct, a struct field set by a constructor, a type
// assertion, a channel, a factory with two results.
type Opts struct{ Compute F }

var (
	defaultOpts = Opts{Compute: bad}
	pureOpts    = Opts{Compute: pure}
)

type Svc struct {
	c       *cache.Cache
	compute F
}

func New(c *cache.Cache, prefix string) *Svc {
	return &Svc{c: c, compute: func(_ context.Context, k Key) (Out, error) {
		return Out{S: prefix + k.S}, nil // want `compute captures prefix: put it in the key`
	}}
}

func (s *Svc) Get(ctx context.Context, k Key) (Out, error) {
	return cache.Load(ctx, s.c, k, s.compute)
}

func makeCompute(opt string) (F, error) {
	return func(_ context.Context, k Key) (Out, error) { return Out{S: opt}, nil }, nil
}

func unresolved(ctx context.Context, c *cache.Cache, k Key, opt string) {
	cache.Load(ctx, c, k, defaultOpts.Compute) // want `compute \(defaultOpts\.Compute, at tables\.go:\d+:\d+\) reads the environment \(os.Getenv, via tables.defaultOpts → tables.bad\)`
	cache.Load(ctx, c, k, pureOpts.Compute)
	var x any = F(bad) // want `compute \(bad, at tables\.go:\d+:\d+\) reads the environment \(os.Getenv\)`
	cache.Load(ctx, c, k, x.(F))
	ch := make(chan F, 1)
	ch <- bad
	cache.Load(ctx, c, k, <-ch) // want `cannot see what compute is \(<-ch\): pass a function literal or a named function, and put what it needs in the key`
	f, err := makeCompute(opt)  // want `compute is made by a call to makeCompute`
	if err != nil {
		return
	}
	cache.Load(ctx, c, k, f)
	// F23: ranged over.
	for _, g := range []F{bad, pure} { // want `compute \(bad, at tables\.go:\d+:\d+\) reads the environment \(os.Getenv\)`
		cache.Load(ctx, c, k, g)
	}
	for _, g := range []F{pure} {
		cache.Load(ctx, c, k, g)
	}
}

// F8: functions held in a table or a struct read what they read when called.
var counter int

func bump()            { counter++ }
func readCounter() int { return counter }
func two() int         { return 2 }

type ops struct{ f func() int }

var (
	table    = map[string]func() int{"c": readCounter}
	o        = ops{f: readCounter}
	constant = map[string]func() int{"two": two}
)

func tables(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: string(rune(table["c"]()))}, nil // want `compute \(at tables\.go:\d+:\d+\) reads counter \(via tables.table → tables.readCounter\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: string(rune(o.f()))}, nil // want `compute \(at tables\.go:\d+:\d+\) reads counter \(via tables.o → tables.readCounter\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: string(rune(constant["two"]()))}, nil
	})
}

// F11: a helper passing its compute on inside an options struct.
type LoadOpts struct{ Compute F }

func Inner(ctx context.Context, c *cache.Cache, k Key, o LoadOpts) (Out, error) { // want Inner:`helper\(3.Compute\)`
	return cache.Load(ctx, c, k, o.Compute)
}

func Outer(ctx context.Context, c *cache.Cache, k Key, f F) (Out, error) { // want Outer:`helper\(3\)`
	return Inner(ctx, c, k, LoadOpts{Compute: f})
}

// F22: a wrapper literal that calls a hook parameter before the compute parameter.
func Load2(ctx context.Context, c *cache.Cache, k Key, suffix func(Key) string, compute F) (Out, error) { // want Load2:`helper\(4\) also\[3\]`
	return cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		s := suffix(k)
		v, err := compute(ctx, k)
		v.S += s
		return v, err
	})
}

func plain(k Key) string   { return k.S }
func envSuffix(Key) string { return os.Getenv("S") }

func helpers(ctx context.Context, c *cache.Cache, k Key) {
	Outer(ctx, c, k, bad) // want `compute \(bad, at tables\.go:23:69\) reads the environment \(os.Getenv\)`
	Outer(ctx, c, k, pure)
	Load2(ctx, c, k, plain, bad)      // want `compute \(bad, at tables\.go:\d+:\d+\) reads the environment \(os.Getenv\)`
	Load2(ctx, c, k, envSuffix, pure) // want `compute \(envSuffix, at tables\.go:\d+:\d+\) reads the environment \(os.Getenv\)`
	Load2(ctx, c, k, plain, pure)
}
