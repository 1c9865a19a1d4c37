package cache

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkShortRuns measures what command-line runs wait for in Close: a namespace of 10000
// or 100000 entries at its budget, and runs that each open a Cache, store one value of 256
// KiB (or 16 KiB) and close it. One op is a sequence of runs that together store half the
// budget, so that some trim must evict, in one run or another, whatever the trim's rules:
// ns/op is the time the sequence spent in Close, max-close-ms the longest Close of the
// sequence, p50-close-ms its median. The entries filling the namespace are small (64 bytes
// of data, a 4 KiB block each).
func BenchmarkShortRuns(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct{ n, size int }{{10000, 256 << 10}, {100000, 256 << 10}, {10000, 16 << 10}} {
		name := fmt.Sprintf("entries=%d", tc.n)
		if tc.size != 256<<10 {
			name += fmt.Sprintf("/store=%dKiB", tc.size>>10)
		}
		n, size := tc.n, tc.size
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			c, err := Open(Options{Dir: dir, Namespace: "bench", MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
			if err != nil {
				b.Fatal(err)
			}
			fillDir(b, c, "fill", n, 64)
			ageDirs(b, c)
			c.Close()
			syncFS()
			sizer := &trimRun{root: c.root, keep: filepath.Base(c.versionDir), maxBytes: 1 << 40, maxAge: DefaultMaxAge, now: time.Now()}
			if _, err := trimNamespace(sizer); err != nil {
				b.Fatal(err)
			}
			budget := sizer.total() + 8<<10
			opts := Options{Dir: dir, Namespace: "bench", MaxBytes: budget, MemoryBytes: -1, CompressionLevel: -1}
			first, err := Open(opts)
			if err != nil {
				b.Fatal(err)
			}
			if err := first.Trim(); err != nil { // at the budget, recorded
				b.Fatal(err)
			}
			first.Close()
			big := valueFor(testKey{"run", 0}, size)
			runs := int(budget / 2 / int64(size))
			var closes []time.Duration
			key := 0
			for b.Loop() {
				for range runs {
					b.StopTimer()
					o, err := Open(opts)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := Load(ctx, o, testKey{"run", key}, func(context.Context, testKey) (testValue, error) { return big, nil }); err != nil {
						b.Fatal(err)
					}
					key++
					start := time.Now()
					b.StartTimer()
					o.Close()
					closes = append(closes, time.Since(start))
				}
			}
			b.StopTimer()
			slices.Sort(closes)
			b.ReportMetric(float64(closes[len(closes)-1].Microseconds())/1000, "max-close-ms")
			b.ReportMetric(float64(closes[len(closes)/2].Microseconds())/1000, "p50-close-ms")
			b.ReportMetric(float64(runs), "runs/op")
		})
	}
}
