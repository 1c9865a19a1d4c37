// Package metrics: a compute that only writes a variable (a metric) does not read it; one // want package:"writes example.com/metrics.computed, writes example.com/metrics.misses, writes example.com/metrics.calls, writes example.com/metrics.total, writes example.com/metrics.seen, writes example.com/metrics.log"
// that uses what it reads of it does.
package metrics

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

var (
	computed atomic.Int64
	misses   int64
	calls    int
	total    int
	seen     sync.Map
	log      bytes.Buffer
)

func writeOnly(_ context.Context, k Key) (Out, error) {
	computed.Add(1)
	atomic.AddInt64(&misses, 1)
	calls++
	total += len(k.S)
	seen.Store(k.S, true)
	log.WriteString(k.S)
	return Out{S: k.S}, nil
}

func readBack(_ context.Context, k Key) (Out, error) {
	n := computed.Add(1)
	return Out{S: k.S + string(rune(n))}, nil
}

func readAtomic(_ context.Context, k Key) (Out, error) {
	return Out{S: k.S + string(rune(atomic.AddInt64(&misses, 1)))}, nil
}

func readCount(_ context.Context, k Key) (Out, error) {
	calls++
	return Out{S: k.S + string(rune(calls))}, nil
}

func run(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, writeOnly)
	cache.Load(ctx, c, k, readBack)   // want `compute \(readBack, at metrics\.go:\d+:\d+\) reads computed, a package variable changed by sync/atomic.Int64.Add`
	cache.Load(ctx, c, k, readAtomic) // want `compute \(readAtomic, at metrics\.go:\d+:\d+\) reads misses, a package variable changed by sync/atomic.AddInt64`
	cache.Load(ctx, c, k, readCount)  // want `compute \(readCount, at metrics\.go:\d+:\d+\) reads calls, a package variable assigned`
}
