//go:build !wasm
// +build !wasm

package input

type Size int
