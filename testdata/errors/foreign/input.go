package input

import (
	"bytes"
	"sync"
)

//cachegen:key
type K struct {
	Buf bytes.Buffer
	Mu  *sync.Mutex
}
