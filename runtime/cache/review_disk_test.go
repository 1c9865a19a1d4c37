package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"testing"
	"time"
)

// TestUploadQueueHoldsWhatItCounts: the upload queue counts entries' lengths against
// RemoteQueueBytes, so it must not keep an encoder's larger buffer alive behind each: a
// compressible 16 MiB value is an s2 buffer of about 19 MiB holding a few KiB.
func TestUploadQueueHoldsWhatItCounts(t *testing.T) {
	const bound = 4 << 20
	release := make(chan struct{})
	defer close(release)
	r := newFakeRemote()
	r.putErr = func(context.Context, string, []byte) error { <-release; return nil }
	c := remoteCache(t, r, []RemoteKey{teamKey}, func(o *Options) {
		o.RemoteQueueBytes = bound
		o.MemoryBytes = -1
	})
	zeros := func(_ context.Context, k testKey) (testValue, error) {
		return testValue{Name: k.Name, N: int64(k.Opt), Data: make([]byte, 16<<20)}, nil
	}
	for i := range 8 {
		mustLoad(t, c, testKey{"zeros", i}, zeros)
	}
	time.Sleep(50 * time.Millisecond) // the uploaders take their first entries
	c.remote.qMu.Lock()
	defer c.remote.qMu.Unlock()
	if len(c.remote.queue) == 0 {
		t.Fatal("nothing queued")
	}
	for _, u := range c.remote.queue {
		if cap(u.entry) > len(u.entry)+len(u.entry)/8 {
			t.Fatalf("a queued upload of %d bytes keeps a buffer of %d", len(u.entry), cap(u.entry))
		}
	}
}

// TestEntryNameHasTheFormat: an entry's name depends on the entry format, so that programs
// built on an earlier format, under the same Options.Version, keep their own entries rather
// than taking each other's for damaged ones and overwriting them.
func TestEntryNameHasTheFormat(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), Version: "shared", MemoryBytes: -1})
	mk := memKeyOf[testValue](c, testKey{"fmt", 1})
	// The name as format 1 made it: the version and the value type, without the format.
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{"cachegen entry", c.version, mk.vt.name} {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	h.Write(mk.d[:])
	var old entryKey
	h.Sum(old[:0])
	if c.entryKey(&mk) == old {
		t.Fatal("the entry's name is the one an earlier format used")
	}
}

// TestMaxEntryBytesIsCapped: a MaxEntryBytes too large for the sizes derived from it is
// cut, and entries are stored and hit.
func TestMaxEntryBytesIsCapped(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1, MaxEntryBytes: 1<<63 - 1})
	load(t, c, testKey{"big bound", 1}, computeSmall)
	load(t, c, testKey{"big bound", 1}, computeSmall)
	if st := c.Stats(); st.DiskHits != 1 || st.Corrupt != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestS2EncodesBound: the sizes s2 cannot encode in one block go raw.
func TestS2EncodesBound(t *testing.T) {
	if !s2Encodes(16 << 20) {
		t.Fatal("s2Encodes(16 MiB)")
	}
	if big := uint64(1<<32 - 1); strconv.IntSize == 64 && s2Encodes(int(big)) {
		t.Fatal("s2Encodes(4 GiB - 1)") // only a 64-bit int holds it
	}
}
