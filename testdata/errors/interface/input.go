package input

import "io"

//cachegen:key
type K struct {
	Out  io.Writer
	Meta any
}
