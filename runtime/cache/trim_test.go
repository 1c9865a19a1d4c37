package cache

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// setMtime sets a file's modification time to now minus age.
func setMtime(t *testing.T, path string, age time.Duration) {
	t.Helper()
	when := time.Now().Add(-age)
	if err := os.Chtimes(path, when, when); err != nil {
		t.Fatal(err)
	}
}

// ageVersion makes a version directory look unused for age.
func ageVersion(t *testing.T, vdir string, age time.Duration) {
	t.Helper()
	setMtime(t, filepath.Join(vdir, versionFile), age)
	setMtime(t, vdir, age)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func usageOf(t *testing.T, dir string) (entries int, bytes int64) {
	t.Helper()
	us, err := Usage(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		entries += u.Entries
		bytes += u.Bytes + u.TempBytes
	}
	return entries, bytes
}

func TestTrimBudget(t *testing.T) {
	dir := t.TempDir()
	const budget = 200 << 10 // the layout's own files and directories take 12 blocks of it
	const n = 40
	filler := open(t, Options{Dir: dir, Version: "v", MemoryBytes: -1})
	for i := range n {
		load(t, filler, testKey{"budget", i}, computeLarge)
		// Key 0 is the most recently used, key n-1 the least.
		setMtime(t, entryFile(filler, testKey{"budget", i}), time.Duration(i+1)*time.Minute)
	}
	filler.Close()
	c := open(t, Options{Dir: dir, Version: "v", MaxBytes: budget, MemoryBytes: -1})
	_, before := usageOf(t, dir)
	if before <= budget {
		t.Fatalf("test stored only %d bytes, not over the budget", before)
	}
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	entries, after := usageOf(t, dir)
	if after > budget*9/10 || entries == 0 {
		t.Fatalf("after Trim: %d entries, %d bytes; budget %d", entries, after, budget)
	}
	// Least recently used first: exactly the first `entries` keys survive.
	for i := range n {
		if kept := exists(entryFile(c, testKey{"budget", i})); kept != (i < entries) {
			t.Errorf("key %d kept=%v with %d entries left", i, kept, entries)
		}
	}
	if st := c.Stats(); st.Trims != 1 || st.Trimmed != uint64(n-entries) {
		t.Errorf("stats %+v, want 1 trim of %d files", st, n-entries)
	}
	if !exists(filepath.Join(dir, "test", trimFile)) {
		t.Error("trim.txt not written")
	}
}

func TestTrimAgeTempsAndVersions(t *testing.T) {
	dir := t.TempDir()
	old := open(t, Options{Dir: dir, Version: "old"})
	load(t, old, testKey{"v", 1}, computeSmall)
	old.Close()
	oldDir := old.versionDir
	recent := open(t, Options{Dir: dir, Version: "recent"})
	load(t, recent, testKey{"v", 1}, computeSmall)
	recent.Close()
	recentEntry := entryFile(recent, testKey{"v", 1})
	ageVersion(t, oldDir, oldVersionAge+time.Minute)
	ageVersion(t, recent.versionDir, oldVersionAge-10*time.Minute)

	c := open(t, Options{Dir: dir, Version: "new", MaxAge: 24 * time.Hour, MemoryBytes: -1})
	load(t, c, testKey{"fresh", 1}, computeSmall)
	load(t, c, testKey{"aged", 1}, computeSmall)
	fresh, aged := entryFile(c, testKey{"fresh", 1}), entryFile(c, testKey{"aged", 1})
	setMtime(t, aged, 25*time.Hour)

	shard := filepath.Dir(fresh)
	name := filepath.Base(fresh)
	staleTmp := filepath.Join(shard, name+".tmp123")
	freshTmp := filepath.Join(shard, name+".tmp456")
	foreign := filepath.Join(shard, "notes.txt")
	foreignNS := filepath.Join(dir, "test", "README")
	for _, f := range []string{staleTmp, freshTmp, foreign, foreignNS} {
		if err := os.WriteFile(f, []byte("x"), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	setMtime(t, staleTmp, 2*time.Hour)
	setMtime(t, foreign, 1000*time.Hour)

	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		kept bool
	}{
		{fresh, true}, {aged, false}, {staleTmp, false}, {freshTmp, true}, {foreign, true},
		{foreignNS, true}, {oldDir, false}, {filepath.Join(c.versionDir, versionFile), true},
		{recentEntry, true},
	} {
		if exists(tc.path) != tc.kept {
			t.Errorf("%s: kept=%v, want %v", strings.TrimPrefix(tc.path, dir), !tc.kept, tc.kept)
		}
	}
}

func TestBackgroundTrim(t *testing.T) {
	dir := t.TempDir()
	old := open(t, Options{Dir: dir, Version: "old"})
	load(t, old, testKey{"v", 1}, computeSmall)
	old.Close()
	ageVersion(t, old.versionDir, 3*time.Hour)
	os.Remove(filepath.Join(dir, "test", trimFile)) // as if no trim had run yet

	// The first store of a Cache checks trim.txt: there is none, so it trims. (Close
	// would stop the trim once it is past the budget's work, as the namespace is within
	// its budget: the test waits for it.)
	c, err := Open(Options{Dir: dir, Namespace: "test", Version: "new"})
	if err != nil {
		t.Fatal(err)
	}
	load(t, c, testKey{"v", 1}, computeSmall)
	waitFor(t, func() bool { return !c.trimming.Load() })
	c.Close()
	if st := c.Stats(); st.Trims != 1 || exists(old.versionDir) {
		t.Fatalf("background trim did not run: %+v, old version kept=%v", st, exists(old.versionDir))
	}
	// Another process (here: Cache) finds a recent trim.txt and does not trim.
	c2 := open(t, Options{Dir: dir, Version: "new"})
	load(t, c2, testKey{"v", 2}, computeSmall)
	c2.Close()
	if st := c2.Stats(); st.Trims != 0 {
		t.Errorf("trimmed again within the interval: %+v", st)
	}
	// An old trim.txt makes the next check trim.
	if err := os.WriteFile(filepath.Join(dir, "test", trimFile), []byte("1000\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	c3 := open(t, Options{Dir: dir, Version: "new"})
	load(t, c3, testKey{"v", 3}, computeSmall)
	waitFor(t, func() bool { return !c3.trimming.Load() })
	c3.Close()
	if st := c3.Stats(); st.Trims != 1 {
		t.Errorf("old trim.txt did not trigger a trim: %+v", st)
	}
}

func TestMtimeRefresh(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, Version: "v", MemoryBytes: -1})
	for _, tc := range []struct {
		age       time.Duration
		refreshed bool
	}{{10 * time.Minute, false}, {2 * time.Hour, true}} {
		k := testKey{"mtime", int(tc.age)}
		load(t, c, k, computeSmall)
		path := entryFile(c, k)
		setMtime(t, path, tc.age)
		load(t, c, k, failCompute2(computeSmall))
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if refreshed := time.Since(fi.ModTime()) < time.Minute; refreshed != tc.refreshed {
			t.Errorf("entry %v old: refreshed=%v, want %v", tc.age, refreshed, tc.refreshed)
		}
	}
}

func TestUsageAndClear(t *testing.T) {
	dir := t.TempDir()
	for _, ns := range []string{"a", "b"} {
		c := open(t, Options{Dir: dir, Namespace: ns, Version: "ver-" + ns})
		for i := range 3 {
			load(t, c, testKey{ns, i}, computeSmall)
		}
		c.Flush(context.Background()) // the explainer's records, and their ledger, which the trim takes
		c.Trim()
		c.Close()
	}
	foreign := filepath.Join(dir, "a", "mine.txt")
	os.WriteFile(foreign, nil, 0o666)
	us, err := Usage(dir, "")
	if err != nil || len(us) != 2 {
		t.Fatalf("Usage = %+v, %v", us, err)
	}
	for _, u := range us {
		if u.Entries != 3 || u.Bytes == 0 || u.Version != "ver-"+u.Namespace || u.Oldest.IsZero() {
			t.Errorf("usage %+v", u)
		}
	}
	if us, err := Usage(dir, "b"); err != nil || len(us) != 1 || us[0].Namespace != "b" {
		t.Errorf("Usage(b) = %+v, %v", us, err)
	}
	if _, err := Usage(dir, "../x"); err == nil {
		t.Error("Usage accepted an invalid namespace")
	}

	res, err := Clear(dir, "b")
	// Entries, version.txt, trim.txt, the trim's state, room.txt, CACHEDIR.TAG, the
	// explainer's records.
	if err != nil || res.Files != 3+1+1+1+1+1+1 {
		t.Errorf("Clear(b) = %+v, %v", res, err)
	}
	if exists(filepath.Join(dir, "b")) || !exists(filepath.Join(dir, "a")) {
		t.Error("Clear(b) removed the wrong namespace")
	}
	if _, err := Clear(dir, ""); err != nil {
		t.Fatal(err)
	}
	if !exists(foreign) {
		t.Error("Clear removed a file it does not own")
	}
	des, _ := os.ReadDir(filepath.Join(dir, "a"))
	if len(des) != 2 {
		t.Errorf("left in a: %v, want mine.txt and the tag that keeps a a cache namespace", des)
	}
}

func TestTrimDir(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"v1", "v2"} {
		c := open(t, Options{Dir: dir, Version: v, MemoryBytes: -1})
		for i := range 20 {
			load(t, c, testKey{v, i}, computeLarge)
		}
	}
	res, err := TrimDir(dir, "", 100<<10, 0)
	if err != nil || res.Files == 0 {
		t.Fatalf("TrimDir = %+v, %v", res, err)
	}
	if _, bytes := usageOf(t, dir); bytes > 90<<10 {
		t.Errorf("after TrimDir: %d bytes", bytes)
	}
	// Without a current version, TrimDir keeps both versions' directories.
	if us, _ := Usage(dir, "test"); len(us) != 2 {
		t.Errorf("usage %+v, want two versions", us)
	}
	if _, err := TrimDir(filepath.Join(dir, "missing"), "", 0, 0); err == nil {
		t.Error("TrimDir of a missing directory succeeded")
	}
}

// TestClearWhileOpen: a Cache that stores after Clear emptied its namespace tags it again,
// so that the admin functions still know it for a cache.
func TestClearWhileOpen(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, MemoryBytes: -1})
	load(t, c, testKey{"before", 1}, computeSmall)
	// Clear leaves a namespace it could not empty, tag and all (a record being written);
	// one it empties goes whole, as here.
	waitFor(t, func() bool { return os.RemoveAll(c.root) == nil }) // past the record's writer
	load(t, c, testKey{"after", 1}, computeSmall)
	us, err := Usage(dir, "")
	if err != nil || len(us) != 1 || us[0].Entries != 1 {
		t.Fatalf("Usage = %+v, %v", us, err)
	}
}

