package redisremote

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/cache/internal/remotetest"
	"github.com/redis/go-redis/v9"
)

// BenchmarkGet measures one Get of values of several sizes against the server of
// CACHEGEN_TEST_REDIS, next to what go-redis does alone, to tell the engine's own costs
// (the script, the connection wrapper) from the server's and the network's:
//
//	engine    the Remote of Open: the script, through the wrapped connections
//	nowrap    the same script and client options, on go-redis's own connections
//	eval      the script with a client of go-redis's defaults
//	get       a plain GET with a client of go-redis's defaults
func BenchmarkGet(b *testing.B) {
	raw := os.Getenv("CACHEGEN_TEST_REDIS")
	if raw == "" {
		b.Skipf("CACHEGEN_TEST_REDIS is not set: %s", remotetest.SkipMessage)
	}
	ctx := context.Background()
	u, err := url.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	prefix := "cachegen-bench:" + remotetest.Unique() + ":"
	q := u.Query()
	q.Set("prefix", prefix)
	q.Set("ttl", "1h")
	u.RawQuery = q.Encode()

	engine, err := Open(u, cache.RemoteConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer engine.Close()
	// The engine's client, less the dialer that wraps its connections.
	nowrap, opt, err := parseURL(u)
	if err != nil {
		b.Fatal(err)
	}
	opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = defaultRequestTimeout, defaultRequestTimeout, defaultRequestTimeout
	opt.DialTimeout, opt.MaxRetries, opt.DialerRetries = defaultDialTimeout, 1, 1
	nowrap.client = redis.NewClient(opt)
	nowrap.own = true
	defer nowrap.Close()
	plainOpt, err := redis.ParseURL(raw)
	if err != nil {
		b.Fatal(err)
	}
	plain := redis.NewClient(plainOpt)
	defer plain.Close()

	for _, size := range []int{1 << 10, 300 << 10, 16 << 20} {
		key := fmt.Sprintf("%064x", size)
		val := make([]byte, size)
		for i := range val {
			val[i] = byte(i * 7)
		}
		if err := plain.Set(ctx, prefix+key, val, time.Hour).Err(); err != nil {
			b.Fatal(err)
		}
		check := func(b *testing.B, got []byte, err error) {
			if err != nil {
				b.Fatal(err)
			}
			if len(got) != size {
				b.Fatalf("got %d bytes, want %d", len(got), size)
			}
		}
		name := strconv.Itoa(size>>10) + "KiB"
		b.Run(name+"/engine", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				got, err := engine.Get(ctx, key, MaxValueSize)
				check(b, got, err)
			}
		})
		b.Run(name+"/nowrap", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				got, err := nowrap.Get(ctx, key, MaxValueSize)
				check(b, got, err)
			}
		})
		b.Run(name+"/eval", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				v, err := getScript.Run(ctx, plain, []string{prefix + key}, MaxValueSize).Text()
				check(b, []byte(v), err)
			}
		})
		b.Run(name+"/get", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				got, err := plain.Get(ctx, prefix+key).Bytes()
				check(b, got, err)
			}
		})
		plain.Del(ctx, prefix+key)
	}
}
