package input

import "github.com/cachegen/cachegen/testdata/errors/value_adopted/dep"

// O adopts a struct it cannot tag: exclude= on each directive is no duplicate, and the value
// error says that msg:"-" cannot be written here.
//
//cachegen:key exclude=Hook
//cachegen:value exclude=Hook
type O dep.Hooked
