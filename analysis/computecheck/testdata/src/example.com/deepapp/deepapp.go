// Package deepapp imports the writer and, through deepsvc, the reader. // want package:"reported example.com/deepvar.Mode"
package deepapp

import (
	"context"

	"example.com/deepcli"
	"example.com/deepsvc" // want `a compute of deepcomp \(imported through deepsvc\) reads deepvar.Mode \(deepcomp.go:\d+ in package deepcomp\), which package example.com/deepcli assigns \(deepcli.go:\d+\): put it in the key`
	"github.com/cachegen/cachegen/runtime/cache"
)

func Main(ctx context.Context, c *cache.Cache) { // want Main:`reads\(example.com/deepvar.Mode via deepsvc.Serve>deepcomp.Run>deepcomp.compute\)`
	(&deepcli.Flags{}).Apply()
	deepsvc.Serve(ctx, c)
}
