// Package methodvalue: writes through method values, in a package variable, a local and a // want package:`writes example\.com/methodvalue\.global, writes example\.com/methodvalue\.g2, writes example\.com/methodvalue\.add, writes example\.com/methodvalue\.reg`
// variable assigned later.
package methodvalue

import (
	"context"
	"strconv"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

type Counter struct{ n int }

func (c *Counter) Inc()     { c.n++ } // want Inc:`changes\(0\)`
func (c *Counter) Get() int { return c.n }

var global Counter
var inc = global.Inc

func Bump() { inc() } // want Bump:`reads\(example\.com/methodvalue\.inc, example\.com/methodvalue\.global\)`

var g2 Counter

func Bump2() { f := g2.Inc; f() } // want Bump2:`reads\(example\.com/methodvalue\.g2\)`

type Registry map[string]string

func (r Registry) Add(k, v string) { r[k] = v } // want Add:`changes\(0\)`

var reg = Registry{}
var add func(k, v string)

func Setup()               { add = reg.Add } // want Setup:`reads\(example\.com/methodvalue\.reg\)`
func Register(k, v string) { add(k, v) }     // want Register:`reads\(example\.com/methodvalue\.add, example\.com/methodvalue\.reg\)`

// Negative neighbours: a method value that only reads.
var quiet Counter
var get = quiet.Get

func Peek() int { return get() } // want Peek:`reads\(example\.com/methodvalue\.get, example\.com/methodvalue\.quiet\)`

func c1(_ context.Context, k Key) (Out, error) {
	return Out{S: strconv.Itoa(global.Get()) + strconv.Itoa(g2.Get()) + reg[k.S] + strconv.Itoa(quiet.Get())}, nil
}

func Run(c *cache.Cache) { // want Run:`reads\(example\.com/methodvalue\.global via methodvalue\.c1, example\.com/methodvalue\.g2 via methodvalue\.c1, example\.com/methodvalue\.reg via methodvalue\.c1, example\.com/methodvalue\.quiet via methodvalue\.c1\)`
	cache.Load(context.Background(), c, Key{}, c1) // want `reads global, a package variable changed by methodvalue\.Counter\.Inc` `reads g2, a package variable changed by methodvalue\.Counter\.Inc` `reads reg, a package variable changed by methodvalue\.Registry\.Add`
}
