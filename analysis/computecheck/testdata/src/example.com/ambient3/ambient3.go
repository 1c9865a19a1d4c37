// Package ambient3: ambient inputs of the standard library and of golang.org/x/sys, flags // want package:"writes example.com/ambient3.fs"
// of a FlagSet, values a context carries through another interface, a captured cache read,
// and an allow above a Load written on several lines.
package ambient3

import (
	"context"
	"database/sql"
	"flag"
	"go/parser"
	"go/token"
	"hash/maphash"
	"os"
	"runtime/pprof"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
	"golang.org/x/sys/unix"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

// F12.
func run(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		db, err := sql.Open("sqlite", k.S) // want `compute uses a database \(database/sql.Open\)`
		if err != nil {
			return Out{}, err
		}
		var s string
		err = db.QueryRow("select v from t").Scan(&s) // want `compute uses a database \(database/sql.DB.QueryRow\)` `compute uses a database \(database/sql.Row.Scan\)`
		return Out{S: s}, err
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		f, err := parser.ParseFile(token.NewFileSet(), k.S, nil, 0) // want `compute reads the file system \(go/parser.ParseFile\)`
		if err != nil {
			return Out{}, err
		}
		return Out{S: f.Name.Name}, nil
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		f, err := parser.ParseFile(token.NewFileSet(), "k.go", k.S, 0) // the source is given: no file is read
		if err != nil {
			return Out{}, err
		}
		return Out{S: f.Name.Name}, nil
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		var h maphash.Hash
		h.WriteString(k.S)
		return Out{S: string(rune(h.Sum64()))}, nil // want `compute reads random numbers \(hash/maphash.Hash.Sum64\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: time.Unix(0, 0).Local().String() + time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).String()}, nil // want `compute reads the environment \(time.Time.Local\)`
	})
}

// F14: golang.org/x/sys is described like syscall.
func sys(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		v, _ := unix.Getenv("HOME") // want `compute reads the environment \(golang.org/x/sys/unix.Getenv\)`
		var u unix.Utsname
		_ = unix.Uname(&u) // want `compute makes system calls \(golang.org/x/sys/unix.Uname\)`
		return Out{S: v + unix.ByteSliceToString(u.Nodename[:])}, nil
	})
}

// F13: flags of a FlagSet parsed at run time.
var (
	fs    = flag.NewFlagSet("x", flag.ExitOnError)
	level = fs.String("level", "0", "")
)

func parseFlags() { _ = fs.Parse(os.Args[1:]) }

func flags(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: *level}, nil // want `compute reads fs, a package variable changed by flag.FlagSet.Parse`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		local := flag.NewFlagSet("k", flag.ContinueOnError)
		v := local.String("v", "", "")
		err := local.Parse([]string{k.S})
		return Out{S: *v}, err
	})
}

// F20: ctx.Value through another interface, and pprof labels.
type valuer interface{ Value(any) any }

func values(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		var v valuer = ctx
		s, _ := v.Value("u").(string) // want `compute reads ctx.Value`
		l, _ := pprof.Label(ctx, "u") // want `compute reads ctx.Value`
		return Out{S: s + l}, nil
	})
}

// F19: a captured cache read other than to load through it.
func leaf(_ context.Context, k Key) (Out, error) { return Out{S: k.S}, nil }

func caches(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		return Out{S: c.Dir() + k.S}, nil // want `compute reads the cache c \(its directory, version or statistics\), not only loads through it`
	})
	cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		return cache.Load(ctx, c, Key{S: k.S + "/dep"}, leaf)
	})
}

// F26: an allow above a Load written on several lines covers the whole call.
func readsEnv(_ context.Context, k Key) (Out, error) { return Out{S: os.Getenv("X")}, nil }

func allows(ctx context.Context, c *cache.Cache, k Key) {
	//cachegen:allow X is fixed for the process
	cache.Load(ctx, c, k,
		readsEnv)
	//cachegen:allow X is fixed for the process
	_, _ = cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: os.Getenv("X")}, nil
	})
	cache.Load(ctx, c, k,
		//cachegen:allow only the line below
		readsEnv)
	cache.Load(ctx, c, k, // an allow below the call's first line does not cover the line after it
		leaf)
	cache.Load(ctx, c, k,
		readsEnv) // want `compute \(readsEnv, at ambient3.go:\d+:\d+\) reads the environment \(os.Getenv\)`
}
