package remotetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
)

// CheckContextEnds checks that a Get of key from r, whose server has stalled, returns soon
// after its context ends, with the context's error.
func CheckContextEnds(t *testing.T, r cache.Remote, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Get(ctx, key, 10)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with a stalled server and a context of 200ms: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Get returned %v after its context ended", d)
	}
}
