package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync/atomic"
	"time"
)

// ErrRemoteStalled is wrapped by the error of a transfer abandoned because its bytes stopped
// flowing for the idle timeout. It also wraps os.ErrDeadlineExceeded.
var ErrRemoteStalled = fmt.Errorf("cache: remote transfer stalled: %w", os.ErrDeadlineExceeded)

// remoteFirstBuffer is the largest buffer a remote body starts with, whatever size it claims.
const remoteFirstBuffer = 64 << 10

// ReadRemoteBody reads r to its end for the engine of a Remote and returns what it read. It
// reads at most limit+1 bytes: a body longer than limit is an error wrapping
// ErrRemoteTooLarge, and its buffer grows with the bytes that arrive, never to more than
// limit+1, so that a body that only claims to be large costs nothing. idle (if positive)
// bounds the pauses: when no byte arrives for that long, the read is abandoned with an
// error wrapping ErrRemoteStalled; a slow body whose bytes keep coming is read to its end,
// however long it takes. When ctx is done, the read is abandoned with an error wrapping
// ctx.Err().
//
// To interrupt a Read that blocks, ReadRemoteBody closes r when r is an io.Closer (an HTTP
// response body, a net.Conn); the caller still closes r as usual. A reader that is not a
// Closer is checked between its Reads only.
func ReadRemoteBody(ctx context.Context, r io.Reader, limit int64, idle time.Duration) ([]byte, error) {
	return readRemoteBody(ctx, r, limit, idle, -1)
}

// readRemoteBody is ReadRemoteBody with the size the body announced, or -1. A size over limit
// is refused without reading; any other is only a hint: the buffer starts at most at
// remoteFirstBuffer bytes and grows with the bytes that arrive, so that a server that claims
// a large body and sends little costs little.
func readRemoteBody(ctx context.Context, r io.Reader, limit int64, idle time.Duration, size int64) ([]byte, error) {
	if limit < 0 {
		limit = 0
	}
	if size > limit {
		return nil, fmt.Errorf("cache: remote body of %d bytes, over the limit of %d: %w", size, limit, ErrRemoteTooLarge)
	}
	max := limit
	if max < math.MaxInt64 {
		max++
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stalled atomic.Bool
	var timer *time.Timer
	if idle > 0 {
		timer = time.AfterFunc(idle, func() {
			stalled.Store(true)
			cancel()
		})
		defer timer.Stop()
	}
	if cl, ok := r.(io.Closer); ok {
		stop := context.AfterFunc(ctx, func() { cl.Close() })
		defer stop()
	}
	fail := func(err error) ([]byte, error) {
		if stalled.Load() {
			return nil, fmt.Errorf("cache: no byte of the remote body for %v: %w", idle, ErrRemoteStalled)
		}
		if cerr := context.Cause(ctx); cerr != nil && !errors.Is(err, ErrRemoteTooLarge) {
			// The read failed because ctx ended and the body was closed: say why.
			return nil, fmt.Errorf("cache: reading remote body: %w", cerr)
		}
		return nil, fmt.Errorf("cache: reading remote body: %w", err)
	}
	first := int64(remoteFirstBuffer)
	if size >= 0 && size < first {
		first = size + 1 // room for the EOF without growing
	}
	buf := make([]byte, 0, min(first, max))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= max {
				return fail(fmt.Errorf("cache: remote body over the limit of %d bytes: %w", limit, ErrRemoteTooLarge))
			}
			grown := make([]byte, len(buf), min(max, int64(2*cap(buf))+4096))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n > 0 && timer != nil {
			timer.Reset(idle)
		}
		if int64(len(buf)) > limit {
			return fail(fmt.Errorf("cache: remote body over the limit of %d bytes: %w", limit, ErrRemoteTooLarge))
		}
		if err == io.EOF {
			return buf, nil // a clean end: the body is whole, even if the timer fired meanwhile
		}
		if err != nil {
			return fail(err)
		}
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
	}
}

// progressReader is a request body that resets an idle timer while its bytes are taken, and
// stops it once they all are: an upload whose receiver stops reading is abandoned after the
// idle timeout, one that keeps reading is not.
type progressReader struct {
	b     []byte
	timer *time.Timer
	idle  time.Duration
}

func (p *progressReader) Read(b []byte) (int, error) {
	if len(p.b) == 0 {
		p.timer.Stop()
		return 0, io.EOF
	}
	n := copy(b, p.b)
	p.b = p.b[n:]
	p.timer.Reset(p.idle)
	return n, nil
}
