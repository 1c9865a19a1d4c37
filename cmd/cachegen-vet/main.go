// Cachegen-vet checks that every compute function passed to cache.Load reads only its key:
// it reports captured variables, method values, computes made by calls, reads of package
// variables changed outside their initialisation, ctx.Value, and ambient inputs (the
// environment, the clock, random numbers, the file system, the network, other processes,
// the command line), directly or through a package variable made from one, in the compute
// and in the functions of the module it calls. See package
// github.com/cachegen/cachegen/analysis/computecheck for the rules.
//
// Run it on packages, as go vet:
//
//	go run github.com/cachegen/cachegen/cmd/cachegen-vet ./...
//	go tool cachegen-vet ./...      # with a tool line for it in go.mod
//
// or as go vet's tool, which caches its work per package:
//
//	go vet -vettool=$(go tool -n cachegen-vet) ./...
//
// Each report is printed as file:line:col: message, and the exit status is non-zero when
// there is one. A justified exception is written //cachegen:allow <reason> at the end of the
// reported line, or alone on the line above.
package main

import (
	"github.com/cachegen/cachegen/analysis/computecheck"
	"golang.org/x/tools/go/analysis/singlechecker"
)

func main() { singlechecker.Main(computecheck.Analyzer) }
