package cache

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// within fails the test if f does not return within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// TestComputeGoexit: a compute that calls runtime.Goexit (t.FailNow does) gives every other
// waiter a clear error, and the next Load computes again.
func TestComputeGoexit(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir()})
	key := testKey{"goexit", 1}
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		Load(context.Background(), c, key, func(context.Context, testKey) (testValue, error) {
			close(started)
			<-release
			runtime.Goexit()
			return testValue{}, nil
		})
	}()
	<-started
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = Load(context.Background(), c, key, failCompute) })
	}
	waitFor(t, func() bool { return c.Stats().Shared == uint64(len(errs)) })
	close(release)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, ErrGoexit) {
			t.Errorf("waiter %d: %v, want ErrGoexit", i, err)
		}
	}
	load(t, c, key, computeSmall)
}

// TestLostPanicCrashes: a compute that panics after every caller gave up is not swallowed:
// the process crashes, with compute's panic and stack, as an unrecovered panic does.
func TestLostPanicCrashes(t *testing.T) {
	cmd := helperCommand(t, "lostpanic", t.TempDir(), 1)
	var out strings.Builder
	cmd.Stderr = &out
	err := cmd.Run()
	if err == nil {
		t.Fatal("the process survived a panic no caller received")
	}
	for _, want := range []string{"lost kaboom", "goroutine of the computation"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the crash does not show %q:\n%s", want, out.String())
		}
	}
}

// TestPanicAfterCancelIsNotLost: a compute that cancels its only caller's context and then
// panics races the caller's giving up. Either the caller receives the panic or, having left
// first, the process crashes with it; the panic is never lost.
func TestPanicAfterCancelIsNotLost(t *testing.T) {
	for _, procs := range []string{"1", "2"} {
		cmd := helperCommand(t, "cancelpanic", t.TempDir(), 1)
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+procs)
		var out strings.Builder
		cmd.Stderr = &out
		err := cmd.Run()
		if strings.Contains(out.String(), "was lost") {
			t.Fatalf("GOMAXPROCS=%s: %s", procs, out.String())
		}
		if err != nil && !strings.Contains(out.String(), "cancel kaboom") {
			t.Fatalf("GOMAXPROCS=%s: the child failed without the panic: %v\n%s", procs, err, out.String())
		}
	}
}

// TestCloseDoesNotWaitForever: Close waits for a computation still running for a caller that
// gave up, but no longer than CloseTimeout; the value, when it comes, is not stored.
func TestCloseDoesNotWaitForever(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), CloseTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := Load(ctx, c, testKey{"forever", 1}, func(context.Context, testKey) (testValue, error) {
		<-release
		return valueFor(testKey{"forever", 1}, 64), nil
	}); err != context.Canceled {
		t.Fatalf("Load: %v", err)
	}
	within(t, 5*time.Second, "Close with a computation that does not return", func() { c.Close() })
}
