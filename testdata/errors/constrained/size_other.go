//go:build cachegen_other

package input

type Size int32
