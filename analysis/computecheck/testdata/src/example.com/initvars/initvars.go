// Package initvars: package variables whose value is made at initialisation, from the // want package:"writes example.com/initvars.rng, writes example.com/initvars.words, writes example.com/initvars.cfg, writes example.com/initvars.cfgp, writes example.com/initvars.defaults, writes example.com/initvars.order, writes example.com/initvars.level, computes read example.com/envwrap.Getenv"
// environment (reported) or from constants (fine).
package initvars

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"math/big"
	"math/rand"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"example.com/envwrap"
	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

// Function values known statically are followed as the function they hold.
var (
	now    = time.Now
	getenv = os.Getenv
	upper  = strings.ToUpper
	lit    = func() string { return os.Getenv("LIT") }
)

func funcVars(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: now().String()}, nil // want `compute \(at initvars\.go:\d+:\d+\) reads the clock \(time.Now, via initvars.now\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: getenv("A") + lit()}, nil // want `compute \(at initvars\.go:\d+:\d+\) reads the environment \(os.Getenv, via initvars.getenv\)` `compute \(at initvars\.go:\d+:\d+\) reads the environment \(os.Getenv, via initvars.lit\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: envwrap.Now().String() + envwrap.Getenv("B")}, nil // want `compute \(at envwrap\.go:\d+:\d+\) reads the clock \(time.Now, via envwrap.Now\)` `compute \(at envwrap\.go:\d+:\d+\) reads the environment \(os.Getenv, via envwrap.Getenv\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: upper(k.S) + envwrap.Up(k.S) + envwrap.Version}, nil
	})
}

// Variables initialised from ambient inputs hold them.
var (
	home    = os.Getenv("HOME")
	startup = time.Now()
	cfgDir  string
	loaded  string
	squares [10]int
	pure    = map[string]int{"a": 1}
	fromEnv = sync.OnceValue(func() string { return os.Getenv("LAZY") })
)

func init() { cfgDir = load(os.Getenv("CFG")) }

func init() { fill() }

func load(s string) string { return s + "/x" }

// fill is only called by init: it is part of initialisation.
func fill() {
	for i := range squares {
		squares[i] = i * i
	}
	loaded = readConfig()
}

func readConfig() string {
	b, _ := os.ReadFile("/etc/config")
	return string(b)
}

func initVars(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: home + startup.String()}, nil // want `compute \(at initvars\.go:\d+:\d+\) reads the environment \(os.Getenv, via initvars.home\)` `compute \(at initvars\.go:\d+:\d+\) reads the clock \(time.Now, via initvars.startup\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: cfgDir + envwrap.Home}, nil // want `compute \(at initvars\.go:\d+:\d+\) reads the environment \(os.Getenv, via initvars.cfgDir\)` `compute \(at envwrap\.go:\d+:\d+\) reads the environment \(os.Getenv, via envwrap.Home\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: loaded}, nil // want `compute \(at initvars\.go:\d+:\d+\) reads the file system \(os.ReadFile, via initvars.loaded → initvars.readConfig\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: fromEnv()}, nil // want `compute \(at initvars\.go:\d+:\d+\) reads the environment \(os.Getenv, via initvars.fromEnv\)`
	})
	// Tables made from constants, in the declaration, in init or in a function only init
	// calls, are fine.
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: strings.Repeat(k.S, squares[3]+pure["a"])}, nil
	})
}

// Flags: flag.Parse writes through the pointers flag.Bool returns.
var verbose = flag.Bool("v", false, "")

func flags(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		if *verbose { // want `compute \(at initvars\.go:\d+:\d+\) reads the command line \(flag.Bool, via initvars.verbose\)`
			return Out{S: "v"}, nil
		}
		return Out{S: flag.Arg(0) + k.S}, nil // want `compute reads the command line \(flag.Arg\)`
	})
}

// A shared generator: each call draws the next numbers.
var rng = rand.New(rand.NewSource(1))

// Scratch buffers from a pool, a lock, read-only methods of a table, a table passed by
// address to a function that only reads it: none changes what compute reads.
var (
	bufs     = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	mu       sync.Mutex
	limit    big.Int
	defaults = map[string]string{"a": "1"}
	config   = Config{Name: "x"}
)

type Config struct{ Name string }

func init() { limit.SetString("123456789012345678901234567890", 10) }

func describe(c *Config) string { return c.Name }

func state(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: strings.Repeat("x", rng.Intn(5))}, nil // want `compute reads rng, a package variable changed by math/rand.Rand.Intn \(initvars.go:\d+\), outside its declaration and init: seed a generator from a key field instead`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		b := bufs.Get().(*bytes.Buffer)
		defer bufs.Put(b)
		b.Reset()
		mu.Lock()
		defer mu.Unlock()
		var x big.Int
		x.SetString(k.S, 10)
		if x.Cmp(&limit) > 0 {
			return Out{S: "big"}, nil
		}
		b.WriteString(k.S + limit.String() + describe(&config))
		return Out{S: b.String()}, nil
	})
}

// A lazy table under sync.Once is reported once, with the fix.
var (
	once  sync.Once
	words map[string]int
)

func wordTable() map[string]int {
	once.Do(func() { words = map[string]int{"a": 1} })
	return words
}

func lazy(_ context.Context, k Key) (Out, error) {
	if wordTable()[k.S] > 0 {
		return Out{S: "yes"}, nil
	}
	return Out{S: "no"}, nil
}

func useLazy(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, lazy) // want `compute \(lazy, at initvars\.go:\d+:\d+\) reads words \(via initvars.wordTable\), a package variable filled lazily under sync.Once \(initvars.go:\d+\): fill it in its declaration or in init, or justify the lazy table with //cachegen:allow <reason>`
}

// Writes through a pointer declared as another variable's address, through the standard
// library, and in a package-level function literal.
var (
	cfg   Config
	cfgp  = &cfg
	order = []string{"a", "b"}
	level = 1
)

func setName(n string)                { cfgp.Name = n }
func setDefaults(m map[string]string) { maps.Copy(defaults, m) }
func flip()                           { slices.Reverse(order) }

var SetLevel = func(n int) { level = n }

func writes(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: cfg.Name + defaults[k.S] + order[0]}, nil // want `compute reads cfg, a package variable assigned` `compute reads defaults, a package variable changed by maps.Copy` `compute reads order, a package variable changed by slices.Reverse`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: strings.Repeat(k.S, level)}, nil // want `compute reads level, a package variable assigned`
	})
}
