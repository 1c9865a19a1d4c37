//go:build !linux

package input

type Mode int64
