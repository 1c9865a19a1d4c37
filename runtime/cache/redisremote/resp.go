package redisremote

import (
	"errors"
	"strconv"
)

// errClaim is the error of a connection whose server announced a reply larger than the
// engine would ever accept.
var errClaim = errors.New("redisremote: the server announced a reply larger than any this client accepts")

// Bounds of what a reply may announce before go-redis, which allocates what a header
// claims before the bytes arrive, reads it. The engine's replies are a value (at most
// maxsize), an integer, a status or an error; the handshake's are small maps and arrays.
const (
	maxAggregate = 1 << 12 // elements of an array, set, push, map (pairs) or attribute
	maxLine      = 1 << 16 // bytes of a simple string, error or number line
)

// A respGuard reads the bytes a Redis server sends, as they arrive, and stops at the first
// header that announces more than the bounds: a bulk string over maxBulk, or an aggregate
// over maxAggregate elements. It follows the framing of RESP2 and RESP3 without building
// anything: the type byte, the header line, and the bulk bytes it skips.
type respGuard struct {
	maxBulk int64
	skip    int64  // bulk bytes (with their CRLF) still to pass over
	line    []byte // the header line being read, after its type byte
	typ     byte   // its type byte; 0 between elements
	bad     bool
}

// check reads p; it reports false once the server announced too much.
func (g *respGuard) check(p []byte) bool {
	for len(p) > 0 && !g.bad {
		if g.skip > 0 {
			n := min(g.skip, int64(len(p)))
			g.skip -= n
			p = p[n:]
			continue
		}
		if g.typ == 0 {
			g.typ, p = p[0], p[1:]
			g.line = g.line[:0]
			continue
		}
		i := 0
		for i < len(p) && p[i] != '\n' {
			i++
		}
		g.line = append(g.line, p[:i]...)
		if len(g.line) > maxLine {
			g.bad = true
			break
		}
		if i == len(p) {
			break // the line goes on in the next read
		}
		p = p[i+1:]
		g.header()
	}
	return !g.bad
}

// header acts on a whole header line: the length of a bulk string, which the next bytes
// hold, or the count of an aggregate, whose elements follow as elements of their own.
func (g *respGuard) header() {
	line := g.line
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	typ := g.typ
	g.typ = 0
	switch typ {
	case '$', '!', '=': // bulk string, bulk error, verbatim string
		n, err := strconv.ParseInt(string(line), 10, 64)
		switch {
		case err == nil && n == -1: // null
		case err != nil || n < 0 || n > g.maxBulk:
			g.bad = true
		default:
			g.skip = n + 2
		}
	case '*', '~', '>', '%', '|': // array, set, push, map, attribute
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil || n < -1 || n > maxAggregate {
			g.bad = true
		}
	}
}
