package cache

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/cachegen/cachegen/testdata/golden/keys"
)

// randomLeaves returns n random leaves: paths that share prefixes, empty and non-ASCII
// strings.
func randomLeaves(r *rand.Rand, n int) []keyhash.Leaf {
	parts := []string{"Options", "Target", "Flags[\"-g\"]", "List[3]", "é", "", "a.b"}
	var leaves []keyhash.Leaf
	for range n {
		var path []string
		for range 1 + r.IntN(4) {
			path = append(path, parts[r.IntN(len(parts))])
		}
		leaves = append(leaves, keyhash.Leaf{
			Path:  strings.Join(path, "."),
			Type:  parts[r.IntN(len(parts))],
			Value: strings.Repeat(parts[r.IntN(len(parts))], r.IntN(3)),
		})
	}
	return leaves
}

// TestRecordRoundTrip: a record reads back as written, whatever its leaves, and its hashes
// overlap with its own key entirely.
func TestRecordRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		leaves := randomLeaves(r, r.IntN(40))
		kr := keyRecordOf(leaves)
		if got := kr.leavesOf(); !slices.Equal(got, leaves) && len(leaves) > 0 {
			t.Fatalf("key record's leaves\n%q\nwant\n%q", got, leaves)
		}
		var d keyhash.Digest
		d[0], d[31] = byte(i), 7
		when := time.Unix(1700000000, int64(i))
		recs := parseRecords(appendRecordFrame(nil, d, when, "v1-"+string(rune('a'+i%26)), "V", kr))
		if len(recs) != 1 {
			t.Fatalf("%d records", len(recs))
		}
		got := recs[0]
		if got.digest != d || !got.time.Equal(when) || got.version != "v1-"+string(rune('a'+i%26)) || got.value != "V" || got.n != len(leaves) {
			t.Fatalf("record %+v", got)
		}
		if got := got.leavesOf(); !slices.Equal(got, leaves) && len(leaves) > 0 {
			t.Fatalf("leaves\n%q\nwant\n%q", got, leaves)
		}
		if n := got.overlap(kr.hashes); n != len(leaves) {
			t.Fatalf("overlap with itself %d of %d", n, len(leaves))
		}
	}
}

// TestRecordsSkipDamage: a record file holding damaged frames, garbage between frames (an
// earlier version's text records) and a frame cut short by a crash still yields every
// whole record, in order.
func TestRecordsSkipDamage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var frames [][]byte
	for i := range 5 {
		var d keyhash.Digest
		d[0] = byte(i)
		frames = append(frames, appendRecordFrame(nil, d, time.Unix(int64(i), 0), "v", "V", keyRecordOf(randomLeaves(r, 10))))
	}
	damaged := bytes.Clone(frames[2])
	damaged[len(damaged)/2] ^= 1
	var file []byte
	file = append(file, "@ 41f2 1 v\nOptions.OptLevel\tint\t2\n"...)
	file = append(file, frames[0]...)
	file = append(file, frames[1]...)
	file = append(file, damaged...)
	file = append(file, recordMagic+"garbage"...)
	file = append(file, frames[3]...)
	file = append(file, frames[4][:len(frames[4])-3]...)
	recs := parseRecords(file)
	var got []byte
	for _, rec := range recs {
		got = append(got, rec.digest[0])
	}
	if !bytes.Equal(got, []byte{0, 1, 3}) {
		t.Fatalf("records %v, want 0 1 3", got)
	}
}

