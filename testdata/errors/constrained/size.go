//go:build !cachegen_other
// +build !cachegen_other

package input

type Size int
