// Package allows: an allow at the end of a line is about that line; alone on its line, about
// the next.
package allows

import (
	"context"
	"os"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

func allows(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		a := os.Getenv("A") //cachegen:allow A is fixed by the deployment
		b := os.Getenv("B") // want `compute reads the environment \(os.Getenv\)`
		//cachegen:allow C is fixed by the deployment
		d := os.Getenv("C")
		e := os.Getenv("E") // cachegen:allow misspelt // want `malformed //cachegen:allow` `compute reads the environment`
		f := os.Getenv("F") //cachegen:allow: colon // want `malformed //cachegen:allow` `compute reads the environment`
		return Out{S: a + b + d + e + f}, nil
	})
}
