// Package writes: package variables changed through methods, parameters, local copies and // want package:"writes example.com/writes.counter, writes example.com/writes.reg, writes example.com/writes.table, writes example.com/writes.cfg, writes example.com/writes.buf, writes example.com/writes.copied, writes example.com/writes.list, writes example.com/writes.g2, writes example.com/writes.ticks, writes example.com/writes.generation, writes example.com/writes.names, writes example.com/writes.names2, writes example.com/writes.names3, writes example.com/writes.pushed, writes example.com/writes.sa, writes example.com/writes.sb, writes example.com/writes.arr, writes example.com/writes.items, writes example.com/writes.byName, writes example.com/writes.shared"
// aliases, conversions, slice expressions and channels; and read-only uses that are not
// changes.
package writes

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

// F1: a pointer method of a type of the module.
type Counter struct{ n int }

func (c *Counter) Inc()     { c.n++ } // want Inc:`changes\(0\)`
func (c *Counter) Get() int { return c.n }

var counter Counter

func bump() { counter.Inc() }

// F2: a map of a named type filled by its method.
type Registry map[string]string

func (r Registry) Add(k, v string) { r[k] = v } // want Add:`changes\(0\)`

var reg = Registry{}

func register(k, v string) { reg.Add(k, v) }

// F3: a map, a pointer and a slice passed by value to functions that change them.
type Config struct{ Mode string }

var (
	table = map[string]string{}
	cfg   = &Config{}
	buf   = make([]byte, 4)
)

func fill(m map[string]string, k, v string) { m[k] = v } // want fill:`changes\(0\)`

func set(k, v string)      { fill(table, k, v) }
func reload(b []byte)      { _ = json.Unmarshal(b, cfg) }
func readInto(r io.Reader) { _, _ = io.ReadFull(r, buf) }

// F4, F24: through a local copy of a map or slice, and a two-hop alias.
var (
	copied = map[string]string{}
	list   = []string{"a", "b"}
	g2     string
)

func setCopy(k, v string) { m := copied; m[k] = v }
func setList(v string)    { s := list[:]; s[0] = v }
func setG2()              { p := &g2; q := p; *q = "x" }

// F5: a channel another goroutine sends on.
var ticks = make(chan string, 1)

func start() {
	go func() {
		for {
			ticks <- time.Now().String()
		}
	}()
}

// F6: a goroutine started by init is not initialisation.
var generation int

func init() { go refresh() }

func refresh() {
	for {
		generation++
		time.Sleep(time.Second)
	}
}

// F21: sorted through a conversion, a wrapper, a method of a conversion; append into the
// array; a slice expression; a local slice of an array.
type byLen []string

func (s byLen) Len() int           { return len(s) }
func (s byLen) Less(i, j int) bool { return len(s[i]) < len(s[j]) }
func (s byLen) Swap(i, j int)      { s[i], s[j] = s[j], s[i] } // want Swap:`changes\(0\)`

var (
	names  = []string{"bb", "a"}
	names2 = []string{"bb", "a"}
	names3 = []string{"bb", "a"}
	pushed = []string{"x", "y"}
	sa     = []string{"b", "a"}
	sb     = []string{"b", "a"}
	arr    = [2]string{"b", "a"}
)

func sort1()        { sort.Sort(byLen(names)) }
func sort2()        { sort.Sort(sort.Reverse(sort.StringSlice(names2))) }
func sort3()        { sort.StringSlice(names3).Sort() }
func push(s string) { _ = append(pushed[:0], s) }
func w1()           { slices.Sort(sa[:]) }
func w2(s string)   { copy(sb[1:], []string{s}) }
func w3(s string)   { q := arr[:]; q[0] = s }

// F27: the pointees of a global's pointer elements.
type Item struct{ X string }

var (
	items  = []*Item{{X: "a"}}
	byName = map[string]*Item{"a": {X: "a"}}
	shared = &Item{X: "c"}
)

func bumpItems() {
	for _, it := range items {
		it.X += "!"
	}
}
func setItem(v string)   { p := byName["a"]; p.X = v }
func get() *Item         { return shared }
func setShared(v string) { get().X = v }

func changed(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: k.S + string(rune(counter.Get()))}, nil // want `compute reads counter, a package variable changed by writes.Counter.Inc`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: reg[k.S]}, nil // want `compute reads reg, a package variable changed by writes.Registry.Add`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: table[k.S] + cfg.Mode + string(buf)}, nil // want `compute reads table, a package variable changed by writes.fill` `compute reads cfg, a package variable changed by encoding/json.Unmarshal` `compute reads buf, a package variable changed by io.ReadFull`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: copied[k.S] + list[0] + g2}, nil // want `compute reads copied, a package variable assigned` `compute reads list, a package variable assigned` `compute reads g2, a package variable assigned`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: <-ticks}, nil // want `compute reads ticks, a package variable changed by a send`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: string(rune(generation))}, nil // want `compute reads generation, a package variable assigned`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: names[0] + names2[0] + names3[0] + pushed[0]}, nil // want `compute reads names, a package variable changed by sort.Sort` `compute reads names2, a package variable changed by sort.Sort` `compute reads names3, a package variable changed by sort.StringSlice.Sort` `compute reads pushed, a package variable assigned`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: sa[0] + sb[0] + arr[0]}, nil // want `compute reads sa, a package variable changed by slices.Sort` `compute reads sb, a package variable assigned` `compute reads arr, a package variable assigned`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: items[0].X + byName[k.S].X + shared.X}, nil // want `compute reads items, a package variable assigned` `compute reads byName, a package variable assigned` `compute reads shared, a package variable assigned`
	})
}

// Read-only uses of package variables, and changes of local copies, are not changes.
var (
	repl     = strings.NewReplacer("a", "b")
	two      = big.NewInt(2)
	defaults = struct{ A, B int }{1, 2}
	sorted   = []string{"b", "a"}
	local    = map[string]string{"a": "b"}
	pool     = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	initMap  = map[string]string{}
	initList = []string{"b", "a"}
	byKey    = map[string]*Item{"a": {X: "a"}}
	words    = regexp.MustCompile(`\w+`)
)

// sortedWords sorts what a regexp method returns: a new slice, not the regexp's.
func sortedWords(s string) []string {
	m := words.FindAllString(s, -1)
	sort.Strings(m)
	return m
}

func fillInit(m map[string]string) { m["x"] = "y" } // want fillInit:`changes\(0\)`

func init() {
	fillInit(initMap)
	sort.Strings(initList)
}

func readOnly(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		b, err := json.Marshal(&defaults)
		s := slices.Clone(sorted)
		sort.Strings(s)
		s2 := append([]string(nil), sorted...)
		sort.Strings(s2)
		m := map[string]string{}
		for k, v := range local {
			m[k] = v
		}
		m[k.S] = "x"
		buf := pool.Get().(*bytes.Buffer)
		buf.Reset()
		defer pool.Put(buf)
		it := *byKey["a"]
		it.X = k.S
		return Out{S: sortedWords(k.S)[0] + repl.Replace(k.S) + string(b) + s[0] + s2[0] + fmt(two.Bits()) + initMap["x"] + initList[0] + it.X}, err
	})
}

func fmt(w []big.Word) string { return string(rune(len(w))) }
