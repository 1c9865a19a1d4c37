package s3remote_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/cache/internal/remotetest"
	"github.com/cachegen/cachegen/runtime/cache/s3remote"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// server returns the URL of the test bucket, with a prefix unique to this test, and a
// client of the server for checks and cleanup.
func server(t *testing.T) (*url.URL, *minio.Client) {
	t.Helper()
	raw := remotetest.Env(t, "CACHEGEN_TEST_S3")
	remotetest.Env(t, "AWS_ACCESS_KEY_ID")
	remotetest.Env(t, "AWS_SECRET_ACCESS_KEY")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("CACHEGEN_TEST_S3: %v", err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + remotetest.Unique() + "/"
	admin, err := minio.New(u.Query().Get("endpoint"), &minio.Options{
		Creds:  credentials.NewEnvAWS(),
		Secure: u.Query().Get("tls") != "false",
		Region: u.Query().Get("region"),
	})
	if err != nil {
		t.Fatal(err)
	}
	bucket, prefix := u.Host, strings.TrimPrefix(u.Path, "/")
	t.Cleanup(func() {
		ctx := context.Background()
		for obj := range admin.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if obj.Err == nil {
				admin.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{})
			}
		}
	})
	return u, admin
}

// via returns u with its endpoint replaced by addr.
func via(u *url.URL, addr string) string {
	v := *u
	q := v.Query()
	q.Set("endpoint", addr)
	v.RawQuery = q.Encode()
	return v.String()
}

func object(u *url.URL, key string) (bucket, name string) {
	return u.Host, strings.TrimPrefix(u.Path, "/") + key
}

