package cache

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/cachegen/cachegen/testdata/golden/keys"
)

// missesOf opens a Cache on dir whose explained misses are appended to *got.
func missesOf(t *testing.T, dir, version string, got *[]Miss) *Cache {
	t.Helper()
	return open(t, Options{Dir: dir, Version: version, MemoryBytes: -1, OnMiss: func(m Miss) { *got = append(*got, m) }})
}

func computeWide(_ context.Context, k keys.Wide) (testValue, error) {
	return testValue{Name: k.S, N: int64(k.I)}, nil
}

// TestExplainNamesTheChangedFields: a miss is explained by the fields that changed from the
// closest key of its type stored before, by their path as the trace writes it; an excluded
// field is never mentioned.
func TestExplainNamesTheChangedFields(t *testing.T) {
	base := func() keys.Wide {
		return keys.Wide{I: 2, S: "v1", List: []string{"a", "b"}, M: map[string]int{"x": 1}, In: keys.Inner{A: "in"}, Target: keys.X86{}}
	}
	cases := []struct {
		name   string
		change func(k *keys.Wide)
		want   []string
	}{
		{"scalar", func(k *keys.Wide) { k.I = 1 }, []string{"Wide.I 2 → 1"}},
		{"string", func(k *keys.Wide) { k.S = "v2" }, []string{`Wide.S "v1" → "v2"`}},
		{"slice element added", func(k *keys.Wide) { k.List = append(k.List, "c") }, []string{"Wide.List[2] added"}},
		{"slice element removed", func(k *keys.Wide) { k.List = k.List[:1] }, []string{"Wide.List[1] removed"}},
		{"map entry added", func(k *keys.Wide) { k.M["-g"] = 1 }, []string{`Wide.M["-g"] added`}},
		{"map value", func(k *keys.Wide) { k.M["x"] = 5 }, []string{`Wide.M["x"] 1 → 5`}},
		{"nested struct field", func(k *keys.Wide) { k.In.A = "out" }, []string{`Wide.In.A "in" → "out"`}},
		{"interface dynamic type", func(k *keys.Wide) { k.Target = keys.ARM{} }, []string{"Wide.Target"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []Miss
			c := missesOf(t, t.TempDir(), "v", &got)
			if _, err := Load(context.Background(), c, base(), computeWide); err != nil {
				t.Fatal(err)
			}
			k := base()
			tc.change(&k)
			k.Log = "excluded, never mentioned"
			if _, err := Load(context.Background(), c, k, computeWide); err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Reason != "no entry of this key type yet" {
				t.Fatalf("misses %+v", got)
			}
			for _, want := range tc.want {
				if !strings.Contains(got[1].Reason, want) {
					t.Errorf("reason %q lacks %q", got[1].Reason, want)
				}
			}
			if strings.Contains(got[1].Reason, "Log") || !strings.Contains(got[1].Reason, "closest entry stored") {
				t.Errorf("reason %q", got[1].Reason)
			}
			if got[1].KeyType != "keys.Wide" {
				t.Errorf("key type %q", got[1].KeyType)
			}
		})
	}
}