// TestRecordsWithoutExplaining: every store records its key, so a miss is explained against
// keys stored by a Cache that did not explain; a record file planted past its bound, or
// made a directory, costs the explanation and nothing else.
func TestRecordsWithoutExplaining(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, Version: "v", MemoryBytes: -1})
	if _, err := Load(context.Background(), c, keys.Wide{I: 2, S: "x"}, computeWide); err != nil {
		t.Fatal(err)
	}
	c.Close() // as a run that ends: its records are written
	var got []Miss
	c2 := missesOf(t, dir, "v", &got)
	if _, err := Load(context.Background(), c2, keys.Wide{I: 3, S: "x"}, computeWide); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.HasPrefix(got[0].Reason, "Wide.I 2 → 3 (closest entry stored") {
		t.Fatalf("misses %+v", got)
	}

	typeID, _ := keyTypeOf[keys.Wide]()
	name := c2.recordFile(typeID)
	c2.Flush(context.Background()) // the record of the last store is written
	if err := os.WriteFile(name, bytes.Repeat([]byte(recordMagic), maxRecordFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(olderHalf(name)); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), c2, keys.Wide{I: 4, S: "x"}, computeWide); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Reason != "no entry of this key type yet" {
		t.Fatalf("misses %+v", got)
	}
	c2.Flush(context.Background())
	os.Remove(name)
	if err := os.Mkdir(name, 0o700); err != nil {
		t.Fatal(err)
	}
	v, err := Load(context.Background(), c2, keys.Wide{I: 5, S: "x"}, computeWide)
	if err != nil || v.N != 5 || c2.Stats().Errors != 0 {
		t.Fatalf("Load = %+v, %v, stats %+v", v, err, c2.Stats())
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(name), recordPrefix+"*")); len(matches) != 2 {
		t.Fatalf("record files %v", matches)
	}
}

// FuzzRecords feeds arbitrary bytes to the record reader: it must not panic, and whatever
// it returns must decode or be skipped.
func FuzzRecords(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	var d keyhash.Digest
	f.Add(appendRecordFrame(nil, d, time.Unix(0, 0), "v", "V", keyRecordOf(randomLeaves(r, 5))))
	f.Add([]byte(recordMagic + "\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, rec := range parseRecords(b) {
			rec.leavesOf()
			rec.overlap([]uint64{1, 2, 3})
		}
	})
}

// TestRotationPastABlockedOlderHalf: a directory where the older half of a record file
// belongs cannot stop the rotation, and the records stay within their bound.
func TestRotationPastABlockedOlderHalf(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, recordPrefix+"0123456789abcdef.rec")
	if err := os.MkdirAll(filepath.Join(olderHalf(name), "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	frame := bytes.Repeat([]byte("x"), 1000)
	for range 1000 {
		appendRotating(name, frame, 64<<10)
	}
	fi, err := os.Stat(name)
	if err == nil && fi.Size() > 64<<10 {
		t.Fatalf("the record file holds %d bytes, past its bound", fi.Size())
	}
}

// TestManyQueuedRecordsStayReadable: the records of many stores queued at once are written
// as the newest that fit, so that the record file never grows past what the reader reads.
func TestManyQueuedRecordsStayReadable(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1})
	typeID, _ := keyTypeOf[keys.Wide]()
	name := c.recordFile(typeID)
	vt := valueTypeOf[keys.Wide, testValue](c)
	c.records.running = true // no writer starts: the queue builds up, as behind a slow disk
	for i := range 500 {
		k := keys.Wide{I: i, S: strings.Repeat("s", 60), List: []string{"a", "b"}}
		c.queueRecord(name, appendRecordFrame(nil, keyhash.Sum(k), time.Now(), "v", vt.name, newKeyRecord(k)))
	}
	recs := c.readRecords(name)
	if len(recs) == 0 || recs[len(recs)-1].digest != keyhash.Sum(keys.Wide{I: 499, S: strings.Repeat("s", 60), List: []string{"a", "b"}}) {
		t.Fatalf("%d records read; the newest must be among them", len(recs))
	}
}

// TestRecordsReadInPieces: a record file read while writers append to it, cut at any byte,
// yields each record once when the rest is read from where the first read said to start:
// a frame cut short, a magic cut short, a header cut short are read again, whole frames
// are not. Damage before the cut does not hold back the frames after it.
func TestRecordsReadInPieces(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var file []byte
	var want []byte
	for i := range 4 {
		var d keyhash.Digest
		d[0] = byte(i)
		if i == 2 {
			file = append(file, recordMagic+"\xff\xff\xff\x7fgarbage"...) // a huge length, never whole
		}
		file = appendRecordFrame(file, d, time.Unix(int64(i), 0), "v", "V", keyRecordOf(randomLeaves(r, 3)))
		want = append(want, byte(i))
	}
	for cut := 0; cut <= len(file); cut++ {
		first, end := parseRecordsTail(file[:cut])
		if end > cut {
			t.Fatalf("cut %d: next read starts at %d", cut, end)
		}
		rest, _ := parseRecordsTail(file[end:])
		var got []byte
		for _, rec := range append(first, rest...) {
			got = append(got, rec.digest[0])
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("cut %d (next read at %d): records %v, want %v", cut, end, got, want)
		}
	}
}

