package input

import (
	"bytes"
	"time"
)

// MyBuf's fields are bytes.Buffer's, which are unexported.
type MyBuf bytes.Buffer

// MyTime's fields are time.Time's.
type MyTime time.Time

//cachegen:key
type K struct {
	B MyBuf
	T MyTime
}
