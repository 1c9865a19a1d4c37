//go:build !cachegen_other

package input

//cachegen:key
type ArchKey struct{ A int }
