package input

import (
	"bytes"
	"io"
)

// Every kind a value cannot round-trip, each reported at its field.
//
//cachegen:value
type V struct {
	Hook  func()
	Done  chan int
	Out   io.Writer
	Any   any
	Buf   bytes.Buffer
	Addr  uintptr
	ByKey map[[2]int]string
	OK    []string
}
