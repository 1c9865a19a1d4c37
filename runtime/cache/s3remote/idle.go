package s3remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// errIdle is the cause of a transfer abandoned because its bytes stopped flowing.
var errIdle = errors.New("transfer stalled")

// firstBuffer is the largest buffer a body starts with, whatever size it claims.
const firstBuffer = 64 << 10

// readIdle reads exactly size bytes from body, calling cancel (which must abort the request
// that body belongs to) when no byte arrives for idle: a transfer that goes on takes as long
// as it needs, one that stalls ends within idle of its last byte.
func readIdle(body io.Reader, size int64, idle time.Duration, cancel context.CancelCauseFunc) ([]byte, error) {
	var stalled atomic.Bool
	stallErr := fmt.Errorf("%w: no byte for %v", errIdle, idle)
	t := time.AfterFunc(idle, func() {
		stalled.Store(true)
		cancel(stallErr)
	})
	defer t.Stop()
	// The size is the server's claim: the buffer grows with the bytes that arrive, so that
	// a claim the body does not keep costs little.
	buf := make([]byte, 0, min(size, firstBuffer))
	for int64(len(buf)) < size {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(size, 2*int64(cap(buf))+4096))
			copy(grown, buf)
			buf = grown
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			buf = buf[:len(buf)+n]
			t.Reset(idle)
		}
		if err != nil {
			if stalled.Load() {
				return nil, fmt.Errorf("%w after %d of %d bytes", stallErr, len(buf), size)
			}
			if errors.Is(err, io.EOF) {
				if int64(len(buf)) == size {
					break
				}
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("after %d of %d bytes: %w", len(buf), size, err)
		}
	}
	return buf, nil
}

// An idleReader is the body of an upload: it calls cancel (which must abort the request)
// when the transport has not asked for more bytes for idle, that is when the previous ones
// have not left, and stops watching once all are read, when the response's own timeout takes
// over.
type idleReader struct {
	r     io.ReadSeeker
	idle  time.Duration
	t     *time.Timer
	ended atomic.Bool
}

func newIdleReader(r io.ReadSeeker, idle time.Duration, cancel context.CancelCauseFunc) *idleReader {
	ir := &idleReader{r: r, idle: idle}
	stallErr := fmt.Errorf("%w: the upload took no byte for %v", errIdle, idle)
	ir.t = time.AfterFunc(idle, func() {
		if !ir.ended.Load() {
			cancel(stallErr)
		}
	})
	return ir
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if err != nil {
		ir.stop()
	} else if !ir.ended.Load() {
		ir.t.Reset(ir.idle)
	}
	return n, err
}

// Seek lets the client go back to the start to retry, or to hash the body first.
func (ir *idleReader) Seek(offset int64, whence int) (int64, error) {
	return ir.r.Seek(offset, whence)
}

func (ir *idleReader) stop() {
	ir.ended.Store(true)
	ir.t.Stop()
}
