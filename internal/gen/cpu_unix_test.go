//go:build unix

package gen

import "syscall"

// cpuTime returns the CPU time, user and system, in nanoseconds, that this process and the
// children it waited for (the go command that go/packages runs) have used so far.
func cpuTime() int64 {
	var total int64
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)
		}
	}
	return total
}
