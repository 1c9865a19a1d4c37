package cache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// davServer is what nginx's WebDAV module does for the cache: GET and PUT of files under
// /cache/ac/, with optional basic authentication or a bearer token. fault, when set, answers
// a request instead.
type davServer struct {
	mu          sync.Mutex
	m           map[string][]byte
	user, pass  string
	token       string
	fault       atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
	gets, puts  atomic.Int64
	putStatus   int
	maxPutBytes int
}

func newDAV() *davServer { return &davServer{m: map[string][]byte{}, putStatus: http.StatusCreated} }

func (s *davServer) setFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	if f == nil {
		s.fault.Store(nil)
		return
	}
	s.fault.Store(&f)
}

func (s *davServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f := s.fault.Load(); f != nil && (*f)(w, r) {
		return
	}
	if s.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != s.user || p != s.pass {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	key, ok := strings.CutPrefix(r.URL.Path, "/cache/ac/")
	if !ok || !validRemoteKey(key) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.gets.Add(1)
		s.mu.Lock()
		b, ok := s.m[key]
		s.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	case http.MethodPut:
		s.puts.Add(1)
		if r.ContentLength < 0 {
			w.WriteHeader(http.StatusLengthRequired)
			return
		}
		if s.maxPutBytes > 0 && r.ContentLength > int64(s.maxPutBytes) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.m[key] = b
		s.mu.Unlock()
		w.WriteHeader(s.putStatus)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// testRemoteConfig has timeouts short enough for the fault tests.
var testRemoteConfig = RemoteConfig{DialTimeout: time.Second, RequestTimeout: 300 * time.Millisecond, IdleTimeout: 200 * time.Millisecond, Logger: quiet}

func openTestHTTP(t *testing.T, rawURL string, cfg RemoteConfig) Remote {
	t.Helper()
	r, err := OpenRemote(rawURL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func randomKey() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// TestHTTPRemote: a round trip through the Bazel protocol, with each kind of credentials.
func TestHTTPRemote(t *testing.T) {
	tests := []struct {
		name     string
		userinfo string
		token    string
		server   func(*davServer)
	}{
		{"anonymous", "", "", func(*davServer) {}},
		{"basic", "ci:s3cret@", "", func(s *davServer) { s.user, s.pass = "ci", "s3cret" }},
		{"bearer", "", "tok", func(s *davServer) { s.token = "tok" }},
		{"204 on PUT", "", "", func(s *davServer) { s.putStatus = http.StatusNoContent }},
		{"200 on PUT", "", "", func(s *davServer) { s.putStatus = http.StatusOK }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dav := newDAV()
			tt.server(dav)
			srv := httptest.NewServer(dav)
			defer srv.Close()
			cfg := testRemoteConfig
			cfg.Token = tt.token
			r := openTestHTTP(t, strings.Replace(srv.URL, "http://", "http://"+tt.userinfo, 1)+"/cache/", cfg)
			ctx := context.Background()
			key := randomKey()
			if _, err := r.Get(ctx, key, 1<<20); !errors.Is(err, ErrRemoteMiss) {
				t.Fatalf("Get of a missing key = %v, want ErrRemoteMiss", err)
			}
			data := bytes.Repeat([]byte("entry "), 1000)
			if err := r.Put(ctx, key, data); err != nil {
				t.Fatal(err)
			}
			got, err := r.Get(ctx, key, 1<<20)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Get = %d bytes, %v", len(got), err)
			}
			if _, err := r.Get(ctx, key, int64(len(data))-1); !errors.Is(err, ErrRemoteTooLarge) {
				t.Fatalf("Get under a smaller limit = %v, want ErrRemoteTooLarge", err)
			}
		})
	}
}

// TestHTTPRemoteStatuses: what each status means to the Cache.
func TestHTTPRemoteStatuses(t *testing.T) {
	tests := []struct {
		status int
		want   error // nil: a plain failure, neither of the errors below
	}{
		{http.StatusUnauthorized, ErrRemoteDenied},
		{http.StatusForbidden, ErrRemoteDenied},
		{http.StatusRequestEntityTooLarge, ErrRemoteTooLarge},
		{http.StatusInternalServerError, nil},
		{http.StatusBadGateway, nil},
		{http.StatusMovedPermanently, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if tt.status == http.StatusMovedPermanently {
					w.Header().Set("Location", "http://elsewhere.invalid/")
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			r := openTestHTTP(t, srv.URL+"/cache", testRemoteConfig)
			_, gerr := r.Get(context.Background(), randomKey(), 1<<20)
			perr := r.Put(context.Background(), randomKey(), []byte("x"))
			for i, err := range []error{gerr, perr} {
				if err == nil {
					t.Fatal("no error")
				}
				want := tt.want
				if i == 0 && want == ErrRemoteTooLarge {
					want = nil // a 413 to a GET says nothing of the entry
				}
				for _, e := range []error{ErrRemoteMiss, ErrRemoteDenied, ErrRemoteTooLarge} {
					if errors.Is(err, e) != (e == want) {
						t.Fatalf("error %v: errors.Is %v = %v", err, e, !(e == want))
					}
				}
				if !strings.Contains(err.Error(), fmt.Sprint(tt.status)) {
					t.Fatalf("error %v does not give the status", err)
				}
			}
		})
	}
}

// TestHTTPRemoteFaults: servers that misbehave cost a bounded time and memory, and are
// errors, not values.
func TestHTTPRemoteFaults(t *testing.T) {
	const limit = 1 << 20
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		want    error // nil: any error; errOK: success
		maxTime time.Duration
	}{
		{"truncated body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.Write(make([]byte, 500))
		}, io.ErrUnexpectedEOF, time.Second},
		{"headers never come", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, nil, 2 * time.Second},
		{"body stalls", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.Write(make([]byte, 10))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, ErrRemoteStalled, 2 * time.Second},
		{"slow drip keeps the idle timer alive", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "20")
			for range 20 { // a second in all: more than the request and idle timeouts
				w.Write([]byte{'x'})
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
		}, errOK, 5 * time.Second},
		{"1 GiB claimed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(1<<30))
			w.Write(make([]byte, 100))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, ErrRemoteTooLarge, time.Second},
		{"chunked body that never ends", func(w http.ResponseWriter, r *http.Request) {
			chunk := make([]byte, 32<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, ErrRemoteTooLarge, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(tt.handler))
			defer srv.Close()
			r := openTestHTTP(t, srv.URL, testRemoteConfig)
			start := time.Now()
			b, err := r.Get(context.Background(), randomKey(), limit)
			if d := time.Since(start); d > tt.maxTime {
				t.Errorf("Get took %v, want at most %v", d, tt.maxTime)
			}
			switch {
			case tt.want == errOK:
				if err != nil || len(b) != 20 {
					t.Fatalf("Get = %d bytes, %v; want 20", len(b), err)
				}
			case err == nil:
				t.Fatalf("Get = %d bytes, want an error", len(b))
			case errors.Is(err, ErrRemoteMiss) || (tt.want != nil && !errors.Is(err, tt.want)):
				t.Fatalf("Get error %v, want %v", err, tt.want)
			}
		})
	}
}

