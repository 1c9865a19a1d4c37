//go:build !cachegen_other

package input

type Mode int32
