// Package stateholder: a local state struct holding a package variable, changed by its own // want package:`writes example\.com/stateholder\.sharedConfig, writes example\.com/stateholder\.sharedTags`
// pointer methods, does not change the variable; a method changing what the struct holds
// does.
package stateholder

import (
	"context"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

type Config struct {
	Prefix string
	Words  []string
}

var defaultConfig = &Config{Prefix: "p", Words: []string{"a"}}

type parser struct {
	cfg *Config
	src string
	pos int
}

func (p *parser) next() { p.pos++ } // want next:`changes\(0\)`

var defaultTags = []string{"a", "b"}

type builder struct {
	tags []string
	name string
}

func (b *builder) setName(n string) { b.name = n } // want setName:`changes\(0\)`

// Through a helper that forwards its parameter: still only the struct's own field.
func advance(p *parser) { p.next() } // want advance:`changes\(0\)`

func c1(_ context.Context, k Key) (Out, error) {
	p := &parser{cfg: defaultConfig, src: k.S}
	p.next()
	advance(p)
	return Out{S: p.cfg.Prefix + p.src[p.pos:]}, nil
}

func c2(_ context.Context, k Key) (Out, error) {
	b := &builder{tags: defaultTags}
	b.setName(k.S)
	return Out{S: b.name + defaultTags[0]}, nil
}

// Negative neighbours: methods that change what the struct holds.
var (
	sharedConfig = &Config{Prefix: "q"}
	sharedTags   = []string{"a"}
)

type editor struct {
	cfg  *Config
	tags []string
}

func (e *editor) rename(s string) { e.cfg.Prefix = s } // want rename:`changes\(0\*\)`
func (e *editor) retag(s string)  { e.tags[0] = s }    // want retag:`changes\(0\*\)`
func renameVia(e *editor)         { e.rename("z") }    // want renameVia:`changes\(0\*\)`

func Edit(s string) { // want Edit:`reads\(example\.com/stateholder\.sharedConfig, example\.com/stateholder\.sharedTags\)`
	e := &editor{cfg: sharedConfig, tags: sharedTags}
	e.rename(s)
	e.retag(s)
	renameVia(e)
}

func c3(_ context.Context, k Key) (Out, error) {
	return Out{S: sharedConfig.Prefix + sharedTags[0] + k.S}, nil
}

func Run(c *cache.Cache) { // want Run:`reads\(example\.com/stateholder\.defaultConfig via stateholder\.c1, example\.com/stateholder\.defaultTags via stateholder\.c2, example\.com/stateholder\.sharedConfig via stateholder\.c3, example\.com/stateholder\.sharedTags via stateholder\.c3\)`
	ctx := context.Background()
	cache.Load(ctx, c, Key{}, c1)
	cache.Load(ctx, c, Key{}, c2)
	cache.Load(ctx, c, Key{}, c3) // want `reads sharedConfig, a package variable changed by stateholder\.editor\.rename` `reads sharedTags, a package variable changed by stateholder\.editor\.rename`
}
