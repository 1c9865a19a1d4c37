package remotetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
)

// CheckStopped checks what r does once its server has stopped: each Get and Put fails,
// neither as a miss nor later than 5 s.
func CheckStopped(t *testing.T, r cache.Remote, key string) {
	t.Helper()
	ctx := context.Background()
	for i := range 3 {
		start := time.Now()
		_, err := r.Get(ctx, key, 10)
		if err == nil || errors.Is(err, cache.ErrRemoteMiss) {
			t.Fatalf("Get %d after the server stopped: %v, want an error", i, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Get %d after the server stopped took %v", i, d)
		}
		start = time.Now()
		if err := r.Put(ctx, key, []byte("w")); err == nil {
			t.Fatalf("Put %d after the server stopped succeeded", i)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Put %d after the server stopped took %v", i, d)
		}
	}
}
