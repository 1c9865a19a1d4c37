package remotetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/cachegen/cachegen/runtime/cache"
)

// CheckBasics checks what every engine must do: a key never stored is ErrRemoteMiss, and a
// Put replaces what was under its key, whatever the sizes.
func CheckBasics(t *testing.T, r cache.Remote) {
	t.Helper()
	ctx := context.Background()
	if _, err := r.Get(ctx, Key("never stored"), 1<<20); !errors.Is(err, cache.ErrRemoteMiss) {
		t.Fatalf("Get of a missing key: %v, want ErrRemoteMiss", err)
	}
	key := Key("overwrite")
	for i, data := range [][]byte{Data("first", 5000), Data("second", 300)} {
		if err := r.Put(ctx, key, data); err != nil {
			t.Fatal(err)
		}
		got, err := r.Get(ctx, key, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("after put %d: Get returned %d bytes, not the %d put", i, len(got), len(data))
		}
	}
}
