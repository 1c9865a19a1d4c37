// Package remotetest holds what the tests of the remote engines share: finding the test
// servers that scripts/remote-servers starts, unique names, and a TCP proxy that throttles,
// stalls or drops a connection to them.
package remotetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// SkipMessage is why a test that needs a server skips when its variable is unset.
const SkipMessage = "set by scripts/remote-servers; run make test-remote"

// Env returns the value of the environment variable name, which scripts/remote-servers sets
// to the address of a test server. When it is unset the test is skipped, unless CI=true:
// there the servers must be running, and the test fails.
func Env(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set, and CI=true requires the remote test servers (%s)", name, SkipMessage)
	}
	t.Skipf("%s is not set: %s", name, SkipMessage)
	return ""
}

// InCI reports whether the tests run in CI, where a missing test dependency is a failure.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unique returns 16 random hexadecimal digits, to name what one test run stores so that
// parallel runs against the same server do not collide.
func Unique() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// Key returns a key of the form a Cache uses (64 lowercase hexadecimal digits), derived from
// s.
func Key(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Data returns n pseudo-random bytes derived from seed.
func Data(seed string, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	block := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return out[:n]
}

// FreePort returns a TCP port of the loopback interface that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ProxyOptions shape what a Proxy forwards.
type ProxyOptions struct {
	// Chunk is the most bytes forwarded at a time (default 32 KiB).
	Chunk int
	// Delay is the pause after each chunk from the server: with Chunk, it sets the rate of
	// downloads.
	Delay time.Duration
}

// A Proxy forwards TCP connections from a loopback port to a server, counting the bytes
// that flow back, and can stop forwarding them while keeping the connections open.
type Proxy struct {
	// Addr is the proxy's host:port.
	Addr string

	target string
	opts   ProxyOptions
	ln     net.Listener
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn

	down      atomic.Int64 // bytes forwarded from the server to clients
	stallAt   atomic.Int64 // down count at which forwarding stops; < 0: never
	up        atomic.Int64 // bytes forwarded from clients to the server
	upStallAt atomic.Int64 // up count at which forwarding stops; < 0: never
	connCount atomic.Int64
}

// StartProxy starts a proxy to target (host:port), closed at the end of the test.
func StartProxy(t testing.TB, target string, opts ProxyOptions) *Proxy {
	t.Helper()
	if opts.Chunk <= 0 {
		opts.Chunk = 32 << 10
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, opts: opts, ln: ln, closed: make(chan struct{})}
	p.stallAt.Store(-1)
	p.upStallAt.Store(-1)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Down returns the number of bytes forwarded from the server to the clients so far.
func (p *Proxy) Down() int64 { return p.down.Load() }

// Conns returns the number of connections accepted so far.
func (p *Proxy) Conns() int64 { return p.connCount.Load() }

// StallAfter makes the proxy stop forwarding the server's bytes once n more of them have
// been forwarded, holding every connection open without a byte until Close.
func (p *Proxy) StallAfter(n int64) { p.stallAt.Store(p.down.Load() + n) }

// Up returns the number of bytes forwarded from the clients to the server so far.
func (p *Proxy) Up() int64 { return p.up.Load() }

// StallUpAfter makes the proxy stop forwarding the clients' bytes once n more of them have
// been forwarded, as a server that stops reading does.
func (p *Proxy) StallUpAfter(n int64) { p.upStallAt.Store(p.up.Load() + n) }

// Close stops the proxy and closes every connection through it, as a server that stops
// does.
func (p *Proxy) Close() {
	p.once.Do(func() {
		close(p.closed)
		p.ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	p.wg.Wait()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
		c.Close()
		return false
	default:
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.connCount.Add(1)
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c) || !p.track(s) {
			c.Close()
			s.Close()
			return
		}
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			p.forward(s, c, &p.up, &p.upStallAt, 0)
		}()
		go func() {
			defer p.wg.Done()
			p.forward(c, s, &p.down, &p.stallAt, p.opts.Delay)
		}()
	}
}

// forward copies src's bytes to dst, chunk by chunk, until either side closes, counting
// them in count and stalling when count reaches stallAt.
func (p *Proxy) forward(dst, src net.Conn, count, stallAt *atomic.Int64, delay time.Duration) {
	buf := make([]byte, p.opts.Chunk)
	for {
		n, err := src.Read(buf)
		for b := buf[:n]; len(b) > 0; {
			m := len(b)
			if at := stallAt.Load(); at >= 0 {
				left := at - count.Load()
				if left <= 0 {
					<-p.closed
					return
				}
				m = int(min(int64(m), left))
			}
			if _, werr := dst.Write(b[:m]); werr != nil {
				dst.Close()
				return
			}
			count.Add(int64(m))
			b = b[m:]
		}
		if err != nil {
			// A half close passes on as one; anything else closes the other side too.
			if tc, ok := dst.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				_ = tc.CloseWrite()
			} else {
				dst.Close()
			}
			return
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-p.closed:
				return
			}
		}
	}
}
