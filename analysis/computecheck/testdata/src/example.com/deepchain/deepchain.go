// Package deepchain: a write at the end of a call chain deeper than any fixed number of // want package:`writes example\.com/deepchain\.table`
// rounds.
package deepchain

import (
	"context"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

var table = map[string]string{}

func Set(k, v string)                      { f0(table, k, v) } // want Set:`reads\(example\.com/deepchain\.table\)`
func f0(m map[string]string, k, v string)  { f1(m, k, v) }     // want f0:`changes\(0\)`
func f1(m map[string]string, k, v string)  { f2(m, k, v) }     // want f1:`changes\(0\)`
func f2(m map[string]string, k, v string)  { f3(m, k, v) }     // want f2:`changes\(0\)`
func f3(m map[string]string, k, v string)  { f4(m, k, v) }     // want f3:`changes\(0\)`
func f4(m map[string]string, k, v string)  { f5(m, k, v) }     // want f4:`changes\(0\)`
func f5(m map[string]string, k, v string)  { f6(m, k, v) }     // want f5:`changes\(0\)`
func f6(m map[string]string, k, v string)  { f7(m, k, v) }     // want f6:`changes\(0\)`
func f7(m map[string]string, k, v string)  { f8(m, k, v) }     // want f7:`changes\(0\)`
func f8(m map[string]string, k, v string)  { f9(m, k, v) }     // want f8:`changes\(0\)`
func f9(m map[string]string, k, v string)  { f10(m, k, v) }    // want f9:`changes\(0\)`
func f10(m map[string]string, k, v string) { f11(m, k, v) }    // want f10:`changes\(0\)`
func f11(m map[string]string, k, v string) { f12(m, k, v) }    // want f11:`changes\(0\)`
func f12(m map[string]string, k, v string) { f13(m, k, v) }    // want f12:`changes\(0\)`
func f13(m map[string]string, k, v string) { f14(m, k, v) }    // want f13:`changes\(0\)`
func f14(m map[string]string, k, v string) { f15(m, k, v) }    // want f14:`changes\(0\)`
func f15(m map[string]string, k, v string) { f16(m, k, v) }    // want f15:`changes\(0\)`
func f16(m map[string]string, k, v string) { f17(m, k, v) }    // want f16:`changes\(0\)`
func f17(m map[string]string, k, v string) { f18(m, k, v) }    // want f17:`changes\(0\)`
func f18(m map[string]string, k, v string) { f19(m, k, v) }    // want f18:`changes\(0\)`
func f19(m map[string]string, k, v string) { f20(m, k, v) }    // want f19:`changes\(0\)`
func f20(m map[string]string, k, v string) { f21(m, k, v) }    // want f20:`changes\(0\)`
func f21(m map[string]string, k, v string) { f22(m, k, v) }    // want f21:`changes\(0\)`
func f22(m map[string]string, k, v string) { f23(m, k, v) }    // want f22:`changes\(0\)`
func f23(m map[string]string, k, v string) { f24(m, k, v) }    // want f23:`changes\(0\)`
func f24(m map[string]string, k, v string) { f25(m, k, v) }    // want f24:`changes\(0\)`
func f25(m map[string]string, k, v string) { f26(m, k, v) }    // want f25:`changes\(0\)`
func f26(m map[string]string, k, v string) { f27(m, k, v) }    // want f26:`changes\(0\)`
func f27(m map[string]string, k, v string) { f28(m, k, v) }    // want f27:`changes\(0\)`
func f28(m map[string]string, k, v string) { f29(m, k, v) }    // want f28:`changes\(0\)`
func f29(m map[string]string, k, v string) { f30(m, k, v) }    // want f29:`changes\(0\)`
func f30(m map[string]string, k, v string) { f31(m, k, v) }    // want f30:`changes\(0\)`
func f31(m map[string]string, k, v string) { f32(m, k, v) }    // want f31:`changes\(0\)`
func f32(m map[string]string, k, v string) { f33(m, k, v) }    // want f32:`changes\(0\)`
func f33(m map[string]string, k, v string) { f34(m, k, v) }    // want f33:`changes\(0\)`
func f34(m map[string]string, k, v string) { f35(m, k, v) }    // want f34:`changes\(0\)`
func f35(m map[string]string, k, v string) { f36(m, k, v) }    // want f35:`changes\(0\)`
func f36(m map[string]string, k, v string) { f37(m, k, v) }    // want f36:`changes\(0\)`
func f37(m map[string]string, k, v string) { f38(m, k, v) }    // want f37:`changes\(0\)`
func f38(m map[string]string, k, v string) { f39(m, k, v) }    // want f38:`changes\(0\)`
func f39(m map[string]string, k, v string) { f40(m, k, v) }    // want f39:`changes\(0\)`
func f40(m map[string]string, k, v string) { f41(m, k, v) }    // want f40:`changes\(0\)`
func f41(m map[string]string, k, v string) { f42(m, k, v) }    // want f41:`changes\(0\)`
func f42(m map[string]string, k, v string) { f43(m, k, v) }    // want f42:`changes\(0\)`
func f43(m map[string]string, k, v string) { f44(m, k, v) }    // want f43:`changes\(0\)`
func f44(m map[string]string, k, v string) { f45(m, k, v) }    // want f44:`changes\(0\)`
func f45(m map[string]string, k, v string) { f46(m, k, v) }    // want f45:`changes\(0\)`
func f46(m map[string]string, k, v string) { f47(m, k, v) }    // want f46:`changes\(0\)`
func f47(m map[string]string, k, v string) { f48(m, k, v) }    // want f47:`changes\(0\)`
func f48(m map[string]string, k, v string) { f49(m, k, v) }    // want f48:`changes\(0\)`
func f49(m map[string]string, k, v string) { f50(m, k, v) }    // want f49:`changes\(0\)`
func f50(m map[string]string, k, v string) { f51(m, k, v) }    // want f50:`changes\(0\)`
func f51(m map[string]string, k, v string) { f52(m, k, v) }    // want f51:`changes\(0\)`
func f52(m map[string]string, k, v string) { f53(m, k, v) }    // want f52:`changes\(0\)`
func f53(m map[string]string, k, v string) { f54(m, k, v) }    // want f53:`changes\(0\)`
func f54(m map[string]string, k, v string) { f55(m, k, v) }    // want f54:`changes\(0\)`
func f55(m map[string]string, k, v string) { f56(m, k, v) }    // want f55:`changes\(0\)`
func f56(m map[string]string, k, v string) { f57(m, k, v) }    // want f56:`changes\(0\)`
func f57(m map[string]string, k, v string) { f58(m, k, v) }    // want f57:`changes\(0\)`
func f58(m map[string]string, k, v string) { f59(m, k, v) }    // want f58:`changes\(0\)`
func f59(m map[string]string, k, v string) { f60(m, k, v) }    // want f59:`changes\(0\)`
func f60(m map[string]string, k, v string) { m[k] = v }        // want f60:`changes\(0\)`

func c1(_ context.Context, k Key) (Out, error) {
	return Out{S: table[k.S]}, nil
}

func Run(c *cache.Cache) { // want Run:`reads\(example\.com/deepchain\.table via deepchain\.c1\)`
	cache.Load(context.Background(), c, Key{}, c1) // want `reads table, a package variable changed by deepchain\.f0`
}
