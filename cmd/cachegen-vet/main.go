// Cachegen-vet checks that every compute function passed to cache.Load reads only its key:
// it reports captured variables, method values, computes made by calls or that it cannot
// follow, reads of package variables changed outside their initialisation, ctx.Value, and
// ambient inputs (the environment, the clock, random numbers, the file system, the network,
// a database, other processes, the command line), directly or through a package variable
// made from one, in the compute and in the functions of the module it calls. See package
// github.com/cachegen/cachegen/analysis/computecheck for the rules.
//
// Install it as a tool of the module (this records it, and the golang.org/x/tools it is
// built from, in go.mod and go.sum), then run it on packages, as go vet:
//
//	go get -tool github.com/cachegen/cachegen/cmd/cachegen-vet
//	go tool cachegen-vet ./...
//
// or as go vet's tool, which caches its work per package:
//
//	go vet -vettool=$(go tool -n cachegen-vet) ./...
//
// (go run github.com/cachegen/cachegen/cmd/cachegen-vet fails in a module whose go.sum
// lacks golang.org/x/tools; go get -tool adds it.)
//
// Each report is printed as file:line:col: message, and the exit status is non-zero when
// there is one. A justified exception is written //cachegen:allow <reason> at the end of the
// reported line, or alone on the line above it or above the cache.Load statement.
package main

import (
	"github.com/cachegen/cachegen/analysis/computecheck"
	"golang.org/x/tools/go/analysis/singlechecker"
)

func main() { singlechecker.Main(computecheck.Analyzer) }
