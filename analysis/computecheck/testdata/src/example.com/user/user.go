// Package user calls into package lib. // want package:"writes example.com/lib.Level"
//
// What lib's functions read is reported at user's computes.
package user

import (
	"context"

	"example.com/lib"
	"github.com/cachegen/cachegen/runtime/cache"
)

// Configure assigns a variable that a compute of lib reads: reported here, where it is seen.
func Configure(n int) {
	lib.Level = n // want `lib.Level is assigned here, and a compute passed to cache.Load reads it \(lib.go:\d+ in package lib\): put it in the key`
}

func use(ctx context.Context, c *cache.Cache, k lib.Key, opts string) {
	cache.Load(ctx, c, k, func(_ context.Context, k lib.Key) (lib.Out, error) {
		return lib.Out{S: lib.ReadConfig(k.S)}, nil // want `compute \(at lib\.go:\d+:\d+\) reads the file system \(os.ReadFile, via lib.ReadConfig → lib.readFile\)`
	})
	cache.Load(ctx, c, k, lib.Compute) // want `compute \(lib\.Compute, at lib\.go:\d+:\d+\) reads lib.Level \(via lib.Leveled\), a package variable assigned outside its declaration and init \(user.go:\d+\): put it in the key`
	cache.Load(ctx, c, k, func(_ context.Context, k lib.Key) (lib.Out, error) {
		return lib.Out{S: lib.Verbose(k.S)}, nil // want `compute \(at lib\.go:\d+:\d+\) reads lib.verbose \(via lib.Verbose\), a package variable assigned outside its declaration and init \(lib.go:\d+\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k lib.Key) (lib.Out, error) {
		return lib.Out{S: lib.Pure(k.S)}, nil
	})
	lib.Cached(ctx, c, k, func(_ context.Context, k lib.Key) (lib.Out, error) {
		return lib.Out{S: k.S + opts}, nil // want `compute captures opts: put it in the key`
	})
	lib.Cached(ctx, c, k, lib.PureCompute)
}
