//go:build !race

package cache

// raceEnabled: the race detector makes sync.Pool drop items on purpose, which allocation
// tests would count.
const raceEnabled = false