// TestRecordIndexFollowsTheFiles: the records that the index keeps across misses are those
// a fresh read of both halves finds, through appends by this and other writers, rotations,
// a half replaced by another file, and a half removed.
func TestRecordIndexFollowsTheFiles(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, recordPrefix+"0123456789abcdef.rec")
	r := rand.New(rand.NewPCG(7, 8))
	var x recordIndex
	const limit = 8 << 10
	digests := func(recs []record) []byte {
		var out []byte
		for _, rec := range recs {
			out = append(out, rec.digest[0], rec.digest[1])
		}
		return out
	}
	for i := range 300 {
		var d keyhash.Digest
		d[0], d[1] = byte(i), byte(i>>8)
		frame := appendRecordFrame(nil, d, time.Unix(int64(i), 0), "v", "V", keyRecordOf(randomLeaves(r, 1+r.IntN(20))))
		switch {
		case i%97 == 50: // another file in place of the older half
			os.WriteFile(olderHalf(name), appendRecordFrame(nil, keyhash.Digest{0xee, byte(i)}, time.Unix(0, 0), "v", "V", keyRecordOf(randomLeaves(r, 2))), 0o600)
		case i%89 == 40:
			os.Remove(olderHalf(name))
		case i%7 == 3: // an append cut short, finished by the next one
			appendRotating(name, frame[:len(frame)/2], limit)
			if got, want := digests(x.read(name)), digests(freshRecords(name)); !bytes.Equal(got, want) {
				t.Fatalf("append %d, half written: index has %x, the files %x", i, got, want)
			}
			appendRotating(name, frame[len(frame)/2:], limit)
			continue
		}
		appendRotating(name, frame, limit)
		if i%3 == 0 {
			continue // several appends between two reads
		}
		if got, want := digests(x.read(name)), digests(freshRecords(name)); !bytes.Equal(got, want) {
			t.Fatalf("append %d: index has %x, the files %x", i, got, want)
		}
	}
}

// freshRecords reads both halves of a record file from scratch.
func freshRecords(name string) []record {
	older, newer := readRotating(name, maxRecordFile)
	return append(parseRecords(older), parseRecords(newer)...)
}

// TestExplainRepeatedLeaves: leaves shared by both keys are skipped as a multiset, so that a
// set holding a value twice, against one holding it once, still shows the change.
func TestExplainRepeatedLeaves(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), Version: "v"})
	leaf := func(v string) keyhash.Leaf {
		return keyhash.Leaf{Path: `K.Tags["` + v + `"]`, Type: "string", Value: `"` + v + `"`}
	}
	old := []keyhash.Leaf{{Path: "K.Tags", Type: "set", Value: "len 3"}, leaf("t1"), leaf("t2"), leaf("t2")}
	now := []keyhash.Leaf{{Path: "K.Tags", Type: "set", Value: "len 3"}, leaf("t1"), leaf("t1"), leaf("t2")}
	vt := valueTypeOf[keys.Wide, testValue](c)
	recs := parseRecords(appendRecordFrame(nil, keyhash.Digest{1}, c.now(), filepath.Base(c.versionDir), vt.name, keyRecordOf(old)))
	reason := c.explain(recs, keyhash.Digest{2}, vt, keyRecordOf(now), false)
	if !strings.Contains(reason, `K.Tags["t1"]`) || !strings.Contains(reason, `K.Tags["t2"]`) {
		t.Fatalf("reason %q: want the t1 added and the t2 removed", reason)
	}
}

