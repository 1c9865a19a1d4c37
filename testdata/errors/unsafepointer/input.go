package input

import "unsafe"

//cachegen:key
type K struct {
	P unsafe.Pointer
}
