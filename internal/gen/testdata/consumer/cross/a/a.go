package a

//go:generate go tool cachegen

import "example.com/consumer/cross/b"

//cachegen:key
type AK struct {
	B  b.BK
	In b.Inner
	b.BK
	X int
	S b.SK
}
