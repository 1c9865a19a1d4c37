package remotetest

import (
	"context"
	"testing"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/tinylib/msgp/msgp"
)

// e2eKey is the key of EndToEnd, with a HashKey written as cachegen generates them.
type e2eKey struct{ Name string }

func (k e2eKey) HashKey(h *keyhash.Hasher) {
	h.Begin("remotetest.e2eKey", 0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1)
	h.String("Name", k.Name)
	h.End()
}

// e2eValue is the value of EndToEnd: 200 kB of bytes that do not compress much.
type e2eValue struct{ Data []byte }

func (v *e2eValue) MarshalMsg(b []byte) ([]byte, error) { return msgp.AppendBytes(b, v.Data), nil }

func (v *e2eValue) UnmarshalMsg(b []byte) ([]byte, error) {
	var err error
	v.Data, b, err = msgp.ReadBytesBytes(b, v.Data[:0])
	return b, err
}

func (v *e2eValue) Msgsize() int { return msgp.BytesPrefixSize + len(v.Data) }

func e2eCompute(_ context.Context, k e2eKey) (e2eValue, error) {
	return e2eValue{Data: Data(k.Name, 200_000)}, nil
}

// EndToEnd runs two Caches with their own directories, standing for two machines, on the
// remote that rawURL names (its engine registered): what the first computes and uploads,
// the second loads from the remote, verified, then from its own tiers. A third Cache that
// holds another secret under the same key id refuses the entry and computes.
func EndToEnd(t *testing.T, rawURL string) {
	t.Helper()
	version := "e2e-" + Unique()
	openCache := func(secret string) *cache.Cache {
		r, err := cache.OpenRemote(rawURL, cache.RemoteConfig{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := cache.Open(cache.Options{Dir: t.TempDir(), Namespace: "e2e", Version: version, Remote: r,
			RemoteKeys: []cache.RemoteKey{{ID: "team", HMAC: []byte(secret)}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	key := e2eKey{Name: "entry " + version}
	want := Data(key.Name, 200_000)
	load := func(c *cache.Cache, who string) {
		t.Helper()
		v, err := cache.Load(ctx, c, key, e2eCompute)
		if err != nil {
			t.Fatal(err)
		}
		if string(v.Data) != string(want) {
			t.Fatalf("the %s Cache returned other bytes", who)
		}
	}

	first := openCache("a secret of the whole team")
	load(first, "first")
	if err := first.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := first.Stats(); st.Computes != 1 || st.Uploads != 1 {
		t.Fatalf("the first Cache: %d computes, %d uploads, want 1 and 1", st.Computes, st.Uploads)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := openCache("a secret of the whole team")
	defer second.Close()
	load(second, "second")
	load(second, "second")
	if st := second.Stats(); st.Computes != 0 || st.RemoteHits != 1 || st.MemoryHits != 1 || st.Uploads != 0 {
		t.Fatalf("the second Cache: %+v, want no compute, one remote hit, then a memory hit, and no upload", st)
	}

	other := openCache("another secret, same key id")
	defer other.Close()
	load(other, "third")
	if st := other.Stats(); st.Computes != 1 || st.RemoteRejected != 1 || st.RemoteHits != 0 {
		t.Fatalf("the Cache with another secret: %+v, want the entry refused and computed", st)
	}
}
