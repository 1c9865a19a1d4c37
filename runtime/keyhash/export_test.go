package keyhash

import (
	"bytes"
	"crypto/sha256"
	"hash"
)

// recorder is a SHA-256 that also keeps every byte it is fed, so tests can compare the
// encodings themselves and not only their digests.
type recorder struct {
	hash.Hash
	buf *bytes.Buffer
}

func (r recorder) Write(p []byte) (int, error) {
	r.buf.Write(p)
	return r.Hash.Write(p)
}

func (r recorder) Reset() {
	r.buf.Reset()
	r.Hash.Reset()
}

// NewRecording returns a Hasher and the buffer that receives its encoded stream.
func NewRecording() (*Hasher, *bytes.Buffer) {
	h := New()
	buf := new(bytes.Buffer)
	h.sha = recorder{Hash: sha256.New(), buf: buf}
	return h, buf
}

// NewDiscarding returns a Hasher whose SHA-256 is replaced by a hash that ignores its input,
// to measure the Hasher's own overhead.
func NewDiscarding() *Hasher {
	h := New()
	h.sha = discardHash{}
	return h
}

type discardHash struct{}

func (discardHash) Write(p []byte) (int, error) { return len(p), nil }
func (discardHash) Sum(b []byte) []byte         { return append(b, make([]byte, sha256.Size)...) }
func (discardHash) Reset()                      {}
func (discardHash) Size() int                   { return sha256.Size }
func (discardHash) BlockSize() int              { return sha256.BlockSize }

// Room returns how many bytes h can take before its next flush (or, inside a map or set,
// before its buffer grows): tests use it to write exactly up to the end of the buffer.
func Room(h *Hasher) int { return h.lim - h.n }

// Small reports whether a pool would keep h.
func (h *Hasher) Small() bool { return h.small() }
