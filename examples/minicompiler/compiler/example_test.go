package compiler_test

import (
	"context"
	"fmt"
	"os"

	"github.com/cachegen/cachegen/examples/minicompiler/compiler"
	"github.com/cachegen/cachegen/runtime/cache"
)

// Build compiles through the cache: the second Build of the same options hits, and a
// change of target misses and prints another result.
func ExampleBuild() {
	dir, err := os.MkdirTemp("", "minicompiler-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	c, err := cache.Open(cache.Options{Dir: dir, Namespace: "minicompiler-example"})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	opts := compiler.Options{OptLevel: 2, File: "max.mc", Source: `let x = 2147483647; print "x + 1 =", x + 1;`}
	for _, target := range []compiler.Target{compiler.VM64, compiler.VM64, compiler.VM32} {
		opts.Target = target
		p, hit, err := compiler.Build(context.Background(), c, opts)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%v hit=%v: ", target, hit)
		if _, err := p.Run(os.Stdout, 1000); err != nil {
			panic(err)
		}
	}
	// Output:
	// vm64 hit=false: x + 1 = 2147483648
	// vm64 hit=true: x + 1 = 2147483648
	// vm32 hit=false: x + 1 = -2147483648
}
