package input

import (
	"strconv"
	"unsafe"
)

const perWord = 32 << (^uint(0) >> 63)

// Regs is guarded: its length must not depend on the build.
type Regs [unsafe.Sizeof(uintptr(0))]byte

//cachegen:key
type K struct {
	A    [strconv.IntSize / 8]byte
	B    [perWord]int8
	C    [bufLen]byte
	W    word
	R    Regs
	P    Path
	Q    Quoted
	Fine [4 * 8]byte
	I    Items
}

// Path has a HashKey only in Windows builds.
type Path string

// Quoted has a HashKey declared in a constrained file that this build includes.
type Quoted string

// Items holds the constrained alias in its underlying type.
type Items []struct{ V word }
