package redisremote_test

import (
	"net/url"
	"os"
	"testing"

	"github.com/cachegen/cachegen/runtime/cache/internal/remotetest"
)

// BenchmarkRemote measures this engine against the Redis server that scripts/remote-servers
// starts (CACHEGEN_TEST_REDIS), with the representative key and artifact of the cache's own
// benchmarks; see remotetest.Bench.
func BenchmarkRemote(b *testing.B) {
	raw := os.Getenv("CACHEGEN_TEST_REDIS")
	if raw == "" {
		b.Skipf("CACHEGEN_TEST_REDIS is not set: %s", remotetest.SkipMessage)
	}
	u, err := url.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("prefix", "cachegen-bench:"+remotetest.Unique()+":")
	q.Set("ttl", "1h")
	u.RawQuery = q.Encode()
	remotetest.Bench(b, u.String())
}
