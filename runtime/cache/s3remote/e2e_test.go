package s3remote_test

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
	u, err := url.Parse(remotetest.Env(t, "CACHEGEN_TEST_S3"))
	if err != nil {
		t.Fatal(err)
	}
	remotetest.Env(t, "AWS_ACCESS_KEY_ID")
	u.Path += "/e2e-" + remotetest.Unique() + "/"
	return u.String()
}
