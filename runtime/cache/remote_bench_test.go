package cache_test

import (
	"os"
	"testing"

	"github.com/cachegen/cachegen/runtime/cache/internal/remotetest"
)

// BenchmarkRemoteHTTP measures the built-in HTTP engine against the nginx WebDAV server
// that scripts/remote-servers starts (CACHEGEN_TEST_HTTP), with the representative key and
// artifact of BenchmarkDiskHit and BenchmarkMissStore; see remotetest.Bench. Each run uses a
// version of its own, so the entries of earlier runs are not found.
func BenchmarkRemoteHTTP(b *testing.B) {
	raw := os.Getenv("CACHEGEN_TEST_HTTP")
	if raw == "" {
		b.Skipf("CACHEGEN_TEST_HTTP is not set: %s", remotetest.SkipMessage)
	}
	remotetest.Bench(b, raw)
}
