// Command consumer exercises the code cachegen generated for the packages of this module:
// every field of every key must reach the digest, whatever the shape of its type.
package main

import (
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"

	amodel "example.com/consumer/a/model"
	"example.com/consumer/b/model"
	"example.com/consumer/clash"
	"example.com/consumer/cross/a"
	"example.com/consumer/cross/b"
	"example.com/consumer/foreign"
	"example.com/consumer/foreign/api"
	"example.com/consumer/generic"
	"example.com/consumer/group"
	"example.com/consumer/hashfn"
	"example.com/consumer/more"
	"example.com/consumer/mutual"
	"example.com/consumer/recursive"
	"example.com/consumer/shapes"
	"example.com/consumer/twoenums"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

// Every annotated struct of a group is a key.
var _ = []keyhash.Key{group.A{}, group.B{}, group.C{}}

// BK wraps the key of another package under the same name, without being a key itself: it
// has HashKey only by promotion, and that HashKey would skip Verbose. reflect calls this
// package "main", where the generated code knows its import path.
type BK struct {
	b.BK
	Verbose bool
}

// panics reports whether hashing k panics.
func panics(k keyhash.Key) (yes bool) {
	defer func() { yes = recover() != nil }()
	keyhash.Sum(k)
	return false
}

func main() {
	failed := false
	differ := func(what string, x, y keyhash.Key) {
		if keyhash.Sum(x) == keyhash.Sum(y) {
			fmt.Println("FAIL:", what, "does not change the digest")
			failed = true
		}
	}
	same := func(what string, x, y keyhash.Key) {
		if keyhash.Sum(x) != keyhash.Sum(y) {
			fmt.Println("FAIL:", what, "changes the digest")
			failed = true
		}
	}
	differ("a field of an anonymous struct in a named slice", shapes.K{Items: shapes.Items{{A: 1}}}, shapes.K{Items: shapes.Items{{A: 2}}})
	differ("a named map", shapes.K{T: shapes.Table{"a": 1}}, shapes.K{T: shapes.Table{"a": 2}})
	differ("a named array", shapes.K{G: shapes.Grid{{1}}}, shapes.K{G: shapes.Grid{{2}}})
	one, two := 1, 2
	differ("a named pointer", shapes.K{R: &one}, shapes.K{R: &two})
	differ("a leaf deep in a recursive map", recursive.K{T: recursive.Tree{"a": {"b": nil}}}, recursive.K{T: recursive.Tree{"a": {"c": nil}}})
	differ("the depth of a recursive map", recursive.K{T: recursive.Tree{"a": {"b": nil}}}, recursive.K{T: recursive.Tree{"a": nil, "b": nil}})
	differ("a recursive slice of structs", recursive.K{F: recursive.Forest{{Kids: recursive.Forest{{}}}}}, recursive.K{F: recursive.Forest{{}}})
	differ("mutually recursive slices", recursive.K{A: recursive.A{{}}}, recursive.K{A: recursive.A{{{}}}})
	differ("a foreign enum", twoenums.K{A: 1}, twoenums.K{A: 2})
	differ("a foreign enum of another package of the same name", twoenums.K{B: "x"}, twoenums.K{B: "y"})
	differ("an enum named through an exported alias", twoenums.K{E: amodel.Exported(1)}, twoenums.K{E: amodel.Exported(2)})
	differ("an instance of a generic enum", generic.K{U: 1}, generic.K{O: 1})
	differ("a generic named slice", generic.K{L: generic.List[int]{1}}, generic.K{L: generic.List[int]{2}})
	differ("a field beside imports renamed for the package's own identifiers", clash.K{N: 1}, clash.K{N: 2})
	differ("a key of another package", a.AK{B: b.BK{N: 1}}, a.AK{B: b.BK{N: 2}})
	differ("a struct reached from a key of another package", a.AK{In: b.Inner{S: "x"}}, a.AK{In: b.Inner{S: "y"}})
	differ("a field beside an embedded key of another package", a.AK{X: 1}, a.AK{X: 2})
	differ("a field of a key of another package that embeds a key", a.AK{S: b.SK{Extra: 1}}, a.AK{S: b.SK{Extra: 2}})
	differ("a recursive set of anonymous structs", recursive.K{S: recursive.SetForest{{N: 1}}}, recursive.K{S: recursive.SetForest{{N: 2}}})
	if keyhash.Sum(recursive.K{S: recursive.SetForest{{Kids: recursive.SetForest{{N: 1}, {N: 2}}}}}) != keyhash.Sum(recursive.K{S: recursive.SetForest{{Kids: recursive.SetForest{{N: 2}, {N: 1}}}}}) {
		fmt.Println(`FAIL: a recursive set field depends on order`)
		failed = true
	}
	differ("a recursive array holding a lock", &more.K{L: &more.LockedList{{N: 1}}}, &more.K{L: &more.LockedList{{N: 2}}})

	differ("a map of empty structs", &more.K{Seen: map[string]struct{}{"a": {}}}, &more.K{Seen: map[string]struct{}{"b": {}}})
	differ("an alias of this package", &more.K{S: 1}, &more.K{S: 2})
	differ("an instance of a foreign generic type", &more.K{V: []int{1}}, &more.K{V: []int{2}})
	differ("an alias of a recursive foreign type", &more.K{E: model.Exp{nil}}, &more.K{E: model.Exp{{nil}}})
	if keyhash.Sum(&more.K{P: "A"}) != keyhash.Sum(&more.K{P: "a"}) {
		fmt.Println("FAIL: a type's own HashKey was not used")
		failed = true
	}
	if keyhash.Sum(&more.K{Trees: more.Forest{nil, {nil}}}) != keyhash.Sum(&more.K{Trees: more.Forest{{nil}, nil}}) {
		fmt.Println(`FAIL: cache:"set" on a recursive slice depends on order`)
		failed = true
	}
	v := more.V{W: 1, N: []string{"x"}, A: []int{1, 2}, P: "p"}
	raw, err := v.MarshalMsg(nil)
	var back more.V
	if _, err2 := back.UnmarshalMsg(raw); err != nil || err2 != nil || back.W != 1 || back.P != "p" || len(back.A) != 2 {
		fmt.Println("FAIL: value round trip", err, err2, back)
		failed = true
	}

	differ("structs that contain each other", mutual.K{A: mutual.A{B: &mutual.B{A: &mutual.A{N: 1}}}}, mutual.K{A: mutual.A{B: &mutual.B{A: &mutual.A{N: 2}}}})
	differ("a pointer to an array", mutual.K{PA: &[3]int{1}}, mutual.K{PA: &[3]int{2}})
	differ("a pointer to a map", mutual.K{PM: &map[string]int{"a": 1}}, mutual.K{PM: &map[string]int{"a": 2}})
	differ("a type named like msgp's locals", mutual.K{E: 1}, mutual.K{E: 2})

	// Types of another package: structs field by field, standard encodings, functions of
	// the package, exclusions on the directive.
	differ("a field of a foreign struct in a slice", foreign.K{Engines: []api.Engine{{Name: "chrome"}}}, foreign.K{Engines: []api.Engine{{Name: "firefox"}}})
	differ("a foreign struct's second field", foreign.K{One: api.Engine{Version: "1"}}, foreign.K{One: api.Engine{Version: "2"}})
	differ("a recursive foreign struct", foreign.K{Chain: &api.Chain{Next: &api.Chain{Label: "a"}}}, foreign.K{Chain: &api.Chain{Next: &api.Chain{Label: "b"}}})
	differ("a foreign struct in a map", foreign.K{Nested: api.Nested{ByName: map[string]api.Engine{"x": {Version: "1"}}}}, foreign.K{Nested: api.Nested{ByName: map[string]api.Engine{"x": {Version: "2"}}}})
	differ("a foreign struct behind a pointer", foreign.K{Nested: api.Nested{First: &api.Engine{}}}, foreign.K{Nested: api.Nested{}})
	differ("a foreign struct in an array", foreign.K{Nested: api.Nested{Pair: [2]api.Engine{1: {Name: "a"}}}}, foreign.K{Nested: api.Nested{Pair: [2]api.Engine{0: {Name: "a"}}}})
	differ("an anonymous struct in a foreign struct", foreign.K{Nested: api.Nested{Inline: struct{ A, B int }{B: 1}}}, foreign.K{Nested: api.Nested{Inline: struct{ A, B int }{A: 1}}})
	differ("a foreign enum", foreign.K{Target: api.ES5}, foreign.K{Target: api.ES2020})
	differ("a netip.Addr (MarshalBinary)", foreign.K{Addr: netip.MustParseAddr("10.0.0.1")}, foreign.K{Addr: netip.MustParseAddr("10.0.0.2")})
	differ("a zone of a netip.Addr", foreign.K{Addr: netip.MustParseAddr("fe80::1%eth0")}, foreign.K{Addr: netip.MustParseAddr("fe80::1%eth1")})
	differ("an alias of an unexported generic instance (MarshalBinary)", foreign.K{IB: api.IntBox{V: 1}}, foreign.K{IB: api.IntBox{V: 2}})
	differ("a named map with an encoding (hashed by its entries)", foreign.K{Set: api.Set{"a": true}}, foreign.K{Set: api.Set{"b": true}})
	differ("a generic foreign type hashed by its encoding", foreign.KG[group.A]{B: api.Box[group.A]{V: group.A{X: 1}}}, foreign.KG[group.A]{B: api.Box[group.A]{V: group.A{X: 2}}})
	differ("a netip.Prefix", foreign.K{Prefix: netip.MustParsePrefix("10.0.0.0/8")}, foreign.K{Prefix: netip.MustParsePrefix("10.0.0.0/16")})
	differ("a *regexp.Regexp (MarshalText)", foreign.K{Re: regexp.MustCompile("a+")}, foreign.K{Re: regexp.MustCompile("a*")})
	differ("a nil *regexp.Regexp", foreign.K{Re: regexp.MustCompile("")}, foreign.K{})
	differ("a *big.Int", foreign.K{Big: big.NewInt(1)}, foreign.K{Big: big.NewInt(-1)})
	differ("a *url.URL", foreign.K{URL: &url.URL{Scheme: "https", Host: "a"}}, foreign.K{URL: &url.URL{Scheme: "https", Host: "b"}})
	differ("hidden state hashed by a function", foreign.K{Hidden: api.NewHidden("p", 1)}, foreign.K{Hidden: api.NewHidden("p", 2)})
	differ("an interface hashed by a function", foreign.K{Define: api.Bool{V: false}}, foreign.K{Define: api.Bool{V: true}})
	differ("a nil interface hashed by a function", foreign.K{Define: api.Bool{V: false}}, foreign.K{})
	differ("the type behind an interface hashed by a function", foreign.K{Define: api.Bool{}}, foreign.K{Define: api.Number{}})
	differ("an interface in a map hashed by a function", foreign.K{Defines: map[string]api.Expr{"DEBUG": api.Bool{V: false}}}, foreign.K{Defines: map[string]api.Expr{"DEBUG": api.Bool{V: true}}})
	// What a function writes is framed: it cannot run into the next field.
	differ("a function's writes beside the next field", foreign.K{Define: api.Bool{}, Defines: map[string]api.Expr{}}, foreign.K{Define: api.Bool{}, Defines: map[string]api.Expr{"": nil}})
	differ("an adopted struct's field", foreign.Options{Target: api.ES5}, foreign.Options{Target: api.ES2020})
	differ("an adopted struct's interface map", foreign.Options{Defines: map[string]api.Expr{"D": api.Number{V: 1}}}, foreign.Options{Defines: map[string]api.Expr{"D": api.Number{V: 2}}})
	if keyhash.Sum(foreign.Options{OnLoad: func(s string) string { return s }, Cache: map[string]any{"a": 1}}) != keyhash.Sum(foreign.Options{}) {
		fmt.Println("FAIL: a field excluded on the directive was hashed")
		failed = true
	}
	// A foreign struct's own cache tags are its author's, not the user's: ignored.
	differ("a foreign field tagged cache:\"-\" by its package", foreign.K{Tags: api.Tagged{Token: "a"}}, foreign.K{Tags: api.Tagged{Token: "b"}})
	differ("the order of a foreign slice tagged cache:\"set\" by its package", foreign.K{Tags: api.Tagged{Order: []int{1, 2}}}, foreign.K{Tags: api.Tagged{Order: []int{2, 1}}})
	differ("a foreign field tagged cache:\"ttl\" by its package", foreign.K{Tags: api.Tagged{TTL: 1}}, foreign.K{Tags: api.Tagged{TTL: 2}})
	differ("an adopted field tagged cache:\"-\" by its package", foreign.Adopted{Token: "a"}, foreign.Adopted{Token: "b"})
	differ("a field that a foreign type's own encoding covers beside an embedded one's", foreign.K{Zoned: api.Zoned{Zone: "a"}}, foreign.K{Zoned: api.Zoned{Zone: "b"}})
	differ("the 4- and 16-byte forms of a net.IP (its MarshalText gives both one text)", foreign.K{IP: net.IPv4(1, 2, 3, 4).To4()}, foreign.K{IP: net.IPv4(1, 2, 3, 4).To16()})
	keyhash.Sum(foreign.K{IP: net.IP{1, 2, 3}}) // its MarshalText fails: it must not be called
	// A function marked //cachegen:hash hashes its type, not the named types over it.
	same("a string hashed by its function", hashfn.K{S: "A"}, hashfn.K{S: "a"})
	differ("a named string, not hashed by the function for string", hashfn.K{N: "A"}, hashfn.K{N: "a"})
	same("a []string hashed by its function", hashfn.K{L: []string{"x"}}, hashfn.K{L: []string{"y"}})
	differ("a named []string, not hashed by the function for []string", hashfn.K{A: hashfn.Args{"x"}}, hashfn.K{A: hashfn.Args{"y"}})
	// The trace names a field's declared type, and an enum's String beside its value.
	var trace strings.Builder
	th := keyhash.New()
	th.Trace(&trace)
	foreign.K{Target: api.ES2020}.HashKey(th)
	th.Sum()
	if !strings.Contains(trace.String(), "Target api.Target = 1 (ES2020)") || !strings.Contains(trace.String(), "Engines") {
		fmt.Println("FAIL: the trace does not show the declared type and String of an enum:\n" + trace.String())
		failed = true
	}
	// Methods promoted from an embedded field do not stand for the struct.
	addr := netip.MustParseAddr("10.0.0.1")
	differ("a field beside an embedded type with MarshalBinary", foreign.K{Wrap: api.Wrapper{Addr: addr, Extra: 1}}, foreign.K{Wrap: api.Wrapper{Addr: addr, Extra: 2}})
	differ("a field beside an embedded pointer with MarshalBinary", foreign.K{End: api.Endpoint{Retries: 1}}, foreign.K{End: api.Endpoint{Retries: 2}})
	differ("an embedded pointer with MarshalBinary", foreign.K{End: api.Endpoint{URL: &url.URL{Host: "a"}}}, foreign.K{End: api.Endpoint{}})
	if panics(foreign.K{}) {
		fmt.Println("FAIL: the zero key (a nil embedded *url.URL) panics")
		failed = true
	}
	addr2 := netip.MustParseAddr("10.0.0.2")
	differ("a named pointer to a netip.Addr", foreign.K{AP: &addr}, foreign.K{AP: &addr2})
	differ("a nil named pointer", foreign.K{AP: &addr}, foreign.K{})
	differ("a big.Float's precision (GobEncode)", foreign.K{FP: new(big.Float).SetPrec(10).SetInt64(1)}, foreign.K{FP: new(big.Float).SetPrec(200).SetInt64(1)})
	differ("an alias of an unexported enum", foreign.K{Lo: 1}, foreign.K{Lo: -1})
	// The trace puts a pointer's star on its own segment, and a String that panics is
	// shown rather than crashing the program.
	trace.Reset()
	th = keyhash.New()
	th.Trace(&trace)
	seven := api.Level(7)
	foreign.K{Deep: api.Deep{PL: &seven}, Level: 9}.HashKey(th)
	th.Sum()
	if !strings.Contains(trace.String(), "Deep.*PL api.Level = 7 (String panicked") || !strings.Contains(trace.String(), "K.Level api.Level = 9 (String panicked") {
		fmt.Println("FAIL: the trace of a pointer in a foreign struct, or of a String that panics:\n" + trace.String())
		failed = true
	}
	fv := foreign.V{Loader: 7, Loaders: []api.Loader{1, 2}, ByExt: map[string]api.Loader{".js": 3}, Target: api.ES2020, Lo: -3}
	fraw, err := fv.MarshalMsg(nil)
	var fback foreign.V
	if _, err2 := fback.UnmarshalMsg(fraw); err != nil || err2 != nil || fback.Loader != 7 || len(fback.Loaders) != 2 || fback.ByExt[".js"] != 3 || fback.Target != api.ES2020 || fback.Lo != fv.Lo {
		fmt.Println("FAIL: a value of foreign enums round trip", err, err2, fback)
		failed = true
	}

	if !panics(BK{Verbose: true}) {
		fmt.Println("FAIL: a key of package main promoted from the same-named key it embeds was hashed")
		failed = true
	}
	if panics(a.AK{}) {
		fmt.Println("FAIL: a generated key that embeds another was refused")
		failed = true
	}

	// A map is hashed independently of its iteration order.
	ids := shapes.K{T: shapes.Table{}}
	for i := range 64 {
		ids.T[fmt.Sprint(i)] = i
	}
	first := keyhash.Sum(ids)
	for range 20 {
		if keyhash.Sum(ids) != first {
			fmt.Println("FAIL: a named map's digest depends on iteration order")
			failed = true
			break
		}
	}
	if failed {
		os.Exit(1)
	}
	fmt.Println("ok")
}
