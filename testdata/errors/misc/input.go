package input

import "sync"

type List[T any] []T

// Nest instantiates itself without end.
type Nest[T any] map[string]Nest[List[T]]

//cachegen:key
type K struct{ N Nest[int] }

//cachegen:key
type _ struct{ N int }

type Flag uint8

//cachegen:value
type V struct {
	F [4]Flag
}

//cachegen:value
type Locked struct {
	mu sync.Mutex `cache:"-"`
	N  int
}

//cachegen:key
type LockedMap struct {
	M map[string]Locked
	S []Locked `cache:"set"`
}
