package s3remote_test

import (
	"net/url"
	"os"
	"testing"

	"github.com/cachegen/cachegen/runtime/cache/internal/remotetest"
)

// BenchmarkRemote measures this engine against the S3 server that scripts/remote-servers
// starts (versitygw, CACHEGEN_TEST_S3 and the AWS_* credentials), with the representative
// key and artifact of the cache's own benchmarks; see remotetest.Bench.
func BenchmarkRemote(b *testing.B) {
	raw := os.Getenv("CACHEGEN_TEST_S3")
	if raw == "" || os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		b.Skipf("CACHEGEN_TEST_S3 or AWS_ACCESS_KEY_ID is not set: %s", remotetest.SkipMessage)
	}
	u, err := url.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	u.Path += "/bench-" + remotetest.Unique() + "/"
	remotetest.Bench(b, u.String())
}