// TestRecordIndexFileRewrittenInPlace: a record file rewritten in place, to the same size
// and with its modification time put back, is read again, not served from the index.
func TestRecordIndexFileRewrittenInPlace(t *testing.T) {
	name := filepath.Join(t.TempDir(), recordPrefix+"0123456789abcdef.rec")
	frame := func(b byte) []byte {
		return appendRecordFrame(nil, keyhash.Digest{b}, time.Unix(0, 0), "v", "V", keyRecordOf([]keyhash.Leaf{{Path: "K.A", Type: "int", Value: "1"}}))
	}
	if err := os.WriteFile(name, frame(1), 0o600); err != nil {
		t.Fatal(err)
	}
	var x recordIndex
	if recs := x.read(name); len(recs) != 1 || recs[0].digest[0] != 1 {
		t.Fatalf("records %v", recs)
	}
	fi, _ := os.Stat(name)
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(frame(2), 0)
	f.Close()
	os.Chtimes(name, fi.ModTime(), fi.ModTime())
	if recs := x.read(name); len(recs) != 1 || recs[0].digest[0] != 2 {
		t.Fatalf("after the rewrite, records %v: want the new one", recs)
	}
}

// TestRecordIndexTakesInOwnAppends: what this process appends goes into the index without
// a read, and the index still matches the files when other processes append in between,
// and through rotations.
func TestRecordIndexTakesInOwnAppends(t *testing.T) {
	// The index is kept by Caches that explain.
	c := open(t, Options{Dir: t.TempDir(), Version: "v", MaxBytes: 1 << 20, OnMiss: func(Miss) {}})
	name := c.recordFile("example.com/p.K")
	r := rand.New(rand.NewPCG(9, 10))
	digests := func(recs []record) (out []byte) {
		for _, rec := range recs {
			out = append(out, rec.digest[0], rec.digest[1])
		}
		return out
	}
	for i := range 200 {
		frame := appendRecordFrame(nil, keyhash.Digest{byte(i), byte(i >> 8)}, time.Unix(int64(i), 0), "v", "V", keyRecordOf(randomLeaves(r, 1+r.IntN(30))))
		if i%5 == 2 {
			appendRotating(name, frame, c.recordLimit()) // another process
		} else {
			c.appendRecords(name, frame)
		}
		if i%4 == 0 {
			continue
		}
		if got, want := digests(c.recIndex.read(name)), digests(freshRecords(name)); !bytes.Equal(got, want) {
			t.Fatalf("append %d: index has %x, the files %x", i, got, want)
		}
	}
	// Right after a read, an append of this process is in the index before any read.
	c.recIndex.read(name)
	c.appendRecords(name, appendRecordFrame(nil, keyhash.Digest{0xff}, time.Unix(0, 0), "v", "V", keyRecordOf(randomLeaves(r, 2))))
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	files := c.recIndex.files[name]
	if last := files[len(files)-1]; !os.SameFile(last.fi, fi) || last.off != fi.Size() || last.recs[len(last.recs)-1].digest[0] != 0xff {
		t.Fatalf("the index did not take in the append: %d of %d bytes", last.off, fi.Size())
	}
}

// TestIndexFollowsOwnAppendsAndRotations: the record index, told of this Cache's appends
// (including those that rotate the file and those that begin a new one), returns after each
// what a fresh parse of both halves returns.
func TestIndexFollowsOwnAppendsAndRotations(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1, MaxBytes: 1 << 20, OnMiss: func(Miss) {}})
	typeID, _ := keyTypeOf[keys.Wide]()
	name := c.recordFile(typeID)
	vt := valueTypeOf[keys.Wide, testValue](c)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 200 {
		k := keys.Wide{I: i, S: strings.Repeat("s", r.IntN(2000))}
		frame := appendRecordFrame(nil, keyhash.Sum(k), time.Now(), "v", vt.name, newKeyRecord(k))
		if r.IntN(4) == 0 {
			appendRotating(name, frame, c.recordLimit()) // another process
		} else {
			c.appendRecords(name, frame)
		}
		if r.IntN(3) == 0 {
			continue // several appends between reads
		}
		older, newer := readRotating(name, maxRecordFile)
		want := append(parseRecords(older), parseRecords(newer)...)
		got := c.recIndex.read(name)
		if len(got) != len(want) {
			t.Fatalf("after %d appends: the index has %d records, the files %d", i+1, len(got), len(want))
		}
		for j := range got {
			if got[j].digest != want[j].digest {
				t.Fatalf("after %d appends: record %d differs", i+1, j)
			}
		}
	}
}

