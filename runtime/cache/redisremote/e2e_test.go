package redisremote_test

import (
	"net/url"
	"testing"

	"github.com/cachegen/cachegen/runtime/cache/internal/remotetest"
)

// TestEndToEnd: two Caches with their own directories share entries through this engine.
func TestEndToEnd(t *testing.T) {
	remotetest.EndToEnd(t, e2eURL(t))
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