// TestRacyListingIsNotTrusted: a shard directory modified within racyDir of the start of
// its listing is listed again by the next trim, however long the listing took: a store in
// the same tick of a coarse file-system clock (emulated by putting the directory's mtime
// back) leaves the mtime as recorded, and must still be seen.
func TestRacyListingIsNotTrusted(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, Version: "v1", MemoryBytes: -1, CompressionLevel: -1})
	sdir := filepath.Join(c.versionDir, "ab")
	if err := os.MkdirAll(sdir, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 { // a listing that takes a few milliseconds
		if err := os.WriteFile(filepath.Join(sdir, "ab"+fmt.Sprintf("%062x", i)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m := time.Now().Add(-racyDir) // the listing starts just within racyDir of it
	os.Chtimes(sdir, m, m)
	const budget = 1 << 20
	trim := func() {
		// The listing's start by a clock that the load of the machine cannot delay past
		// racyDir; read again (after the listing), it is later than that.
		starts := 0
		clock := func() time.Time {
			starts++
			if starts == 1 {
				return m.Add(racyDir - time.Millisecond)
			}
			return m.Add(racyDir + time.Second)
		}
		if _, err := trimNamespace(&trimRun{root: c.root, keep: filepath.Base(c.versionDir), maxBytes: budget, maxAge: DefaultMaxAge, now: time.Now(), clock: clock}); err != nil {
			t.Fatal(err)
		}
	}
	trim()
	// A store after the listing, in the same tick, past the budget.
	big := filepath.Join(sdir, "ab"+strings.Repeat("f", 62))
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(sdir, m, m)
	trim()
	if got := usageOfFiles(t, c.root, true); got > budget {
		t.Fatalf("the store made in the listing's tick was not seen: the namespace takes %d bytes, budget %d", got, budget)
	}
}

// TestTrimAllocsPerEntry: a trim that lists every entry keeps what it found of each in a
// slice per shard directory, not in an allocation per entry: what it allocates per entry is
// the name that the listing returns, and on Linux other than amd64 and arm64 the copy of it
// that unix.Fstatat makes (statAt).
func TestTrimAllocsPerEntry(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if runtime.GOOS != "linux" {
		t.Skip("measured on Linux only")
	}
	want := 2.2
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
		want = 1.2
	}
	c := open(t, Options{Dir: t.TempDir(), MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	allocs := func() float64 {
		// What the stores left to the background (the miss explainer's records, the
		// namespace's first trim) allocates beside the trims counted: counted only once
		// it ended.
		if err := c.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		for c.trimming.Load() {
			time.Sleep(time.Millisecond)
		}
		return testing.AllocsPerRun(3, func() {
			if err := c.Trim(); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Every shard directory is there before the first count: the difference is entries.
	fillDir(t, c, "before", 2000, 64)
	before := allocs()
	const more = 4000
	fillDir(t, c, "after", more, 64)
	per := (allocs() - before) / more
	t.Logf("%.2f allocations per entry", per)
	if per > want {
		t.Errorf("a trim makes %.2f allocations per entry, want at most %.1f", per, want)
	}
	if st := c.Stats(); st.Trimmed != 0 {
		t.Fatalf("the trims removed %d files", st.Trimmed)
	}
}

// TestIsHex: the table of isHex accepts exactly the lowercase hexadecimal digits.
func TestIsHex(t *testing.T) {
	for c := range 256 {
		want := c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
		for _, s := range []string{string([]byte{byte(c)}), "0" + string([]byte{byte(c)}) + "f"} {
			if got := isHex(s, len(s)); got != want {
				t.Errorf("isHex(%q) = %v, want %v", s, got, want)
			}
		}
	}
	if isHex("0123456789abcdef", 15) || !isHex("0123456789abcdef", 16) || isHex("", 1) || !isHex("", 0) {
		t.Error("isHex does not check the length")
	}
}

// TestTrimStateWithHugeCounts: trimstate.txt's counts of files size a shard's listing, as a
// hint: counts that are damaged or lie (past any real directory, past an int) make no trim
// panic nor allocate for them.
func TestTrimStateWithHugeCounts(t *testing.T) {
	for _, count := range []string{"9223372036854775807", "1125899906842624", "2000000"} {
		c := open(t, Options{Dir: t.TempDir(), MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
		fillDir(t, c, "st", 50, 64)
		if err := c.Trim(); err != nil {
			t.Fatal(err)
		}
		name, lines := stateLines(t, c)
		for i, l := range lines {
			if f := strings.Fields(l); len(f) == 7 {
				f[3], f[4] = count, count
				lines[i] = strings.Join(f, " ")
			}
		}
		if err := os.WriteFile(name, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("counts of %s: the trim panicked: %v", count, p)
				}
			}()
			if err := c.trim(true, nil); err != nil {
				t.Fatal(err)
			}
		}()
		runtime.ReadMemStats(&after)
		if a := after.TotalAlloc - before.TotalAlloc; a > 64<<20 {
			t.Errorf("counts of %s: a trim of 50 entries allocated %d bytes", count, a)
		}
	}
}

// TestTrimStateSizesDoNotWrap: sizes in trimstate.txt near the largest int64 (damaged, or
// lying) add up to a huge namespace, not to a negative one within every budget: the trim
// lists every shard directory and brings the namespace within its budget.
func TestTrimStateSizesDoNotWrap(t *testing.T) {
	dir := t.TempDir()
	const budget = 1 << 20
	c := open(t, Options{Dir: dir, MaxBytes: 1 << 40, MemoryBytes: -1, CompressionLevel: -1})
	fillDir(t, c, "big", 600, 64) // 2.4 MiB of blocks
	ageDirs(t, c)
	if err := c.Trim(); err != nil {
		t.Fatal(err)
	}
	name, lines := stateLines(t, c)
	huge := fmt.Sprint(int64(math.MaxInt64/2 + 1))
	for i, l := range lines {
		if f := strings.Fields(l); len(f) == 7 {
			f[5] = "0"
			if i <= 2 {
				f[5] = huge // two of them: their sum wraps
			}
			lines[i] = strings.Join(f, " ")
		}
	}
	if err := os.WriteFile(name, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := trimNamespace(&trimRun{root: c.root, keep: filepath.Base(c.versionDir), maxBytes: budget, maxAge: DefaultMaxAge, now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got := usageOfFiles(t, c.root, true); got > budget {
		t.Fatalf("the namespace takes %d bytes after the trim; budget %d", got, budget)
	}
}

// stateLines returns the name of c's trimstate.txt and its lines.
func stateLines(t *testing.T, c *Cache) (string, []string) {
	t.Helper()
	name := filepath.Join(c.root, stateFile)
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return name, strings.Split(string(b), "\n")
}
