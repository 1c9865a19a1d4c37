// Package captures holds computes that capture what their key does not hold, and computes
// that do not.
package captures

import (
	"context"
	"strings"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct {
	Src   string
	Level int
}

func (Key) HashKey(*keyhash.Hasher) {}

// normalized is a method on the key type: it reads the key.
func (k Key) normalized() string { return strings.TrimSpace(k.Src) }

type Out struct{ S string }

const prefix = "v1:"

func compile(_ context.Context, k Key) (Out, error) {
	return Out{S: prefix + k.normalized() + strings.Repeat("!", k.Level)}, nil
}

type Compiler struct{ level int }

func (c *Compiler) compile(_ context.Context, k Key) (Out, error) {
	return Out{S: strings.Repeat(k.Src, c.level)}, nil
}

func Captures(ctx context.Context, c *cache.Cache, k Key, opts string, level int) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: k.Src + opts}, nil // want `compute captures opts: put it in the key`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		s := k.Src
		for range level { // want `compute captures level: put it in the key`
			s += opts // want `compute captures opts: put it in the key`
		}
		return Out{S: s + opts}, nil
	})
	// Constants, package-level functions, the key's fields and methods, and variables of
	// the compute itself are fine.
	cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		n := len(k.Src)
		inner := func() int { return n * k.Level }
		o, err := compile(ctx, k)
		o.S += prefix + strings.Repeat("x", inner()) + k.normalized()
		return o, err
	})
	cache.Load(ctx, c, k, compile)
	cache.Load(ctx, c, k, (compile))
}

func MethodValue(ctx context.Context, c *cache.Cache, k Key, comp *Compiler) {
	cache.Load(ctx, c, k, comp.compile) // want `compute is the method value comp.compile, which captures its receiver comp: pass a function, and put what it reads of comp in the key`
	cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		return (*Compiler).compile(&Compiler{level: 2}, ctx, k) // a method expression binds nothing
	})
}

func factory(level int) func(context.Context, Key) (Out, error) {
	return func(_ context.Context, k Key) (Out, error) {
		return Out{S: strings.Repeat(k.Src, level)}, nil
	}
}

// plain returns a top-level function, or a literal that captures nothing: it is seen through.
func plain(fast bool) func(context.Context, Key) (Out, error) {
	if fast {
		return compile
	}
	return func(_ context.Context, k Key) (Out, error) { return Out{S: k.Src}, nil }
}

func Factories(ctx context.Context, c *cache.Cache, k Key, level int) {
	cache.Load(ctx, c, k, factory(level)) // want `compute is made by a call to factory, whose closure can capture the call's arguments: pass a top-level function, and put what it needs in the key`
	cache.Load(ctx, c, k, plain(level > 1))
}

func Variables(ctx context.Context, c *cache.Cache, k Key, opts string, computes []func(context.Context, Key) (Out, error)) {
	// A variable holding a literal is followed to the literal.
	compute := func(_ context.Context, k Key) (Out, error) {
		return Out{S: k.Src + opts}, nil // want `compute captures opts: put it in the key`
	}
	cache.Load(ctx, c, k, compute)
	// A variable holding a top-level function is fine.
	f := compile
	cache.Load(ctx, c, k, f)
	// A function value that cannot be resolved is reported: the check cannot tell what it
	// reads.
	cache.Load(ctx, c, k, computes[0]) // want `cannot see what compute is \(computes\[0\]\): pass a function literal or a named function`
	var g func(context.Context, Key) (Out, error)
	if len(computes) > 1 {
		g = computes[1] // want `cannot see what compute is \(computes\[1\]\)`
	} else {
		g = compile
	}
	cache.Load(ctx, c, k, g)
}

func Allowed(ctx context.Context, c *cache.Cache, k Key, version string) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		//cachegen:allow version is the program's own version, which separates entries already
		return Out{S: k.Src + version}, nil
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: k.Src + version}, nil //cachegen:allow the same, on the line
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		//cachegen:allow // want `//cachegen:allow needs a reason: write why this compute may read what is reported, as //cachegen:allow <reason>`
		return Out{S: k.Src + version}, nil // want `compute captures version`
	})
}
