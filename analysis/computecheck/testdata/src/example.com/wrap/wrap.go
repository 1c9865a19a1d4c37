// Package wrap passes computes through helpers of its own to lib's helper, and to cache.Load // want package:"computes read example.com/lib.Level"
// from a closure: the check applies at the outermost callers.
package wrap

import (
	"context"
	"os"

	"example.com/lib"
	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

// Wrap passes compute to lib.Cached, which passes it to cache.Load.
func Wrap[K keyhash.Key, V any, PV cache.Value[V]](ctx context.Context, c *cache.Cache, k K, compute func(context.Context, K) (V, error)) (V, error) { // want Wrap:`helper\(3\)`
	return lib.Cached[K, V, PV](ctx, c, k, compute)
}

// Memo returns a function that loads through c with compute.
func Memo[K keyhash.Key, V any, PV cache.Value[V]](c *cache.Cache, compute func(context.Context, K) (V, error)) func(context.Context, K) (V, error) { // want Memo:`helper\(1\)`
	return func(ctx context.Context, k K) (V, error) {
		return cache.Load[K, V, PV](ctx, c, k, compute)
	}
}

func inner[K keyhash.Key, V any, PV cache.Value[V]](ctx context.Context, c *cache.Cache, k K, compute func(context.Context, K) (V, error)) (V, error) {
	return Wrap[K, V, PV](ctx, c, k, compute)
}

type server struct{ root string }

func (s *server) read(_ context.Context, k lib.Key) (lib.Out, error) {
	return lib.Out{S: s.root + k.S}, nil
}

func use(ctx context.Context, c *cache.Cache, k lib.Key, s *server) {
	Wrap(ctx, c, k, func(_ context.Context, k lib.Key) (lib.Out, error) {
		b, err := os.ReadFile(k.S) // want `compute reads the file system \(os.ReadFile\)`
		return lib.Out{S: string(b)}, err
	})
	inner(ctx, c, k, s.read) // want `compute is the method value s.read, which captures its receiver s`
	load := Memo(c, s.read)  // want `compute is the method value s.read`
	load(ctx, k)
	Wrap(ctx, c, k, lib.PureCompute)
}