// TestValueChangesAsDiff: the one-pass comparison of two keys of one shape lists what
// diffLeaves lists for them, and gives way to it when their shapes differ.
func TestValueChangesAsDiff(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		// Paths made unique: where a path repeats, diffLeaves (by path) pairs values less
		// well than the comparison place by place.
		old := randomLeaves(r, r.IntN(30))
		for i := range old {
			old[i].Path += "/" + strconv.Itoa(i)
		}
		now := slices.Clone(old)
		for i := range now {
			if r.IntN(4) == 0 {
				now[i].Value += "x"
			}
		}
		shape := r.IntN(3) // 0: same shape, 1: a leaf more, 2: a path changed
		switch {
		case shape == 1:
			now = append(now, keyhash.Leaf{Path: "Extra", Type: "int", Value: "1"})
		case shape == 2 && len(now) > 0:
			now[r.IntN(len(now))].Path += "2"
		default:
			shape = 0
		}
		ko, kn := keyRecordOf(old), keyRecordOf(now)
		got, same := valueChanges(ko.n, ko.leaves, kn.n, kn.leaves)
		if same != (shape == 0) {
			t.Fatalf("shape %d: same shape %t\n%q\n%q", shape, same, old, now)
		}
		if !same {
			continue
		}
		want := diffLeaves(decodeLeaves(ko.n, ko.leaves, kn.hashes), decodeLeaves(kn.n, kn.leaves, ko.hashes), false, false)
		if !slices.Equal(got, want) {
			t.Fatalf("changes\n%q\nwant\n%q\nof\n%q\n%q", got, want, old, now)
		}
	}
}

// TestRecordIndexSeesTheOlderHalfChangeAlone: the older half of a record file may change
// while the newer one does not (an append that raced with a rotation lands in it; a trim
// removes it), and the index must see it.
func TestRecordIndexSeesTheOlderHalfChangeAlone(t *testing.T) {
	name := filepath.Join(t.TempDir(), recordPrefix+"0123456789abcdef.rec")
	r := rand.New(rand.NewPCG(1, 2))
	digests := func(recs []record) (out []byte) {
		for _, rec := range recs {
			out = append(out, rec.digest[0])
		}
		return out
	}
	frame := func(b byte) []byte {
		return appendRecordFrame(nil, keyhash.Digest{b}, time.Unix(int64(b), 0), "v", "V", keyRecordOf(randomLeaves(r, 3)))
	}
	os.WriteFile(olderHalf(name), frame(1), 0o600)
	os.WriteFile(name, frame(2), 0o600)
	var x recordIndex
	x.read(name)
	for _, step := range []struct {
		what string
		do   func()
	}{
		{"append to the older half", func() {
			f, _ := os.OpenFile(olderHalf(name), os.O_WRONLY|os.O_APPEND, 0)
			f.Write(frame(3))
			f.Close()
		}},
		{"older half removed", func() { os.Remove(olderHalf(name)) }},
		{"older half replaced", func() { os.WriteFile(olderHalf(name), frame(4), 0o600) }},
	} {
		step.do()
		if g, w := digests(x.read(name)), digests(freshRecords(name)); !bytes.Equal(g, w) {
			t.Errorf("%s: the index has %x, the files %x", step.what, g, w)
		}
	}
}

