package s3remote

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestReadIdleClaimedSize: the size an object claims is not allocated before its bytes
// arrive: a body much shorter than its claim costs a small buffer.
func TestReadIdleClaimedSize(t *testing.T) {
	const claim = 1 << 30
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readIdle(strings.NewReader("short"), claim, time.Second, func(error) {})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("readIdle = %v, want an unexpected EOF", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("a claim of %d bytes allocated %d bytes", claim, alloc)
	}
	// A body that keeps its claim is read whole, across the buffer's growth.
	want := strings.Repeat("0123456789", 100_000)
	got, err := readIdle(strings.NewReader(want), int64(len(want)), time.Second, func(error) {})
	if err != nil || string(got) != want {
		t.Fatalf("readIdle of %d bytes: %d bytes, %v", len(want), len(got), err)
	}
}
