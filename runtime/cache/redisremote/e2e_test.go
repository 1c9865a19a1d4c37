//go:build remotee2e

// The end-to-end test of this engine with the Cache, built with -tags remotee2e until
// cache.Options has its Remote field.

package redisremote_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/cache/internal/remotetest"
	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/tinylib/msgp/msgp"
)

type e2eKey struct{ Name string }

func (k e2eKey) HashKey(h *keyhash.Hasher) {
	h.Begin("redisremote_test.e2eKey", 0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1)
	h.String("Name", k.Name)
	h.End()
}

type e2eValue struct{ Data []byte }

func (v *e2eValue) MarshalMsg(b []byte) ([]byte, error) { return msgp.AppendBytes(b, v.Data), nil }

func (v *e2eValue) UnmarshalMsg(b []byte) ([]byte, error) {
	var err error
	v.Data, b, err = msgp.ReadBytesBytes(b, v.Data[:0])
	return b, err
}

func (v *e2eValue) Msgsize() int { return msgp.BytesPrefixSize + len(v.Data) }

func e2eCompute(_ context.Context, k e2eKey) (e2eValue, error) {
	return e2eValue{Data: remotetest.Data(k.Name, 200_000)}, nil
}

// TestEndToEnd runs two Caches with their own directories on one remote: what the first
// computes, the second loads without computing.
func TestEndToEnd(t *testing.T) {
	raw := e2eURL(t)
	version := "e2e-" + remotetest.Unique()
	openCache := func() *cache.Cache {
		r, err := cache.OpenRemote(raw, cache.RemoteConfig{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := cache.Open(cache.Options{Dir: t.TempDir(), Namespace: "e2e", Version: version, Remote: r})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	key := e2eKey{Name: "entry " + version}
	want := remotetest.Data(key.Name, 200_000)

	first := openCache()
	v, err := cache.Load(ctx, first, key, e2eCompute)
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Data) != string(want) {
		t.Fatal("the first Cache returned other bytes")
	}
	if st := first.Stats(); st.Computes != 1 {
		t.Fatalf("the first Cache computed %d times, want 1", st.Computes)
	}
	if err := first.Close(); err != nil { // waits for the upload
		t.Fatal(err)
	}

	second := openCache()
	defer second.Close()
	v, err = cache.Load(ctx, second, key, e2eCompute)
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Data) != string(want) {
		t.Fatal("the second Cache returned other bytes")
	}
	if st := second.Stats(); st.Computes != 0 || st.Hits != 1 {
		t.Fatalf("the second Cache: %d computes and %d hits, want 0 and 1 (from the remote)", st.Computes, st.Hits)
	}
}

// e2eURL returns the test server's URL with a prefix unique to this run.
func e2eURL(t *testing.T) string {
	u, err := url.Parse(remotetest.Env(t, "CACHEGEN_TEST_REDIS"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("prefix", "cachegen-test:e2e:"+remotetest.Unique()+":")
	q.Set("ttl", "1h")
	u.RawQuery = q.Encode()
	return u.String()
}
