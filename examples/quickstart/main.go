// Command quickstart is the smallest complete use of cachegen: a key struct whose HashKey
// is generated, an expensive computation, and cache.Load in front of it on the local disk
// cache. Run it twice: the second process hits what the first stored.
//
//	go run ./examples/quickstart            # miss, then (second run) hit
//	go run ./examples/quickstart -n 300000  # another key: a miss again
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

//go:generate go run github.com/cachegen/cachegen/cmd/cachegen

// Query is everything the result depends on. Adding a field here without running
// go generate breaks the build; forgetting to hash it is impossible.
//
//cachegen:key
type Query struct {
	Limit  int    // count primes below Limit
	Method string // "sieve" or "trial"
}

// count is the expensive computation. It is a top-level function and reads nothing but its
// key, which is what makes the key complete.
func count(_ context.Context, q Query) (Result, error) {
	n := 0
	switch q.Method {
	case "trial":
		for i := 2; i < q.Limit; i++ {
			prime := true
			for d := 2; d*d <= i; d++ {
				if i%d == 0 {
					prime = false
					break
				}
			}
			if prime {
				n++
			}
		}
	default:
		composite := make([]bool, q.Limit)
		for i := 2; i < q.Limit; i++ {
			if !composite[i] {
				n++
				for j := i * i; j < q.Limit; j += i {
					composite[j] = true
				}
			}
		}
	}
	return Result{Primes: int64(n)}, nil
}

func main() {
	limit := flag.Int("n", 3_000_000, "count primes below n")
	method := flag.String("method", "trial", `"trial" (slow) or "sieve"`)
	dir := flag.String("dir", "", "cache directory (default: the user cache directory)")
	flag.Parse()

	c, err := cache.Open(cache.Options{Dir: *dir, Namespace: "cachegen-quickstart"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
	defer c.Close()

	q := Query{Limit: *limit, Method: *method}
	start := time.Now()
	r, err := cache.Load(context.Background(), c, q, count)
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
	st := c.Stats()
	outcome := "miss (computed and stored)"
	if st.Hits > 0 {
		outcome = "hit"
	}
	fmt.Printf("%d primes below %d (%s): %s in %v; key %.12s...; cache %s\n",
		r.Primes, q.Limit, q.Method, outcome, time.Since(start).Round(time.Microsecond), keyhash.Sum(q), c.Dir())
}