// TestExplainSameKey: a miss of a key that was stored says why it is gone: another program
// version stored it, its entry was damaged, or it was evicted.
func TestExplainSameKey(t *testing.T) {
	dir := t.TempDir()
	var got []Miss
	k := keys.Wide{S: "same"}
	// Each Cache stands for a run of its own, which Close ends.
	c1 := missesOf(t, dir, "v1", &got)
	if _, err := Load(context.Background(), c1, k, computeWide); err != nil {
		t.Fatal(err)
	}
	c1.Close()
	c2 := missesOf(t, dir, "v2", &got)
	if _, err := Load(context.Background(), c2, k, computeWide); err != nil {
		t.Fatal(err)
	}
	c2.Close()
	// Damage v2's entry, then evict it.
	mk := memKeyOf[testValue](c2, k)
	ek := c2.entryKey(&mk)
	if err := os.WriteFile(c2.entryPath(&ek), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	c3 := missesOf(t, dir, "v2", &got)
	if _, err := Load(context.Background(), c3, k, computeWide); err != nil {
		t.Fatal(err)
	}
	c3.Close()
	if err := os.Remove(c3.entryPath(&ek)); err != nil {
		t.Fatal(err)
	}
	c4 := missesOf(t, dir, "v2", &got)
	if _, err := Load(context.Background(), c4, k, computeWide); err != nil {
		t.Fatal(err)
	}
	if err := c4.Flush(context.Background()); err != nil { // the log of misses is written
		t.Fatal(err)
	}
	want := []string{"no entry of this key type yet", "same key, stored by another program version", "same key, entry was damaged", "same key, entry was evicted"}
	if len(got) != len(want) {
		t.Fatalf("misses %+v", got)
	}
	for i, w := range want {
		if got[i].Reason != w {
			t.Errorf("miss %d: %q, want %q", i, got[i].Reason, w)
		}
	}
	recent, err := RecentMisses(dir, "", 0)
	if err != nil || len(recent) != len(want) || recent[3].Reason != want[3] {
		t.Fatalf("RecentMisses = %+v, %v", recent, err)
	}
}

// TestExplainAcrossProcesses: the second run of a program, with one option changed, explains
// its miss against what the first run stored, on standard error with CACHEGEN_EXPLAIN=1,
// whether the first run explained or not.
func TestExplainAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	run := func(opt string) string {
		cmd := helperCommand(t, "explain", dir, 1)
		cmd.Env = append(cmd.Env, "CACHEGEN_EXPLAIN=1", "EXPLAIN_OPT="+opt)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		return stderr.String()
	}
	if out := run("2"); !strings.Contains(out, "cachegen: miss cache.testKey") || !strings.Contains(out, "no entry of this key type yet") {
		t.Fatalf("first run:\n%s", out)
	}
	if out := run("1"); !strings.Contains(out, "testKey.Opt 2 → 1 (closest entry stored") {
		t.Fatalf("second run:\n%s", out)
	}
	if out := run("1"); strings.Contains(out, "cachegen: miss") {
		t.Fatalf("a hit was explained:\n%s", out)
	}

	// A first run that does not explain records what it stores all the same.
	dir = t.TempDir()
	cmd := helperCommand(t, "explain", dir, 1)
	cmd.Env = append(cmd.Env, "CACHEGEN_EXPLAIN=0", "EXPLAIN_OPT=2")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || strings.Contains(stderr.String(), "cachegen: miss") {
		t.Fatalf("a run without CACHEGEN_EXPLAIN: %v\n%s", err, stderr.String())
	}
	if out := run("1"); !strings.Contains(out, "testKey.Opt 2 → 1 (closest entry stored") {
		t.Fatalf("second run:\n%s", out)
	}
}

// explainChild is the helper process of TestExplainAcrossProcesses: one Load.
func explainChild(dir string) error {
	c, err := Open(Options{Dir: dir, Namespace: "test"})
	if err != nil {
		return err
	}
	defer c.Close()
	opt := 2
	if os.Getenv("EXPLAIN_OPT") == "1" {
		opt = 1
	}
	_, err = Load(context.Background(), c, testKey{"prog", opt}, computeSmall)
	return err
}

