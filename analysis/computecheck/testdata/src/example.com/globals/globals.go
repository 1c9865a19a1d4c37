// Package globals: computes that read package-level variables. // want package:"writes example.com/globals.counter, writes example.com/globals.level, writes example.com/globals.cfg, writes example.com/globals.list, writes example.com/globals.byName, writes example.com/globals.flagged, writes example.com/globals.hits, writes example.com/globals.aliased, writes example.com/globals.current}"
//
// Those assigned outside their declaration and init are reported, tables set once are not.
package globals

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

var (
	counter  int
	level    = 2
	cfg      struct{ Name string }
	list     = []int{1, 2, 3}
	byName   = map[string]int{}
	flagged  int
	hits     atomic.Int64
	aliased  [4]int
	readOnly = [4]int{1, 2, 3, 4}
	fixed    = []string{"x"}
	table    = map[string]int{"a": 1}
	squares  [10]int
	hook     = strings.ToUpper
	computed = func() map[string]bool { m := map[string]bool{}; m["x"] = true; return m }()
)

func init() {
	table["b"] = 2
	for i := range squares {
		squares[i] = i * i
	}
	level = 3 // init may set what it likes
}

func bump()              { counter++ }
func setLevel(n int)     { level = n }
func configure(n string) { cfg.Name = n }
func setFirst(n int)     { list[0] = n }
func remember(n string)  { byName[n] = len(byName) }
func flags()             { flag.IntVar(&flagged, "n", 0, "") }
func record()            { hits.Add(1) }
func throughPointer() {
	p := &aliased[1]
	*p = 2
}

// readThroughPointer takes an address to read: readOnly stays a table.
func readThroughPointer(i int) int {
	info := &readOnly[i]
	return *info
}

func globals(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: strings.Repeat(k.S, counter)}, nil // want `compute reads counter, a package variable assigned outside its declaration and init \(globals.go:\d+\): put it in the key`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: strings.Repeat(k.S, level)}, nil // want `compute reads level, a package variable`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: k.S + cfg.Name}, nil // want `compute reads cfg, a package variable`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: strings.Repeat(k.S, list[0]+byName[k.S])}, nil // want `compute reads list, a package variable` `compute reads byName, a package variable`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: strings.Repeat(k.S, flagged+int(hits.Load()))}, nil // want `compute reads flagged, a package variable` `compute reads hits, a package variable`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: strings.Repeat(k.S, aliased[1])}, nil // want `compute reads aliased, a package variable`
	})
	cache.Load(ctx, c, k, viaHelper) // want `compute \(viaHelper, at globals\.go:\d+:\d+\) reads counter \(via globals.count\), a package variable assigned outside its declaration and init \(globals.go:\d+\): put it in the key`
	// Tables set once (in the declaration or in init), and function values never assigned.
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		n := table[k.S] + squares[3] + len(fixed) + readThroughPointer(1)
		if computed[k.S] {
			n++
		}
		return Out{S: hook(strings.Repeat(k.S, n))}, nil
	})
	cache.Load(ctx, c, k, defaultCompute)
	cache.Load(ctx, c, k, current) // want `compute is current, a package variable assigned outside its declaration and init \(globals.go:\d+\): pass a function`
}

func viaHelper(_ context.Context, k Key) (Out, error) {
	return Out{S: strings.Repeat(k.S, count())}, nil
}

func count() int { return counter }

func upper(_ context.Context, k Key) (Out, error) { return Out{S: strings.ToUpper(k.S)}, nil }

func lower(_ context.Context, k Key) (Out, error) { return Out{S: strings.ToLower(k.S)}, nil }

var defaultCompute = upper

var current = upper

func useLower() { current = lower }

// A Store is an interface of the module: a call of its method runs the implementations the
// package declares.
type Store interface{ Get(string) string }

type fileStore struct{}

func (fileStore) Get(name string) string { // want Get:`reads\(os.ReadFile\)`
	b, _ := os.ReadFile(name)
	return string(b)
}

var store Store = fileStore{}

// A standard interface (fmt.Stringer, io.Writer, error) is not followed: nearly every type
// implements one.
type label struct{}

func (label) String() string { return os.Getenv("LABEL") } // want String:`reads\(os.Getenv\)`

var named fmt.Stringer = label{}

func interfaces(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: store.Get(k.S)}, nil // want `compute \(at globals\.go:122:13\) reads the file system \(os.ReadFile, via globals.fileStore.Get\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		var local Store = fileStore{}
		return Out{S: local.Get(k.S) + named.String()}, nil // want `compute \(at globals\.go:\d+:\d+\) reads the file system \(os.ReadFile, via globals.fileStore.Get\)`
	})
}