// TestRecordIndexOddFiles: symbolic links and directories in place of either half of a
// record file, and truncation: the index reads what a fresh read does, and writes nothing
// through a link.
func TestRecordIndexOddFiles(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, recordPrefix+"0123456789abcdef.rec")
	r := rand.New(rand.NewPCG(1, 2))
	frame := func(b byte) []byte {
		return appendRecordFrame(nil, keyhash.Digest{b}, time.Unix(int64(b), 0), "v", "V", keyRecordOf(randomLeaves(r, 3)))
	}
	digests := func(recs []record) (out []byte) {
		for _, rec := range recs {
			out = append(out, rec.digest[0])
		}
		return out
	}
	other := filepath.Join(dir, "elsewhere")
	f99 := frame(99)
	os.WriteFile(other, f99, 0o600)
	var x recordIndex
	steps := []struct {
		what string
		do   func()
	}{
		{"start", func() { os.WriteFile(olderHalf(name), frame(1), 0o600); os.WriteFile(name, frame(2), 0o600) }},
		{"newer half a symlink", func() { os.Remove(name); os.Symlink(other, name) }},
		{"newer half a directory", func() { os.Remove(name); os.Mkdir(name, 0o700) }},
		{"newer half back", func() { os.Remove(name); appendRotating(name, frame(3), 1<<20) }},
		{"older half a symlink", func() { os.Remove(olderHalf(name)); os.Symlink(other, olderHalf(name)) }},
		{"append", func() { appendRotating(name, frame(4), 1<<20) }},
		{"older half a directory", func() { os.Remove(olderHalf(name)); os.Mkdir(olderHalf(name), 0o700) }},
		{"append", func() { appendRotating(name, frame(5), 1<<20) }},
		{"newer truncated", func() { os.Truncate(name, 0) }},
		{"append", func() { appendRotating(name, frame(6), 1<<20) }},
		{"newer truncated and refilled same size", func() {
			fi, _ := os.Stat(name)
			b, _ := os.ReadFile(name)
			os.Truncate(name, 0)
			b2 := frame(7)
			for len(b2) < len(b) {
				b2 = append(b2, 0)
			}
			os.WriteFile(name, b2[:fi.Size()], 0o600)
		}},
	}
	for _, s := range steps {
		s.do()
		if g, w := digests(x.read(name)), digests(freshRecords(name)); !bytes.Equal(g, w) {
			t.Errorf("%s: the index has %x, the files %x", s.what, g, w)
		}
	}
	if b, _ := os.ReadFile(other); !bytes.Equal(b, f99) {
		t.Errorf("a record was written through a symlink")
	}
}