// TestExplainRecordsAreBounded: the records of a key type stay within their bound however
// many keys are stored, and count against the budget.
func TestExplainRecordsAreBounded(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, MemoryBytes: -1, CompressionLevel: -1, OnMiss: func(Miss) {}})
	for i := range 3000 {
		if _, err := Load(context.Background(), c, keys.Wide{I: i, S: strings.Repeat("s", 40), List: []string{"a", "b", "c"}}, computeWide); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(context.Background()); err != nil { // the writer may be rotating
		t.Fatal(err)
	}
	// The record file and its older half; right after a rotation, the older half alone.
	typeID, _ := keyTypeOf[keys.Wide]()
	name := c.recordFile(typeID)
	matches, _ := filepath.Glob(filepath.Join(c.root, recordPrefix+"*"))
	if len(matches) == 0 || len(matches) > 2 || matches[0] != olderHalf(name) || len(matches) == 2 && matches[1] != name {
		t.Fatalf("record files %v", matches)
	}
	var size int64
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
	}
	if size > maxRecordFile+1<<10 {
		t.Fatalf("the records take %d bytes", size)
	}
	if recs := c.readRecords(name); len(recs) < 25 {
		t.Fatalf("only %d records kept", len(recs))
	}
	c.Close()
	if _, err := Clear(dir, ""); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(c.root, "*")); len(left) != 0 {
		t.Fatalf("Clear left %v", left)
	}
}

// panickyKey is a key whose enum's String panics, as a hand-written String that indexes a
// table of names does for a value without one: only tracing calls it.
type panickyKey struct{ Level int }

func (k panickyKey) String() string { return [...]string{"low", "high"}[k.Level] }

func (k panickyKey) HashKey(h *keyhash.Hasher) {
	h.Begin("cache.panickyKey", 1, 2, 3, 4)
	if h.Tracing() {
		h.Note(k.String())
	}
	h.Int("Level", k.Level)
	h.End()
}

