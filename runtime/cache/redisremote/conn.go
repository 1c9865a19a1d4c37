package redisremote

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// writeChunk is the most bytes written to the socket at a time, so that the write deadline
// moves on between them while a large value is sent.
const writeChunk = 256 << 10

// An idleConn turns go-redis's deadlines, which it sets once per command and reply, into
// idle timeouts: the deadline bounds the wait for a reply's first bytes (or a write's
// start), and each read or write that makes progress moves it to at least idle from then.
// A reply of 100 MB over a slow link then takes as long as it needs while its bytes flow,
// and a server that stops sending is given up on after idle.
//
// It also reads the replies as they arrive (respGuard) and fails the connection at a header
// that announces more than any reply of the engine: go-redis allocates what a header claims,
// so a hostile server could otherwise make one Get allocate gigabytes, or crash the program
// with a length out of range.
type idleConn struct {
	net.Conn
	idle  time.Duration
	guard respGuard

	mu             sync.Mutex
	rdl, wdl       time.Time // the deadlines go-redis set
	rMoved, wMoved time.Time // the deadlines last set here, later than those
}

// sysConn is an idleConn over a connection with a file descriptor, which go-redis's pool
// looks at to find connections that the server closed while they were idle.
type sysConn struct {
	*idleConn
	sc syscall.Conn
}

func (c sysConn) SyscallConn() (syscall.RawConn, error) { return c.sc.SyscallConn() }

func newIdleConn(c net.Conn, idle time.Duration, maxBulk int64) net.Conn {
	ic := &idleConn{Conn: c, idle: idle, guard: respGuard{maxBulk: maxBulk}}
	if sc, ok := c.(syscall.Conn); ok {
		return sysConn{ic, sc}
	}
	return ic
}

func (c *idleConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl, c.wdl = t, t
	c.rMoved, c.wMoved = time.Time{}, time.Time{}
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *idleConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl, c.rMoved = t, time.Time{}
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *idleConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl, c.wMoved = t, time.Time{}
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

func (c *idleConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.guard.check(p[:n]) {
		// Before go-redis sees the end of the header line, so before it allocates.
		c.Conn.Close()
		return 0, errClaim
	}
	if n > 0 && err == nil {
		c.progress(&c.rdl, &c.rMoved, c.Conn.SetReadDeadline)
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		b := p[:min(len(p), writeChunk)]
		n, err := c.Conn.Write(b)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
		if len(p) > 0 {
			c.progress(&c.wdl, &c.wMoved, c.Conn.SetWriteDeadline)
		}
	}
	return written, nil
}

// progress moves a deadline that go-redis set (*set, zero for none) to idle from now when
// that is later, at most once per tenth of idle so that small replies cost no more calls.
func (c *idleConn) progress(set, moved *time.Time, apply func(time.Time) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if set.IsZero() {
		return
	}
	now := time.Now()
	next := now.Add(c.idle)
	if !next.After(*set) {
		return
	}
	if !moved.IsZero() && moved.Sub(now) > c.idle-c.idle/10 {
		return
	}
	if apply(next) == nil {
		*moved = next
	}
}
