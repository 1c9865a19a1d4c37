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