// TestExplainReasons: the reasons beyond changed fields, each from the situation that
// gives it, and a key whose String panics, which costs its record and never the Load.
func TestExplainReasons(t *testing.T) {
	ctx := context.Background()
	t.Run("another value type", func(t *testing.T) {
		dir := t.TempDir()
		var got []Miss
		c := missesOf(t, dir, "v", &got)
		load(t, c, testKey{"vt", 1}, computeSmall)
		if _, err := Load(ctx, c, testKey{"vt", 1}, func(context.Context, testKey) (otherValue, error) { return otherValue{S: "x"}, nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[1].Reason != "same key, stored for another value type or schema" {
			t.Fatalf("misses %+v", got)
		}
	})
	t.Run("damaged, nothing recorded", func(t *testing.T) {
		c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1})
		recs := []record(nil)
		if r := c.explain(recs, keyhash.Digest{}, valueTypeOf[testKey, testValue](c), keyRecord{}, true); r != "same key, entry was damaged" {
			t.Fatalf("reason %q", r)
		}
	})
	t.Run("no disk tier", func(t *testing.T) {
		var got []Miss
		c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1, OnMiss: func(m Miss) { got = append(got, m) }})
		c.diskOff.Store(true)
		load(t, c, testKey{"mem", 1}, computeSmall)
		if len(got) != 1 || !strings.HasPrefix(got[0].Reason, "no disk tier") {
			t.Fatalf("misses %+v", got)
		}
	})
	t.Run("only later records", func(t *testing.T) {
		// Records stored after the miss began are not what it missed; when they are all
		// that is left of the type, the reason does not claim nothing was ever stored.
		var got []Miss
		c := missesOf(t, t.TempDir(), "v", &got)
		var at atomic.Int64 // read by the Cache's goroutines too
		at.Store(time.Now().UnixNano())
		c.now = func() time.Time { return time.Unix(0, at.Load()) }
		load(t, c, testKey{"later", 1}, computeSmall)
		c.Flush(ctx)
		at.Add(-int64(time.Hour)) // the next miss began before that store
		load(t, c, testKey{"later", 2}, computeSmall)
		if len(got) != 2 || !strings.HasPrefix(got[1].Reason, "no entry of this key type recorded before this miss") {
			t.Fatalf("misses %+v", got)
		}
	})
	t.Run("a String that panics", func(t *testing.T) {
		var got []Miss
		c := missesOf(t, t.TempDir(), "v", &got)
		for _, level := range []int{1, 5} {
			if _, err := Load(ctx, c, panickyKey{level}, func(_ context.Context, k panickyKey) (testValue, error) {
				return testValue{N: int64(k.Level)}, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		// The second key's String panics: it cannot be compared, which the reason says
		// rather than claim that no key of its type was stored.
		if len(got) != 2 || !strings.Contains(got[1].Reason, "could not be listed") {
			t.Fatalf("misses %+v", got)
		}
	})
}

// TestKeyTypesOfPackagesWithOneName: key types that print alike (*k.Opts of two packages k)
// keep records apart.
func TestKeyTypesOfPackagesWithOneName(t *testing.T) {
	a, _ := keyTypeOf[*keys.Wide]()
	b, _ := keyTypeOf[*testKey]()
	if !strings.Contains(a, "testdata/golden/keys.Wide") || a == b || a[0] != '*' {
		t.Fatalf("identities %q, %q", a, b)
	}
}

// TestDiffOfPartialRecords: a record that holds part of its key's leaves cannot say what it
// lacks; a length is not listed beside the entries that change it; a change of a leaf's
// type alone is named.
func TestDiffOfPartialRecords(t *testing.T) {
	old := []keyhash.Leaf{{Path: "K.Opt", Value: "1"}, {Path: "K.M", Value: "len 3"}, {Path: `K.M["a"]`, Value: "1"}}
	now := []keyhash.Leaf{{Path: "K.Opt", Value: "2"}, {Path: "K.M", Value: "len 4"}, {Path: `K.M["b"]`, Value: "1"}}
	cases := []struct {
		oldPartial, nowPartial bool
		want                   string
	}{
		{false, false, `K.Opt 1 → 2, K.M["b"] added, K.M["a"] removed`},
		{true, false, `K.Opt 1 → 2, K.M["a"] removed`},
		{false, true, `K.Opt 1 → 2, K.M["b"] added`},
		{true, true, `K.Opt 1 → 2, K.M len 3 → len 4`},
	}
	for _, tc := range cases {
		if got := strings.Join(diffLeaves(old, now, tc.oldPartial, tc.nowPartial), ", "); got != tc.want {
			t.Errorf("partial %t, %t: %s\nwant %s", tc.oldPartial, tc.nowPartial, got, tc.want)
		}
	}
	typed := diffLeaves([]keyhash.Leaf{{Path: "K.N", Type: "int", Value: "1"}}, []keyhash.Leaf{{Path: "K.N", Type: "int64", Value: "1"}}, false, false)
	if got := strings.Join(typed, ", "); got != "K.N int 1 → int64 1" {
		t.Errorf("a change of type alone: %q", got)
	}
	if a := age(-2 * time.Hour); a != "0s" {
		t.Errorf("age of a record from the future: %s", a)
	}
}

// TestExplainDoesNotWaitForTheWriter: a miss is explained against this Cache's own stores
// while their records are still queued (here, behind a writer that does not run), and the
// log of misses is written once the writer runs: Flush waits for it.
func TestExplainDoesNotWaitForTheWriter(t *testing.T) {
	dir := t.TempDir()
	var got []Miss
	c := missesOf(t, dir, "v", &got)
	c.records.mu.Lock()
	c.records.running = true // as behind a writer stuck on a slow disk
	c.records.mu.Unlock()
	for _, i := range []int{1, 2} {
		if _, err := Load(context.Background(), c, keys.Wide{I: i, S: "q"}, computeWide); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[1].Reason, "Wide.I 1 → 2 (closest entry stored") {
		t.Fatalf("misses %+v", got)
	}
	typeID, _ := keyTypeOf[keys.Wide]()
	if _, err := os.Stat(c.recordFile(typeID)); !os.IsNotExist(err) {
		t.Fatalf("the record file was written by the explained miss: %v", err)
	}
	if recent, err := RecentMisses(dir, "", 0); err != nil || len(recent) != 0 {
		t.Fatalf("RecentMisses before the writer ran = %+v, %v", recent, err)
	}
	// Let the writer run.
	c.records.mu.Lock()
	c.records.running = false
	c.records.mu.Unlock()
	c.queueMiss(nil)
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recent, err := RecentMisses(dir, "", 0)
	if err != nil || len(recent) != 2 || recent[1].Reason != got[1].Reason {
		t.Fatalf("RecentMisses after Flush = %+v, %v", recent, err)
	}
	if recs := c.readRecords(c.recordFile(typeID)); len(recs) != 2 {
		t.Fatalf("%d records after Flush, want 2", len(recs))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Once the writer is gone (it lingers after an append), an entry is queued that no
	// writer will write.
	waitFor(t, func() bool {
		c.records.mu.Lock()
		defer c.records.mu.Unlock()
		return !c.records.running
	})
	c.records.mu.Lock()
	c.records.added++ // queued, and never written
	c.records.mu.Unlock()
	if err := c.Flush(ctx); err != context.Canceled {
		t.Fatalf("Flush with a done context = %v", err)
	}
	c.records.mu.Lock()
	c.records.written = c.records.added
	c.records.mu.Unlock()
}

// TestOnMissRunsBesideCompute: OnMiss runs while compute does (here compute waits for it),
// before Load returns; a panic in OnMiss reaches the caller of Load as a compute's does; and
// an OnMiss that ends its goroutine (runtime.Goexit) does not hold the Load.
func TestOnMissRunsBesideCompute(t *testing.T) {
	dir := t.TempDir()
	called := make(chan Miss, 1)
	c := open(t, Options{Dir: dir, MemoryBytes: -1, OnMiss: func(m Miss) { called <- m }})
	waits := func(_ context.Context, k keys.Wide) (testValue, error) {
		select {
		case <-called:
		case <-time.After(10 * time.Second):
			t.Error("OnMiss was not called while compute ran")
		}
		return computeWide(context.Background(), k)
	}
	if _, err := Load(context.Background(), c, keys.Wide{I: 1}, waits); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		onMiss func(Miss)
	}{
		{"panic", func(Miss) { panic("onmiss kaboom") }},
		{"goexit", func(Miss) { runtime.Goexit() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := open(t, Options{Dir: dir, MemoryBytes: -1, OnMiss: tc.onMiss})
			defer func() {
				p := recover()
				if tc.name == "goexit" {
					if p != nil {
						t.Errorf("recovered %v", p)
					}
					return
				}
				if pe, ok := p.(*PanicError); !ok || pe.Value != "onmiss kaboom" {
					t.Errorf("recovered %v, want a *PanicError", p)
				}
			}()
			v, err := Load(context.Background(), c, keys.Wide{I: 2, S: tc.name}, computeWide)
			if tc.name != "goexit" || err != nil || v.Name != tc.name {
				t.Errorf("Load = %+v, %v", v, err)
			}
		})
	}
}

// TestFlushWaitsForWhatWasQueuedBefore: Flush returns once the writer is done with what was
// queued before it was called, though more was queued since (as under steady stores).
func TestFlushWaitsForWhatWasQueuedBefore(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1})
	q := &c.records
	q.mu.Lock()
	q.running = true // the writer is simulated
	q.added, q.written = 5, 3
	q.mu.Unlock()
	flushed := make(chan error, 1)
	go func() { flushed <- c.Flush(context.Background()) }()
	step := func(added, batch uint64) {
		time.Sleep(10 * time.Millisecond)
		q.mu.Lock()
		q.added = added
		q.done(batch)
		q.mu.Unlock()
	}
	step(6, 4) // a batch that ends before what Flush waits for
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned %v before the writer wrote what was queued before it", err)
	case <-time.After(20 * time.Millisecond):
	}
	step(9, 5)
	select {
	case err := <-flushed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Flush still waits, though what was queued before it is written")
	}
	q.mu.Lock()
	q.running, q.written = false, q.added
	q.mu.Unlock()
}

