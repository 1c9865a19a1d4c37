package redisremote_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/cache/internal/remotetest"
	"github.com/cachegen/cachegen/runtime/cache/redisremote"
	"github.com/redis/go-redis/v9"
)

// server returns the URL of the test server and a client of it for checks and cleanup.
func server(t *testing.T) (string, *redis.Client) {
	t.Helper()
	raw := remotetest.Env(t, "CACHEGEN_TEST_REDIS")
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("CACHEGEN_TEST_REDIS: %v", err)
	}
	admin := redis.NewClient(opt)
	t.Cleanup(func() { admin.Close() })
	return raw, admin
}

// withParams returns raw with its host replaced (when host is not "") and params added.
func withParams(t *testing.T, raw, host string, params url.Values) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		u.Host = host
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// prefix returns a prefix of keys unique to this run, whose keys are deleted at the end.
func prefix(t *testing.T, admin *redis.Client) string {
	p := "cachegen-test:" + remotetest.Unique() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := admin.Scan(ctx, 0, p+"*", 100).Iterator()
		for iter.Next(ctx) {
			admin.Del(ctx, iter.Val())
		}
	})
	return p
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

// openTest opens the test server with a prefix unique to the test.
func openTest(t *testing.T, cfg cache.RemoteConfig) (cache.Remote, *redis.Client, string) {
	raw, admin := server(t)
	p := prefix(t, admin)
	return open(t, withParams(t, raw, "", url.Values{"prefix": {p}}), cfg), admin, p
}

// TestBasics: a miss, and a Put that replaces an entry, as every engine does them.
func TestBasics(t *testing.T) {
	r, _, _ := openTest(t, cache.RemoteConfig{})
	remotetest.CheckBasics(t, r)
}

