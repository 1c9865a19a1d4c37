//go:build !race

package keyhash_test

// raceEnabled is set under the race detector, which makes sync.Pool drop items on purpose.
const raceEnabled = false