// TestMissesLogStaysReadable: a burst of misses queued at once, past what a half of the log
// holds, is written as its newest lines, and the log reads back.
func TestMissesLogStaysReadable(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, MemoryBytes: -1})
	q := &c.records
	q.mu.Lock()
	q.running = true // hold the writer back while the burst queues
	q.mu.Unlock()
	for i := range 3000 {
		c.reportMiss(Miss{Time: time.Unix(int64(i), 0), KeyType: "k.T", Reason: fmt.Sprintf("miss %d %s", i, strings.Repeat("x", 40))})
	}
	q.mu.Lock()
	q.running = false
	q.mu.Unlock()
	c.queueMiss([]byte{}) // starts the writer
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recent, err := RecentMisses(dir, "", 0)
	if err != nil || len(recent) == 0 || !strings.HasPrefix(recent[len(recent)-1].Reason, "miss 2999 ") {
		t.Fatalf("RecentMisses: %d misses, %v", len(recent), err)
	}
}

// TestMissLineNotDroppedBehindRecords: a queue full of records (behind a slow disk) does not
// drop the lines of the log of misses, which have room of their own.
func TestMissLineNotDroppedBehindRecords(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, MemoryBytes: -1})
	q := &c.records
	q.mu.Lock()
	q.running = true // hold the writer back
	q.mu.Unlock()
	typeID, _ := keyTypeOf[keys.Wide]()
	frame := bytes.Repeat([]byte("r"), 4096)
	for range maxPendingRecords / len(frame) {
		c.queueRecord(c.recordFile(typeID), frame)
	}
	c.reportMiss(Miss{Time: time.Unix(1, 0), KeyType: "k.T", Reason: "the last miss"})
	q.mu.Lock()
	q.running = false
	q.mu.Unlock()
	c.queueMiss([]byte{}) // starts the writer
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recent, err := RecentMisses(dir, "", 0)
	if err != nil || len(recent) != 1 || recent[0].Reason != "the last miss" {
		t.Fatalf("RecentMisses = %+v, %v", recent, err)
	}
}

