// Package deepsvc is a layer between the program and the compute's package: it passes on // want package:"computes read example.com/deepvar.Mode"
// what deepcomp's computes read.
package deepsvc

import (
	"context"

	"example.com/deepcomp"
	"github.com/cachegen/cachegen/runtime/cache"
)

func Serve(ctx context.Context, c *cache.Cache) { deepcomp.Run(ctx, c) } // want Serve:`reads\(example.com/deepvar.Mode via deepcomp.Run>deepcomp.compute\)`
