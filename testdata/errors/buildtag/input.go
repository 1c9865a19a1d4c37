//go:build linux || !linux

package input

//cachegen:key
type K struct {
	A int
}