// aliasKey holds maps whose entries show alike in a key's leaves: NaN keys, keys of pointer
// type (hashed through what they point to), and keys whose struct leaves a field out of the
// key (aliasEntry.Log). Its HashKey is written as cachegen generates one.
type aliasKey struct {
	F     map[float64]int
	M     map[*int]string
	S     map[aliasEntry]int
	Other int
}

type aliasEntry struct {
	A   int
	Log string // cache:"-"
}

func (x aliasEntry) HashKey(h *keyhash.Hasher) {
	h.Begin("example.com/p.aliasEntry", 5, 6, 7, 8)
	h.Int("A", x.A)
	h.End()
}

func (x aliasKey) HashKey(h *keyhash.Hasher) {
	h.Begin("example.com/p.aliasKey", 1, 2, 3, 4)
	h.Map("F", len(x.F))
	for k, v := range x.F {
		h.Entry()
		h.Float64("key", k)
		h.Int("value", v)
	}
	h.EndMap()
	h.Map("M", len(x.M))
	for k, v := range x.M {
		h.Entry()
		if h.Ptr("key", k != nil) {
			h.Int("*key", *k)
		}
		h.String("value", v)
	}
	h.EndMap()
	h.Map("S", len(x.S))
	for k, v := range x.S {
		h.Entry()
		k.HashKey(h.Field("key"))
		h.Int("value", v)
	}
	h.EndMap()
	h.Int("Other", x.Other)
	h.End()
}