// TestUnmarked: a path is hashed without its entry marks, and only without them.
func TestUnmarked(t *testing.T) {
	m := keyhash.EntryMark
	for _, tc := range []struct{ in, want string }{
		{"K.M[NaN" + m + "0123456789abcdef]", "K.M[NaN]"},
		{"K.M[NaN" + m + "0123456789abcdef].A[x" + m + "fedcba9876543210][2]", "K.M[NaN].A[x][2]"},
		{"K.M[NaN" + m + "0123456789abcdeF]", "K.M[NaN" + m + "0123456789abcdeF]"}, // not its digits
		{"K.M[NaN" + m + "0123456789abcde]", "K.M[NaN" + m + "0123456789abcde]"},   // 15 digits
		{"K.M[NaN" + m + "]", "K.M[NaN" + m + "]"},
		{"K.M[\"a\"]", "K.M[\"a\"]"},
	} {
		if got := string(unmarked(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("unmarked(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestRotationByTwoWritersKeepsTheirRecords: two processes append to one record file at
// once, both finding it full: one rotates it, and neither batch, the newest records, is lost
// (a second rotation of the same file, or one of the file that follows it, lost them).
func TestRotationByTwoWritersKeepsTheirRecords(t *testing.T) {
	const max = 64 << 10
	dir := t.TempDir()
	lost := 0
	for r := range 300 {
		name := filepath.Join(dir, "explain-"+strconv.FormatUint(uint64(r)+1<<60, 16)+".rec")
		if err := os.WriteFile(olderHalf(name), bytes.Repeat([]byte("Z"), 20<<10), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, bytes.Repeat([]byte("X"), 12<<10), 0o600); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, c := range []byte("ab") {
			wg.Go(func() {
				<-start
				appendRotating(name, bytes.Repeat([]byte{c}, 10<<10), max)
			})
		}
		close(start)
		wg.Wait()
		older, newer := readRotating(name, max)
		if all := append(older, newer...); !bytes.Contains(all, []byte("a")) || !bytes.Contains(all, []byte("b")) {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of 300 rounds lost a batch just appended", lost)
	}
}

// TestRecordReadersFindTheNewestRecord: a process reads a record file while another appends
// to it and rotates it every few appends: every read finds the newest record appended
// before it began. Reading the older half first, then the newer, missed the newest ones
// when the file rotated between the two reads.
func TestRecordReadersFindTheNewestRecord(t *testing.T) {
	const max = 16 << 10 // a rotation every 7 appends
	name := filepath.Join(t.TempDir(), "explain-0123456789abcdef.rec")
	// Frames of their own (a digest and a time each, sizes that vary), as stores make them.
	frame := func(i int) []byte {
		kr := newKeyRecord(keys.Wide{I: i, S: strings.Repeat("s", i%7)})
		defer kr.release()
		return appendRecordFrame(nil, digestOf(i), time.Now(), "v", "t", kr)
	}
	appendRotating(name, frame(0), max)
	var newest atomic.Int64 // the newest frame appended
	// The writer appends once per read begun, as the read runs, so that the reads see
	// every moment of the rotations without the writer running far ahead of them.
	read := make(chan struct{}, 1)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; !stop.Load(); i++ {
			select {
			case <-read:
			case <-time.After(10 * time.Millisecond):
			}
			appendRotating(name, frame(i), max)
			newest.Store(int64(i))
		}
	})
	var x recordIndex
	reads, missed := 0, 0
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); reads++ {
		want := digestOf(int(newest.Load()))
		select {
		case read <- struct{}{}:
		default:
		}
		found := false
		for _, r := range x.read(name) {
			found = found || r.digest == want
		}
		if !found {
			missed++
		}
	}
	stop.Store(true)
	wg.Wait()
	if missed > 0 {
		t.Fatalf("%d of %d reads missed the newest record", missed, reads)
	}
}

// digestOf makes a digest of its own for i.
func digestOf(i int) (d keyhash.Digest) {
	binary.LittleEndian.PutUint64(d[:], uint64(i))
	d[31] = 1
	return d
}

// TestRotationByThreeWritersKeepsTheirBatches: three processes append one batch each to a
// record file that the first append fills: one rotates it, and none rotates the file that
// another then begins over the newest batches (the check that the name is still the full
// file and the rename were two steps apart).
func TestRotationByThreeWritersKeepsTheirBatches(t *testing.T) {
	const max = 64
	name := filepath.Join(t.TempDir(), "explain-0123456789abcdef.rec")
	lost := 0
	for range 3000 {
		os.Remove(name)
		os.Remove(olderHalf(name))
		if err := os.WriteFile(name, bytes.Repeat([]byte{'.'}, max/2-3), 0o600); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, s := range []string{"A\n", "B\n", "C\n"} {
			wg.Go(func() { appendRotating(name, []byte(s), max) })
		}
		wg.Wait()
		older, newer := readRotating(name, max)
		all := append(older, newer...)
		for _, s := range []string{"A\n", "B\n", "C\n"} {
			if !bytes.Contains(all, []byte(s)) {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d batches lost in 3000 rounds", lost)
	}
}

// TestIndexTakesNoOtherFileForItsOwn: a file of the same identity and size as one the index
// read, but other content (here rewritten in place; on disk, a new file under a reused
// number), is not taken for that file grown by this process's append.
func TestIndexTakesNoOtherFileForItsOwn(t *testing.T) {
	name := filepath.Join(t.TempDir(), "explain-0123456789abcdef.rec")
	frame := func(i int) []byte {
		return appendRecordFrame(nil, digestOf(i), time.Unix(int64(i), 0), "v", "V",
			keyRecordOf([]keyhash.Leaf{{Path: "K.A", Type: "int", Value: "1"}}))
	}
	if err := os.WriteFile(name, append(frame(1), frame(2)...), 0o600); err != nil {
		t.Fatal(err)
	}
	var x recordIndex
	x.read(name)
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(append(frame(3), frame(4)...), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	five := frame(5)
	fi, _ := appendRotating(name, five, 1<<20)
	x.appended(name, five, fi)
	var got []int
	for _, r := range x.read(name) {
		got = append(got, int(binary.LittleEndian.Uint64(r.digest[:])))
	}
	if !slices.Equal(got, []int{3, 4, 5}) {
		t.Fatalf("the index holds the records %v; the file holds 3, 4, 5", got)
	}
}