var errOK = errors.New("success")

// TestHTTPRemotePutStalls: a server that stops reading an upload makes it fail after the
// idle timeout.
func TestHTTPRemotePutStalls(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never reads the body
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop)
	r := openTestHTTP(t, srv.URL, testRemoteConfig)
	start := time.Now()
	err := r.Put(context.Background(), randomKey(), make([]byte, 64<<20))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Put = %v after %v, want a failure within the idle and request timeouts", err, time.Since(start))
	}
}

// TestReadRemoteBody: the limit and the idle timeout of the shared body reader.
func TestReadRemoteBody(t *testing.T) {
	tests := []struct {
		name  string
		r     io.Reader
		limit int64
		want  error
	}{
		{"under the limit", strings.NewReader("hello"), 10, nil},
		{"at the limit", strings.NewReader("hello"), 5, nil},
		{"over the limit", strings.NewReader("hello!"), 5, ErrRemoteTooLarge},
		{"empty", strings.NewReader(""), 0, nil},
		{"endless", endless{}, 1 << 20, ErrRemoteTooLarge},
		{"stalled", stallReader(), 10, ErrRemoteStalled},
		{"failing", io.MultiReader(strings.NewReader("ab"), errReader{}), 10, errBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadRemoteBody(context.Background(), tt.r, tt.limit, 100*time.Millisecond)
			if tt.want == nil {
				if err != nil || int64(len(b)) > tt.limit {
					t.Fatalf("= %q, %v", b, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || b != nil {
				t.Fatalf("= %d bytes, %v; want %v", len(b), err, tt.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadRemoteBody(ctx, stallReader(), 10, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("with a done context: %v", err)
	}
}

type endless struct{}

func (endless) Read(b []byte) (int, error) { return len(b), nil }

var errBroken = errors.New("broken")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

// stallReader returns a reader that blocks until it is closed, as a stalled body does.
func stallReader() io.ReadCloser {
	pr, _ := io.Pipe()
	return pr
}

// stallProxy is a proxy in front of a server that passes requests through, delays them, or
// stalls their bodies.
type stallProxy struct {
	next *httputil.ReverseProxy
	mode atomic.Int32 // 0 pass, 1 delay the response, 2 stall the body
}

func (p *stallProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p.mode.Load() {
	case 1:
		select {
		case <-r.Context().Done():
			return
		case <-time.After(3 * time.Second):
		}
	case 2:
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Length", "5000")
			w.Write([]byte("cachegen"))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
	}
	p.next.ServeHTTP(w, r)
}

// TestRemoteHTTPFaults: the Cache through the HTTP engine, when the server misbehaves: every
// fault is a miss, counted, and Load returns the computed value within the timeouts.
func TestRemoteHTTPFaults(t *testing.T) {
	dav := newDAV()
	srv := httptest.NewServer(dav)
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // the faults make it complain
	proxy := &stallProxy{next: rp}
	psrv := httptest.NewServer(proxy)
	defer psrv.Close()

	open := func(t *testing.T, base string, readOnly bool) *Cache {
		r := openTestHTTP(t, base+"/cache", testRemoteConfig)
		return remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) { o.RemoteReadOnly = readOnly })
	}
	w := open(t, psrv.URL, false)
	for i := range 8 {
		mustLoad(t, w, testKey{"http", i}, computeSmall)
	}
	flush(t, w)
	if st := w.Stats(); st.Uploads != 8 {
		t.Fatalf("writer: %+v", st)
	}

	tests := []struct {
		name  string
		setup func()
		check func(Stats) bool
	}{
		{"through the proxy", func() { proxy.mode.Store(0) }, func(s Stats) bool { return s.RemoteHits == 1 }},
		{"a delaying proxy", func() { proxy.mode.Store(1) }, func(s Stats) bool { return s.RemoteErrors == 1 }},
		{"a stalling proxy", func() { proxy.mode.Store(2) }, func(s Stats) bool { return s.RemoteErrors == 1 }},
		{"500", func() {
			proxy.mode.Store(0)
			dav.setFault(func(w http.ResponseWriter, r *http.Request) bool { w.WriteHeader(500); return true })
		}, func(s Stats) bool { return s.RemoteErrors == 1 }},
		{"401", func() {
			dav.setFault(func(w http.ResponseWriter, r *http.Request) bool { w.WriteHeader(401); return true })
		}, func(s Stats) bool { return s.RemoteErrors == 1 }},
		{"a truncated body", func() {
			dav.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Length", "1000")
				w.Write(make([]byte, 10))
				return true
			})
		}, func(s Stats) bool { return s.RemoteErrors == 1 }},
		{"a short body, its length right", func() {
			dav.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				w.Write([]byte("cachegen"))
				return true
			})
		}, func(s Stats) bool { return s.RemoteRejected == 1 }},
		{"1 GiB claimed", func() {
			dav.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Length", fmt.Sprint(1<<30))
				w.Write(make([]byte, 1000))
				w.(http.Flusher).Flush()
				select { // the rest never comes
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return true
			})
		}, func(s Stats) bool { return s.RemoteRejected == 1 }},
		{"the server stopped", func() {
			dav.setFault(nil)
			psrv.Close()
		}, func(s Stats) bool { return s.RemoteErrors == 1 }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			base := psrv.URL
			if strings.Contains(tt.name, "1 GiB") {
				// Straight to the server: the proxy holds the headers back until it
				// has 4 KiB of the body.
				base = srv.URL
			}
			c := open(t, base, true) // read-only: the Stats count the lookup alone
			start := time.Now()
			k := testKey{"http", i}
			if v := mustLoad(t, c, k, computeSmall); !v.equal(valueFor(k, 64)) {
				t.Fatal("wrong value")
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Load took %v", d)
			}
			if st := c.Stats(); !tt.check(st) {
				t.Fatalf("%+v", st)
			}
		})
	}
}

