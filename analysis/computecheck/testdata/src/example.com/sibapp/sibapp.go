// Package sibapp imports both: it reports the pair, at the reader's import. // want package:"reported example.com/sibvar.Level"
package sibapp

import (
	"context"

	"example.com/sibread" // want `a compute of sibread reads sibvar.Level \(sibread.go:\d+ in package sibread\), which package example.com/sibset assigns \(sibset.go:\d+\): put it in the key`
	"example.com/sibset"
	"github.com/cachegen/cachegen/runtime/cache"
)

func run(ctx context.Context, c *cache.Cache) {
	sibset.Configure(3)
	sibread.Run(ctx, c, sibread.Key{S: "x"})
}