func open(t *testing.T, raw string, cfg cache.RemoteConfig) cache.Remote {
	t.Helper()
	r, err := cache.OpenRemote(raw, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

func putDirect(t *testing.T, admin *minio.Client, u *url.URL, key string, data []byte) {
	t.Helper()
	bucket, name := object(u, key)
	if _, err := admin.PutObject(context.Background(), bucket, name, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestBasics: a miss, and a Put that replaces an entry, as every engine does them.
func TestBasics(t *testing.T) {
	u, _ := server(t)
	r := open(t, u.String(), cache.RemoteConfig{})
	remotetest.CheckBasics(t, r)
}

func TestRoundTrip(t *testing.T) {
	u, admin := server(t)
	r := open(t, u.String(), cache.RemoteConfig{})
	ctx := context.Background()
	key := remotetest.Key("round trip")
	data := remotetest.Data("round trip", 300_000)
	if err := r.Put(ctx, key, data); err != nil {
		t.Fatal(err)
	}
	got, err := r.Get(ctx, key, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes that differ from the %d put", len(got), len(data))
	}
	// The object is named by the prefix and the key.
	bucket, name := object(u, key)
	info, err := admin.StatObject(ctx, bucket, name, minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("the object of the entry: %v", err)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("the object has %d bytes, want %d", info.Size, len(data))
	}
}

// TestNoBucket checks that a missing bucket is an error of the remote, not a miss.
func TestNoBucket(t *testing.T) {
	u, _ := server(t)
	v := *u
	v.Host = "cachegen-no-such-bucket-" + remotetest.Unique()
	r := open(t, v.String(), cache.RemoteConfig{})
	_, err := r.Get(context.Background(), remotetest.Key("x"), 10)
	if err == nil || errors.Is(err, cache.ErrRemoteMiss) {
		t.Fatalf("Get from a missing bucket: %v, want an error other than a miss", err)
	}
}

// TestLimit checks that an object over the limit is refused without reading its body: a
// proxy that forwards slowly counts what crossed it.
func TestLimit(t *testing.T) {
	u, admin := server(t)
	key := remotetest.Key("limit")
	const size = 8 << 20
	putDirect(t, admin, u, key, remotetest.Data("limit", size))
	// 256 KiB every 50ms: 1.6s for the whole object.
	proxy := remotetest.StartProxy(t, u.Query().Get("endpoint"), remotetest.ProxyOptions{Chunk: 256 << 10, Delay: 50 * time.Millisecond})
	r := open(t, via(u, proxy.Addr), cache.RemoteConfig{})
	ctx := context.Background()
	start := time.Now()
	_, err := r.Get(ctx, key, 1024)
	if !errors.Is(err, cache.ErrRemoteTooLarge) {
		t.Fatalf("Get with a limit of 1 KiB of an object of 8 MiB: %v, want ErrRemoteTooLarge", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing the object took %v", d)
	}
	if d := proxy.Down(); d > size/4 {
		t.Errorf("refusing the object transferred %d bytes", d)
	}
	if _, err := r.Get(ctx, key, size-1); !errors.Is(err, cache.ErrRemoteTooLarge) {
		t.Fatalf("Get with a limit of its size less one: %v, want ErrRemoteTooLarge", err)
	}
	direct := open(t, u.String(), cache.RemoteConfig{})
	if got, err := direct.Get(ctx, key, size); err != nil || len(got) != size {
		t.Fatalf("Get with a limit of exactly its size: %d bytes, %v", len(got), err)
	}
}

func TestMaxSize(t *testing.T) {
	r, err := cache.OpenRemote("s3://bucket/p?endpoint=127.0.0.1:1&tls=false&maxsize=1K", cache.RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Put(context.Background(), remotetest.Key("max"), make([]byte, 1025))
	if !errors.Is(err, cache.ErrRemoteTooLarge) {
		t.Fatalf("Put over maxsize: %v, want ErrRemoteTooLarge", err)
	}
}

func TestDenied(t *testing.T) {
	u, admin := server(t)
	key := remotetest.Key("denied")
	putDirect(t, admin, u, key, []byte("v"))
	bucket := u.Host
	prefix := strings.TrimPrefix(u.Path, "/")
	for _, tc := range []struct{ name, access, secret string }{
		{"unknown access key", "cachegen-unknown-" + remotetest.Unique(), "secret-" + remotetest.Unique()},
		{"wrong secret", remotetest.Env(t, "AWS_ACCESS_KEY_ID"), "secret-" + remotetest.Unique()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, err := minio.New(u.Query().Get("endpoint"), &minio.Options{
				Creds:      credentials.NewStaticV4(tc.access, tc.secret, ""),
				Secure:     u.Query().Get("tls") != "false",
				Region:     u.Query().Get("region"),
				MaxRetries: 1,
			})
			if err != nil {
				t.Fatal(err)
			}
			r := s3remote.New(client, bucket, prefix, 0)
			defer r.Close()
			ctx := context.Background()
			_, err = r.Get(ctx, key, 10)
			if !errors.Is(err, cache.ErrRemoteDenied) {
				t.Fatalf("Get: %v, want ErrRemoteDenied", err)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
			err = r.Put(ctx, key, []byte("w"))
			if !errors.Is(err, cache.ErrRemoteDenied) {
				t.Fatalf("Put: %v, want ErrRemoteDenied", err)
			}
		})
	}
	// Through Open, the credentials come from the environment.
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-"+remotetest.Unique())
	r := open(t, u.String(), cache.RemoteConfig{})
	if _, err := r.Get(context.Background(), key, 10); !errors.Is(err, cache.ErrRemoteDenied) {
		t.Fatalf("Get with a wrong AWS_SECRET_ACCESS_KEY: %v, want ErrRemoteDenied", err)
	}
}

func TestURLErrors(t *testing.T) {
	const secret = "hunter2secret"
	for _, raw := range []string{
		"s3://AKIA:" + secret + "@bucket/prefix",
		"s3:///prefix?endpoint=127.0.0.1:1",
		"s3://bucket/prefix?colour=blue",
		"s3://bucket/prefix?tls=maybe",
		"s3://bucket/prefix?lookup=sideways",
		"s3://bucket/prefix?maxsize=6G",
		"s3://bucket/prefix?maxsize=x",
	} {
		r, err := cache.OpenRemote(raw, cache.RemoteConfig{})
		if err == nil {
			r.Close()
			t.Errorf("OpenRemote(%q) succeeded", raw)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("OpenRemote(%q): the error shows the secret: %v", raw, err)
		}
	}
	r, err := cache.OpenRemote("s3://bucket/a/b?endpoint=127.0.0.1:1&tls=false&region=eu-west-1&lookup=path&maxsize=64MiB", cache.RemoteConfig{})
	if err != nil {
		t.Fatalf("a valid URL: %v", err)
	}
	defer r.Close()
	if _, err := r.Get(context.Background(), "../../etc/passwd", 10); err == nil {
		t.Error("Get of a malformed key succeeded")
	}
}

// TestServerStopped checks that a Remote whose server went away fails at once: the server
// is reached through a proxy, which then closes its connections and its port.
func TestServerStopped(t *testing.T) {
	u, _ := server(t)
	proxy := remotetest.StartProxy(t, u.Query().Get("endpoint"), remotetest.ProxyOptions{})
	cfg := cache.RemoteConfig{DialTimeout: 500 * time.Millisecond, RequestTimeout: time.Second, IdleTimeout: time.Second}
	r := open(t, via(u, proxy.Addr), cfg)
	ctx := context.Background()
	key := remotetest.Key("stopped")
	if err := r.Put(ctx, key, []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, key, 10); err != nil {
		t.Fatal(err)
	}
	proxy.Close()
	remotetest.CheckStopped(t, r, key)
}

// TestIdleTimeout checks that a large object may take longer than the request timeout
// while its bytes flow, and that one whose bytes stop is given up after the idle timeout.
func TestIdleTimeout(t *testing.T) {
	u, admin := server(t)
	ctx := context.Background()
	key := remotetest.Key("idle")
	const size = 2 << 20
	data := remotetest.Data("idle", size)
	putDirect(t, admin, u, key, data)
	cfg := cache.RemoteConfig{DialTimeout: time.Second, RequestTimeout: 300 * time.Millisecond, IdleTimeout: 600 * time.Millisecond}

	slow := remotetest.StartProxy(t, u.Query().Get("endpoint"), remotetest.ProxyOptions{Chunk: 64 << 10, Delay: 40 * time.Millisecond})
	r := open(t, via(u, slow.Addr), cfg)
	got, err := r.Get(ctx, key, size)
	if err != nil {
		t.Fatalf("Get through a slow link: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("Get through a slow link returned other bytes")
	}

	stalling := remotetest.StartProxy(t, u.Query().Get("endpoint"), remotetest.ProxyOptions{})
	r = open(t, via(u, stalling.Addr), cfg)
	stalling.StallAfter(size / 2)
	start := time.Now()
	_, err = r.Get(ctx, key, size)
	d := time.Since(start)
	if err == nil || errors.Is(err, cache.ErrRemoteMiss) {
		t.Fatalf("Get through a link that stalls: %v, want an error", err)
	}
	if d > 3*time.Second {
		t.Errorf("Get through a link that stalls took %v, with an idle timeout of %v", d, cfg.IdleTimeout)
	}
	t.Logf("stalled Get failed after %v: %v", d, err)

	// A server that stops answering before its response starts is bounded by the request
	// timeout.
	silent := remotetest.StartProxy(t, u.Query().Get("endpoint"), remotetest.ProxyOptions{})
	silent.StallAfter(0)
	r = open(t, via(u, silent.Addr), cfg)
	start = time.Now()
	if _, err := r.Get(ctx, key, size); err == nil {
		t.Fatal("Get from a silent server succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Get from a silent server took %v", d)
	}
	start = time.Now()
	if err := r.Put(ctx, remotetest.Key("silent"), data); err == nil {
		t.Fatal("Put to a silent server succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Put to a silent server took %v", d)
	}
}

// TestContext checks that Get returns when its context is done.
func TestContext(t *testing.T) {
	u, admin := server(t)
	key := remotetest.Key("context")
	putDirect(t, admin, u, key, []byte("v"))
	proxy := remotetest.StartProxy(t, u.Query().Get("endpoint"), remotetest.ProxyOptions{})
	proxy.StallAfter(0)
	r := open(t, via(u, proxy.Addr), cache.RemoteConfig{RequestTimeout: 10 * time.Second, IdleTimeout: 10 * time.Second})
	remotetest.CheckContextEnds(t, r, key)
}

// TestPutStalls checks that a large Put to a server that stops reading fails soon after the
// idle timeout (the value is larger than what the sockets' buffers hold).
func TestPutStalls(t *testing.T) {
	u, _ := server(t)
	ctx := context.Background()
	const size = 32 << 20
	data := remotetest.Data("put stalls", size)
	cfg := cache.RemoteConfig{DialTimeout: time.Second, RequestTimeout: 300 * time.Millisecond, IdleTimeout: 600 * time.Millisecond}

	proxy := remotetest.StartProxy(t, u.Query().Get("endpoint"), remotetest.ProxyOptions{})
	r := open(t, via(u, proxy.Addr), cfg)
	proxy.StallUpAfter(size / 4)
	start := time.Now()
	err := r.Put(ctx, remotetest.Key("stalled put"), data)
	d := time.Since(start)
	if err == nil {
		t.Fatal("Put through a link that stalls succeeded")
	}
	if d > 3*time.Second {
		t.Errorf("Put through a link that stalls took %v, with an idle timeout of %v", d, cfg.IdleTimeout)
	}
	t.Logf("stalled Put failed after %v: %v", d, err)
}