func TestRoundTrip(t *testing.T) {
	r, admin, p := openTest(t, cache.RemoteConfig{})
	ctx := context.Background()
	key := remotetest.Key("round trip")
	data := remotetest.Data("round trip", 100_000)
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
	// The entry is under the prefix, with the default TTL.
	ttl, err := admin.TTL(ctx, p+key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < redisremote.DefaultTTL-time.Minute || ttl > redisremote.DefaultTTL {
		t.Errorf("TTL of the entry = %v, want about %v", ttl, redisremote.DefaultTTL)
	}
	// An empty value is a value, not a miss.
	empty := remotetest.Key("empty")
	if err := r.Put(ctx, empty, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Get(ctx, empty, 10); err != nil || len(got) != 0 {
		t.Fatalf("Get of an empty value = %q, %v", got, err)
	}
}

// TestLimit checks that a value over the limit is refused without its bytes crossing the
// network: a proxy counts them.
func TestLimit(t *testing.T) {
	raw, admin := server(t)
	p := prefix(t, admin)
	ctx := context.Background()
	key := remotetest.Key("limit")
	const size = 8 << 20
	if err := admin.Set(ctx, p+key, remotetest.Data("limit", size), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	proxy := remotetest.StartProxy(t, hostOf(t, raw), remotetest.ProxyOptions{})
	r := open(t, withParams(t, raw, proxy.Addr, url.Values{"prefix": {p}}), cache.RemoteConfig{})
	_, err := r.Get(ctx, key, 1024)
	if !errors.Is(err, cache.ErrRemoteTooLarge) {
		t.Fatalf("Get with a limit of 1 KiB of a value of 8 MiB: %v, want ErrRemoteTooLarge", err)
	}
	if d := proxy.Down(); d > 64<<10 {
		t.Errorf("refusing the value transferred %d bytes", d)
	}
	if got, err := r.Get(ctx, key, size); err != nil || len(got) != size {
		t.Fatalf("Get with a limit of exactly its size: %d bytes, %v", len(got), err)
	}
	if _, err := r.Get(ctx, key, size-1); !errors.Is(err, cache.ErrRemoteTooLarge) {
		t.Fatalf("Get with a limit of its size less one: %v, want ErrRemoteTooLarge", err)
	}
}

// TestMaxSize checks that the maxsize parameter refuses larger puts before sending them.
func TestMaxSize(t *testing.T) {
	r, err := cache.OpenRemote("redis://127.0.0.1:1/0?maxsize=1KiB", cache.RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Put(context.Background(), remotetest.Key("max"), make([]byte, 1025))
	if !errors.Is(err, cache.ErrRemoteTooLarge) {
		t.Fatalf("Put over maxsize: %v, want ErrRemoteTooLarge", err)
	}
}

func TestTTLParameter(t *testing.T) {
	raw, admin := server(t)
	p := prefix(t, admin)
	ctx := context.Background()
	for _, tc := range []struct {
		ttl  string
		want time.Duration // -1: none
	}{{"90s", 90 * time.Second}, {"3600", time.Hour}, {"0", -1}} {
		r := open(t, withParams(t, raw, "", url.Values{"prefix": {p}, "ttl": {tc.ttl}}), cache.RemoteConfig{})
		key := remotetest.Key("ttl " + tc.ttl)
		if err := r.Put(ctx, key, []byte("x")); err != nil {
			t.Fatal(err)
		}
		got, err := admin.TTL(ctx, p+key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if tc.want < 0 && got >= 0 || tc.want >= 0 && (got > tc.want || got < tc.want-10*time.Second) {
			t.Errorf("ttl=%s: TTL %v, want %v", tc.ttl, got, tc.want)
		}
	}
}

func TestDenied(t *testing.T) {
	raw, admin := server(t)
	p := prefix(t, admin)
	ctx := context.Background()
	user := "cachegen-test-" + remotetest.Unique()
	password := "pw-" + remotetest.Unique()
	// A user who may read everything under the prefix and write nothing.
	if err := admin.Do(ctx, "ACL", "SETUSER", user, "on", ">"+password, "~"+p+"*", "+@all", "-@write").Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	t.Cleanup(func() { admin.Do(context.Background(), "ACL", "DELUSER", user) })
	key := remotetest.Key("denied")
	if err := admin.Set(ctx, p+key, "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	withUser := func(pass string) string {
		u, err := url.Parse(withParams(t, raw, "", url.Values{"prefix": {p}}))
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(user, pass)
		return u.String()
	}

	wrong := "wrong-" + remotetest.Unique()
	r := open(t, withUser(wrong), cache.RemoteConfig{})
	_, err := r.Get(ctx, key, 100)
	if !errors.Is(err, cache.ErrRemoteDenied) {
		t.Fatalf("Get with a wrong password: %v, want ErrRemoteDenied", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("the error shows the password: %v", err)
	}
	if err := r.Put(ctx, key, []byte("w")); !errors.Is(err, cache.ErrRemoteDenied) {
		t.Fatalf("Put with a wrong password: %v, want ErrRemoteDenied", err)
	}

	ro := open(t, withUser(password), cache.RemoteConfig{})
	if got, err := ro.Get(ctx, key, 100); err != nil || string(got) != "v" {
		t.Fatalf("Get as a read-only user: %q, %v", got, err)
	}
	err = ro.Put(ctx, key, []byte("w"))
	if !errors.Is(err, cache.ErrRemoteDenied) {
		t.Fatalf("Put as a read-only user: %v, want ErrRemoteDenied", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestURLErrors checks the refusals of Open, and that they never show the password.
func TestURLErrors(t *testing.T) {
	const secret = "hunter2secret"
	for _, raw := range []string{
		"redis://user:" + secret + "@127.0.0.1:6379/0?ttl=soon",
		"redis://user:" + secret + "@127.0.0.1:6379/0?ttl=10ms",
		"redis://user:" + secret + "@127.0.0.1:6379/0?maxsize=1TiB",
		"redis://user:" + secret + "@127.0.0.1:6379/0?maxsize=-3",
		"redis://user:" + secret + "@127.0.0.1:6379/0?colour=blue",
		"redis://user:" + secret + "@127.0.0.1:6379/x",
		"rediss://user:" + secret + "@127.0.0.1:6379/0?dial_timeout=never",
	} {
		r, err := cache.OpenRemote(raw, cache.RemoteConfig{})
		if err == nil {
			r.Close()
			t.Errorf("OpenRemote(%q) succeeded", raw)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("OpenRemote(%q): the error shows the password: %v", raw, err)
		}
	}
	r, err := cache.OpenRemote("rediss://u:p@127.0.0.1:1/2?prefix=&ttl=1h&maxsize=64MiB&dial_timeout=2s", cache.RemoteConfig{})
	if err != nil {
		t.Fatalf("a valid URL: %v", err)
	}
	r.Close()
	if _, err := r.Get(context.Background(), "not a key", 10); err == nil {
		t.Error("Get of a malformed key succeeded")
	}
}

// TestContext checks that Get returns when its context is done, even when the server does
// not answer.
func TestContext(t *testing.T) {
	raw, admin := server(t)
	p := prefix(t, admin)
	proxy := remotetest.StartProxy(t, hostOf(t, raw), remotetest.ProxyOptions{})
	r := open(t, withParams(t, raw, proxy.Addr, url.Values{"prefix": {p}}), cache.RemoteConfig{RequestTimeout: 10 * time.Second, IdleTimeout: 10 * time.Second})
	key := remotetest.Key("context")
	if err := r.Put(context.Background(), key, []byte("v")); err != nil {
		t.Fatal(err)
	}
	proxy.StallAfter(0)
	remotetest.CheckContextEnds(t, r, key)
}

// TestIdleTimeout checks that a large value may take longer than the request timeout while
// its bytes flow, and that one whose bytes stop is given up after the idle timeout.
func TestIdleTimeout(t *testing.T) {
	raw, admin := server(t)
	p := prefix(t, admin)
	ctx := context.Background()
	key := remotetest.Key("idle")
	const size = 2 << 20
	data := remotetest.Data("idle", size)
	if err := admin.Set(ctx, p+key, data, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	cfg := cache.RemoteConfig{DialTimeout: time.Second, RequestTimeout: 300 * time.Millisecond, IdleTimeout: 600 * time.Millisecond}

	// 64 KiB every 40ms: some 1.3s for the value, over the request timeout, with pauses
	// under the idle timeout.
	slow := remotetest.StartProxy(t, hostOf(t, raw), remotetest.ProxyOptions{Chunk: 64 << 10, Delay: 40 * time.Millisecond})
	r := open(t, withParams(t, raw, slow.Addr, url.Values{"prefix": {p}}), cfg)
	start := time.Now()
	got, err := r.Get(ctx, key, size)
	if err != nil {
		t.Fatalf("Get through a slow link: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("Get through a slow link returned other bytes")
	}
	if d := time.Since(start); d < cfg.RequestTimeout {
		t.Logf("the slow transfer took only %v", d)
	}

	stalling := remotetest.StartProxy(t, hostOf(t, raw), remotetest.ProxyOptions{})
	r = open(t, withParams(t, raw, stalling.Addr, url.Values{"prefix": {p}}), cfg)
	if err := r.Put(ctx, remotetest.Key("warm up"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	stalling.StallAfter(size / 2)
	start = time.Now()
	_, err = r.Get(ctx, key, size)
	d := time.Since(start)
	if err == nil || errors.Is(err, cache.ErrRemoteMiss) {
		t.Fatalf("Get through a link that stalls: %v, want an error", err)
	}
	if d > 3*time.Second {
		t.Errorf("Get through a link that stalls took %v, with an idle timeout of %v", d, cfg.IdleTimeout)
	}
	t.Logf("stalled Get failed after %v: %v", d, err)
}

// TestServerStopped runs a private redis-server, stops it, and checks that the Remote then
// fails at once rather than hang.
func TestServerStopped(t *testing.T) {
	addr, stop := startRedis(t, nil)
	cfg := cache.RemoteConfig{DialTimeout: 500 * time.Millisecond, RequestTimeout: time.Second, IdleTimeout: time.Second}
	r := open(t, "redis://"+addr+"/0", cfg)
	ctx := context.Background()
	key := remotetest.Key("stopped")
	if err := r.Put(ctx, key, []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, key, 10); err != nil {
		t.Fatal(err)
	}
	stop()
	remotetest.CheckStopped(t, r, key)
}

func TestNew(t *testing.T) {
	raw, admin := server(t)
	p := prefix(t, admin)
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	defer client.Close()
	r := redisremote.New(client, p, time.Hour)
	ctx := context.Background()
	key := remotetest.Key("new")
	if err := r.Put(ctx, key, []byte("v")); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Get(ctx, key, 1); err != nil || string(got) != "v" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// The client is the caller's: still open.
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("the client was closed with the Remote: %v", err)
	}
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestPutStalls checks that a large Put to a server that stops reading fails soon after the
// idle timeout (the value is larger than what the sockets' buffers hold).
func TestPutStalls(t *testing.T) {
	raw, admin := server(t)
	p := prefix(t, admin)
	ctx := context.Background()
	const size = 32 << 20
	data := remotetest.Data("put stalls", size)
	cfg := cache.RemoteConfig{DialTimeout: time.Second, RequestTimeout: 300 * time.Millisecond, IdleTimeout: 600 * time.Millisecond}

	proxy := remotetest.StartProxy(t, hostOf(t, raw), remotetest.ProxyOptions{})
	r := open(t, withParams(t, raw, proxy.Addr, url.Values{"prefix": {p}}), cfg)
	if err := r.Put(ctx, remotetest.Key("warm up"), []byte("x")); err != nil {
		t.Fatal(err)
	}
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

// TestDocumentedACL checks that the ACL the package documentation recommends is enough.
func TestDocumentedACL(t *testing.T) {
	for name, acl := range map[string]string{
		"documented": "+get +strlen +set +eval +evalsha +watch +multi +exec +unwatch +hello +auth +select +ping",
		// Without the transaction commands, a large value is read by the script alone.
		"script only": "+get +strlen +set +eval +evalsha +hello +auth +select +ping",
	} {
		t.Run(name, func(t *testing.T) { testACL(t, acl) })
	}
}

func testACL(t *testing.T, acl string) {
	raw, admin := server(t)
	ctx := context.Background()
	user := "cachegen-test-" + remotetest.Unique()
	password := "pw-" + remotetest.Unique()
	p := "cachegen-test:" + remotetest.Unique() + ":"
	args := []any{"ACL", "SETUSER", user, "on", ">" + password, "~" + p + "*"}
	for _, c := range strings.Fields(acl) {
		args = append(args, c)
	}
	if err := admin.Do(ctx, args...).Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	t.Cleanup(func() {
		admin.Do(context.Background(), "ACL", "DELUSER", user)
		admin.Del(context.Background(), p+remotetest.Key("acl"), p+remotetest.Key("acl large"))
	})
	u, err := url.Parse(withParams(t, raw, "", url.Values{"prefix": {p}}))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, password)
	r := open(t, u.String(), cache.RemoteConfig{})
	key := remotetest.Key("acl")
	if err := r.Put(ctx, key, []byte("v")); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Get(ctx, key, 1); err != nil || string(got) != "v" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if _, err := r.Get(ctx, remotetest.Key("acl miss"), 1); !errors.Is(err, cache.ErrRemoteMiss) {
		t.Fatalf("Get of a missing key: %v, want ErrRemoteMiss", err)
	}
	// A value larger than the script returns itself, twice: after a fallback too.
	large := remotetest.Key("acl large")
	data := remotetest.Data("acl large", 1<<20)
	if err := r.Put(ctx, large, data); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, err := r.Get(ctx, large, int64(len(data))); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get of 1 MiB: %d bytes, %v", len(got), err)
		}
		if _, err := r.Get(ctx, large, int64(len(data))-1); !errors.Is(err, cache.ErrRemoteTooLarge) {
			t.Fatalf("Get of 1 MiB with a limit one less: %v, want ErrRemoteTooLarge", err)
		}
	}
}

// startRedis runs a private redis-server on a free loopback port, returning its address
// and a function that stops it (also called at the end of the test). listen returns the
// arguments that make it listen on the port (nil: plain --port).
func startRedis(t *testing.T, listen func(port string) []string) (addr string, stop func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if remotetest.InCI() {
			t.Fatal("redis-server is not on PATH, and CI=true requires it")
		}
		t.Skip("redis-server is not on PATH: " + remotetest.SkipMessage)
	}
	port := strconv.Itoa(remotetest.FreePort(t))
	args := []string{"--port", port}
	if listen != nil {
		args = listen(port)
	}
	args = append(args, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	addr = net.JoinHostPort("127.0.0.1", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr, stop
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("the private redis-server does not answer: %v\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTLS runs a private redis-server that speaks TLS only, with a certificate of its own,
// and checks that rediss:// URLs reach it, and refuse it unless told to skip verification.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile)
	addr, _ := startRedis(t, func(port string) []string {
		return []string{"--port", "0", "--tls-port", port, "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-auth-clients", "no"}
	})
	cfg := cache.RemoteConfig{DialTimeout: time.Second, RequestTimeout: 2 * time.Second}
	ctx := context.Background()
	key := remotetest.Key("tls")
	data := remotetest.Data("tls", 3<<20)

	r := open(t, "rediss://"+addr+"/0?skip_verify=true", cfg)
	if err := r.Put(ctx, key, data); err != nil {
		t.Fatal(err)
	}
	got, err := r.Get(ctx, key, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("Get over TLS returned other bytes")
	}
	if _, err := r.Get(ctx, key, 100); !errors.Is(err, cache.ErrRemoteTooLarge) {
		t.Fatalf("Get over TLS with a small limit: %v, want ErrRemoteTooLarge", err)
	}

	// The certificate is signed by no known authority.
	r = open(t, "rediss://"+addr+"/0", cfg)
	if _, err := r.Get(ctx, key, int64(len(data))); err == nil || errors.Is(err, cache.ErrRemoteMiss) {
		t.Fatalf("Get from a server of an unknown authority: %v, want an error", err)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "cachegen test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}
