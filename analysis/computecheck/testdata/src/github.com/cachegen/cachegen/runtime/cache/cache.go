// Package cache is a stub of cachegen's cache, with Load's signature.
package cache

import (
	"context"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

// A Cache is a stub.
type Cache struct{}

// Value is the constraint of Load's PV (msgp's methods left out).
type Value[V any] interface {
	*V
}

// Load calls compute.
func Load[K keyhash.Key, V any, PV Value[V]](ctx context.Context, c *Cache, key K, compute func(context.Context, K) (V, error)) (V, error) {
	return compute(ctx, key)
}

// Dir is a stub.
func (c *Cache) Dir() string { return "" }