// TestRemoteHTTPFromEnv: CACHEGEN_REMOTE and its companions configure the HTTP engine, and
// neither the URL's password nor the token is ever logged.
func TestRemoteHTTPFromEnv(t *testing.T) {
	dav := newDAV()
	dav.user, dav.pass = "ci", "hunter2hunter2"
	srv := httptest.NewServer(dav)
	defer srv.Close()
	t.Setenv(RemoteEnv, strings.Replace(srv.URL, "http://", "http://ci:hunter2hunter2@", 1)+"/cache")
	t.Setenv(RemoteSecretEnv, "k1:0123456789abcdef-team-secret")
	t.Setenv(RemoteReadOnlyEnv, "")
	open := func() *Cache {
		c, err := Open(Options{Dir: t.TempDir(), Namespace: "test", Version: "v1", Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	w := open()
	mustLoad(t, w, testKey{"env", 1}, computeSmall)
	flush(t, w)
	r := open()
	mustLoad(t, r, testKey{"env", 1}, failCompute)
	if w.Stats().Uploads != 1 || r.Stats().RemoteHits != 1 {
		t.Fatalf("writer %+v, reader %+v", w.Stats(), r.Stats())
	}

	t.Setenv(RemoteReadOnlyEnv, "1")
	ro := open()
	mustLoad(t, ro, testKey{"env", 2}, computeSmall)
	flush(t, ro)
	if n := dav.puts.Load(); n != 1 {
		t.Fatalf("%d PUTs, want none from the read-only Cache", n)
	}

	// The wrong password, and then a token: what is logged shows neither.
	for _, env := range [][2]string{
		{RemoteEnv, strings.Replace(srv.URL, "http://", "http://ci:wrong-pass-word@", 1) + "/cache"},
		{RemoteTokenEnv, "secret-token-value"},
	} {
		t.Setenv(env[0], env[1])
		if env[0] == RemoteTokenEnv {
			t.Setenv(RemoteEnv, srv.URL+"/cache")
		}
		var logs bytes.Buffer
		c, err := Open(Options{Dir: t.TempDir(), Namespace: "test", Version: "v1", Logger: logged(&logs)})
		if err != nil {
			t.Fatal(err)
		}
		mustLoad(t, c, testKey{"env", 3}, computeSmall)
		c.Close()
		out := logs.String()
		if !strings.Contains(out, "401") || strings.Contains(out, "wrong-pass-word") || strings.Contains(out, "secret-token-value") || strings.Contains(out, "hunter2") {
			t.Fatalf("logged:\n%s", out)
		}
	}
}

// TestRemoteHTTPServer runs against a real server (an nginx WebDAV location) at the base URL
// in CACHEGEN_TEST_HTTP.
func TestRemoteHTTPServer(t *testing.T) {
	base := os.Getenv("CACHEGEN_TEST_HTTP")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CACHEGEN_TEST_HTTP is not set: set by scripts/remote-servers; run make test-remote")
		}
		t.Skip("set by scripts/remote-servers; run make test-remote")
	}
	r := openTestHTTP(t, base, RemoteConfig{Logger: quiet})
	ctx := context.Background()
	key := randomKey()
	if _, err := r.Get(ctx, key, 1<<20); !errors.Is(err, ErrRemoteMiss) {
		t.Fatalf("Get of a new key = %v, want ErrRemoteMiss", err)
	}
	data := make([]byte, 3<<20)
	rand.Read(data)
	if err := r.Put(ctx, key, data); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Get(ctx, key, 4<<20); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
	if _, err := r.Get(ctx, key, 1<<20); !errors.Is(err, ErrRemoteTooLarge) {
		t.Fatalf("Get under a smaller limit = %v, want ErrRemoteTooLarge", err)
	}

	// Two Caches of their own directories share the server; a namespace of this run's own
	// keeps the entries of earlier runs out.
	ns := "t" + randomKey()[:16]
	open := func(t *testing.T) *Cache {
		rr := openTestHTTP(t, base, RemoteConfig{Logger: quiet})
		return remoteCache(t, rr, []RemoteKey{teamKey}, func(o *Options) { o.Namespace = ns })
	}
	w := open(t)
	mustLoad(t, w, testKey{"real", 1}, computeLarge)
	flush(t, w)
	c := open(t)
	mustLoad(t, c, testKey{"real", 1}, failCompute)
	mustLoad(t, c, testKey{"real", 1}, failCompute)
	if st := c.Stats(); st.RemoteHits != 1 || st.MemoryHits != 1 || w.Stats().Uploads != 1 {
		t.Fatalf("writer %+v; reader %+v", w.Stats(), st)
	}
}

// TestHTTPRemoteClaimedLength: a server that announces a body as large as the limit, sends
// one byte and stalls costs the client a small buffer, not the announced size.
func TestHTTPRemoteClaimedLength(t *testing.T) {
	const limit = 256 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(limit))
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("x"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	r := openTestHTTP(t, srv.URL, testRemoteConfig)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := r.Get(context.Background(), randomKey(), limit)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrRemoteStalled) {
		t.Fatalf("Get = %v, want a stalled transfer", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("a claimed length of %d bytes made the Get allocate %d bytes", limit, alloc)
	}
}
