package input

import "github.com/cachegen/cachegen/testdata/errors/foreign_internal/dep"

// K holds a struct of another package whose fields have types of that package's internal
// package, which neither this package nor generated code can name.
//
//cachegen:key
type K struct {
	O dep.Outer
}
