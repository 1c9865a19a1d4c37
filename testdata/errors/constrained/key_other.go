//go:build cachegen_other

package input

//cachegen:key
type WindowsKey struct{ A int }