// TestExplainEntriesThatShowAlike: when only Other changes, the explanation says so, however
// the key's maps are iterated, though their entries show alike; a change of an entry among
// entries that show alike names that entry as replaced.
func TestExplainEntriesThatShowAlike(t *testing.T) {
	one, two, three := 1, 2, 3
	base := aliasKey{
		F: map[float64]int{math.NaN(): 1, math.NaN(): 2, math.NaN(): 3},
		M: map[*int]string{&one: "x", &two: "y", &three: "z"},
		S: map[aliasEntry]int{{A: 1, Log: "a"}: 1, {A: 1, Log: "b"}: 2, {A: 1, Log: "c"}: 3},
	}
	compute := func(_ context.Context, k aliasKey) (testValue, error) { return testValue{N: int64(k.Other)}, nil }
	for i := range 20 {
		var got []Miss
		c := missesOf(t, t.TempDir(), "v", &got)
		k := base
		k.Other = i
		Load(context.Background(), c, k, compute)
		k.Other = i + 1
		Load(context.Background(), c, k, compute)
		if len(got) != 2 || !strings.HasPrefix(got[1].Reason, fmt.Sprintf("aliasKey.Other %d → %d (closest", i, i+1)) {
			t.Fatalf("run %d: only Other changed: %+v", i, got)
		}
	}
	var got []Miss
	c := missesOf(t, t.TempDir(), "v", &got)
	Load(context.Background(), c, base, compute)
	changed := base
	changed.F = map[float64]int{math.NaN(): 1, math.NaN(): 2, math.NaN(): 4}
	Load(context.Background(), c, changed, compute)
	if len(got) != 2 || !strings.Contains(got[1].Reason, "aliasKey.F[NaN"+keyhash.EntryMark) || !strings.Contains(got[1].Reason, " added") ||
		!strings.Contains(got[1].Reason, " removed") || strings.Contains(got[1].Reason, "Other") {
		t.Fatalf("one NaN entry replaced: %+v", got)
	}
}

