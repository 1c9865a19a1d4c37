//go:build cachegen_other

package input

type word = uint32

const bufLen = 4
