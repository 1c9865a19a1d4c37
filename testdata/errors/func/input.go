package input

import "github.com/cachegen/cachegen/testdata/errors/func/dep"

//cachegen:key
type K struct {
	Name string
	Hook func(int) error
	Enc  dep.Fn // a func type of another package with an encoding: refused all the same
}