// explainSecond loads a, then b, in a fresh Cache and returns b's explanation.
func explainSecond[K keyhash.Key](t *testing.T, a, b K) string {
	t.Helper()
	var got []Miss
	c := missesOf(t, t.TempDir(), "v", &got)
	compute := func(context.Context, K) (testValue, error) { return testValue{Name: "v"}, nil }
	for _, k := range []K{a, b} {
		if _, err := Load(context.Background(), c, k, compute); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 {
		t.Fatalf("misses %+v", got)
	}
	return got[1].Reason
}

// TestExplainEntryThatGainsALookAlike: an entry that gains a look-alike is renamed (it gets
// keyhash.EntryMark and a hash), and is still the entry it was: only the new one is named.
func TestExplainEntryThatGainsALookAlike(t *testing.T) {
	one, alsoOne := 1, 1
	for _, tc := range []struct {
		name string
		a, b aliasKey
		base string
	}{
		{"pointer keys", aliasKey{M: map[*int]string{&one: "x"}}, aliasKey{M: map[*int]string{&one: "x", &alsoOne: "y"}}, "aliasKey.M[present, 1"},
		{"NaN keys", aliasKey{F: map[float64]int{math.NaN(): 1}}, aliasKey{F: map[float64]int{math.NaN(): 1, math.NaN(): 2}}, "aliasKey.F[NaN"},
		{"a field left out", aliasKey{S: map[aliasEntry]int{{A: 1, Log: "a"}: 1}}, aliasKey{S: map[aliasEntry]int{{A: 1, Log: "a"}: 1, {A: 1, Log: "b"}: 2}}, "aliasKey.S[1"},
	} {
		r := explainSecond(t, tc.a, tc.b)
		if strings.Contains(r, "removed") || strings.Count(r, " added") != 1 || !strings.HasPrefix(r, tc.base+keyhash.EntryMark) {
			t.Errorf("%s: one entry came, none went: %q", tc.name, r)
		}
	}
}

// setKey holds Go's usual set, a map of empty structs, whose values write nothing.
type setKey struct{ Flags map[string]struct{} }

func (x setKey) HashKey(h *keyhash.Hasher) {
	h.Begin("example.com/p.setKey", 1, 2, 3, 4)
	h.Map("Flags", len(x.Flags))
	for k := range x.Flags {
		h.Entry()
		h.String("key", k)
	}
	h.EndMap()
	h.End()
}

// TestExplainMembersOfAMapOfEmptyStructs: an entry whose leaves are all its key's, which
// name it, is still listed, so that a member that came and one that went are named.
func TestExplainMembersOfAMapOfEmptyStructs(t *testing.T) {
	r := explainSecond(t, setKey{map[string]struct{}{"-O2": {}, "-g": {}}}, setKey{map[string]struct{}{"-O2": {}, "-race": {}}})
	if !strings.Contains(r, `setKey.Flags["-race"] added`) || !strings.Contains(r, `setKey.Flags["-g"] removed`) || strings.Contains(r, "O2") {
		t.Fatalf("reason %q", r)
	}
}

// TestRecordWriterLingers: the first record after a quiet spell is appended at once (a
// program may exit without Close); the records of the stores that follow are appended
// together, a linger later, and seen at once by the explanations of the process; Flush and
// Close do not wait out the linger (here an hour).
func TestRecordWriterLingers(t *testing.T) {
	dir := t.TempDir()
	var got []Miss
	c := missesOf(t, dir, "v", &got)
	c.records.mu.Lock()
	c.records.linger = time.Hour
	c.records.mu.Unlock()
	ctx := context.Background()
	typeID, _ := keyTypeOf[keys.Wide]()
	name := c.recordFile(typeID)
	records := func() int {
		older, newer := readRotating(name, maxRecordFile)
		return len(parseRecords(older)) + len(parseRecords(newer))
	}
	if _, err := Load(ctx, c, keys.Wide{I: 0, S: "s"}, computeWide); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return records() == 1 })
	for i := 1; i < 3; i++ {
		if _, err := Load(ctx, c, keys.Wide{I: i, S: "s"}, computeWide); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // ample for a writer that did not linger
	if n := records(); n != 1 {
		t.Fatalf("%d records appended while the writer lingered; want 1", n)
	}
	if len(got) != 3 || !strings.Contains(got[2].Reason, "Wide.I 1 → 2") {
		t.Fatalf("the queued records were not seen by the explanations: %+v", got)
	}
	start := time.Now()
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Flush(fctx); err != nil {
		t.Fatalf("Flush waited for the linger: %v", err)
	}
	if n := records(); n != 3 {
		t.Fatalf("after Flush, %d records appended; want 3", n)
	}
	if _, err := Load(ctx, c, keys.Wide{I: 9, S: "s"}, computeWide); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if n := records(); n != 4 {
		t.Fatalf("after Close, %d records appended; want 4", n)
	}
	if d := time.Since(start); d > time.Minute {
		t.Fatalf("Flush and Close took %v", d)
	}
}

// TestFlushEndsEveryLinger: Flush ends the writer's linger also when the writer starts it
// after Flush began (Flush called while the writer appended a batch, with more queued
// behind it): it does not wait out the linger (here an hour).
func TestFlushEndsEveryLinger(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MemoryBytes: -1})
	q := &c.records
	q.mu.Lock()
	q.running = true // the writer is simulated: appending the first of two queued
	q.added, q.written = 2, 0
	q.linger = time.Hour
	q.mu.Unlock()
	flushed := make(chan error, 1)
	go func() { flushed <- c.Flush(context.Background()) }()
	time.Sleep(10 * time.Millisecond) // Flush waits
	go func() {
		q.mu.Lock()
		q.done(1) // the first batch is appended
		q.lingerLocked()
		q.done(2) // the second, after the linger
		q.running = false
		q.mu.Unlock()
	}()
	select {
	case err := <-flushed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Flush waited for the writer's linger")
	}
}
