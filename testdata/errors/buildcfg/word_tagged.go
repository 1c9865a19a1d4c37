//go:build !cachegen_other

package input

type word = uint64

const bufLen = 8
