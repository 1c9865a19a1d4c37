// Package lib is a dependency. // want package:"writes example.com/lib.verbose, computes read example.com/lib.Level"
//
// What its functions read reaches the computes of package user as facts.
package lib

import (
	"context"
	"os"
	"strings"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

// Level is assigned only by an importer: lib cannot see it, user reports it.
var Level int

var verbose bool

func SetVerbose(v bool) { verbose = v }

func ReadConfig(name string) string { // want ReadConfig:`reads\(os.ReadFile via lib.readFile\)`
	return readFile(name)
}

func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}

func Pure(s string) string { return strings.ToUpper(s) }

func PureCompute(_ context.Context, k Key) (Out, error) { return Out{S: Pure(k.S)}, nil }

func Leveled(s string) string { return strings.Repeat(s, Level) } // want Leveled:`reads\(example.com/lib.Level\)`

func Verbose(s string) string { // want Verbose:`reads\(example.com/lib.verbose\)`
	if verbose {
		return s + "!"
	}
	return s
}

func Compute(_ context.Context, k Key) (Out, error) { return Out{S: Leveled(k.S)}, nil } // want Compute:`reads\(example.com/lib.Level via lib.Leveled\)`

// Build passes Compute to cache.Load: Level is not assigned in lib, so nothing is reported
// here, and the read is told to importers.
func Build(ctx context.Context, c *cache.Cache, k Key) { // want Build:`reads\(example.com/lib.Level via lib.Compute>lib.Leveled\)`
	cache.Load(ctx, c, k, Compute)
}

// Cached passes its compute to cache.Load: its callers' computes are checked.
func Cached[K keyhash.Key, V any, PV cache.Value[V]](ctx context.Context, c *cache.Cache, k K, compute func(context.Context, K) (V, error)) (V, error) { // want Cached:`helper\(3\)`
	return cache.Load[K, V, PV](ctx, c, k, compute)
}
