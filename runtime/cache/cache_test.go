package cache

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/klauspost/compress/zstd"
)

// Helper processes: the test binary re-executes itself with helperEnv set to a mode.
const (
	helperEnv    = "CACHEGEN_CACHE_TEST_HELPER"
	helperDirEnv = "CACHEGEN_CACHE_TEST_DIR"
	helperSeed   = "CACHEGEN_CACHE_TEST_SEED"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := runHelper(mode, os.Getenv(helperDirEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helperCommand returns a command that runs the test binary in helper mode.
func helperCommand(t *testing.T, mode, dir string, seed int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDirEnv+"="+dir, helperSeed+"="+strconv.Itoa(seed))
	cmd.Stderr = os.Stderr
	return cmd
}

func computeSmall(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 64), nil }
func computeLarge(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 32<<10), nil }

// failCompute stands for a compute that must not run: the value must come from the cache.
func failCompute(_ context.Context, k testKey) (testValue, error) {
	return testValue{}, fmt.Errorf("computed %v, want a hit", k)
}

func runHelper(mode, dir string) error {
	seed, _ := strconv.Atoi(os.Getenv(helperSeed))
	ctx := context.Background()
	switch mode {
	case "fulldisk": // every write past a few KiB fails, as on a full disk
		return fullDiskChild(dir)
	case "hit": // the entry stored by the parent must be a disk hit
		c, err := Open(Options{Dir: dir, Namespace: "test"})
		if err != nil {
			return err
		}
		defer c.Close()
		v, err := Load(ctx, c, testKey{"shared", 1}, failCompute)
		if err != nil {
			return err
		}
		if want := valueFor(testKey{"shared", 1}, 64); !v.equal(want) {
			return fmt.Errorf("got %v, want %v", v.Name, want.Name)
		}
		if st := c.Stats(); st.DiskHits != 1 || st.Computes != 0 {
			return fmt.Errorf("stats %+v, want one disk hit", st)
		}
		return nil
	case "fdlimit": // many Loads of distinct keys at once, with few files allowed
		return fdLimitChild(dir)
	case "explain": // one Load, explained on stderr
		return explainChild(dir)
	case "shortstore": // store 16 values of 64 KiB in a namespace of 4 MiB, and exit
		c, err := Open(Options{Dir: dir, Namespace: "test", Version: "v1", MaxBytes: 4 << 20, MemoryBytes: -1, CompressionLevel: -1})
		if err != nil {
			return err
		}
		for i := range 16 {
			k := testKey{fmt.Sprint("short", seed), i}
			if _, err := Load(ctx, c, k, func(_ context.Context, k testKey) (testValue, error) {
				time.Sleep(2 * time.Millisecond) // a compute that takes a moment: the processes overlap
				return valueFor(k, 64<<10), nil
			}); err != nil {
				return err
			}
		}
		return c.Close()
	case "shortstoreslow": // store 8 values of 16 KiB in a namespace of 4 MiB, trims slow, and exit
		c, err := Open(Options{Dir: dir, Namespace: "test", Version: "v1", MaxBytes: 4 << 20, MemoryBytes: -1, CompressionLevel: -1})
		if err != nil {
			return err
		}
		slowTrims(c, 0)
		for i := range 8 {
			k := testKey{fmt.Sprint("short", seed), i}
			if _, err := Load(ctx, c, k, func(_ context.Context, k testKey) (testValue, error) {
				time.Sleep(2 * time.Millisecond)
				return valueFor(k, 16<<10), nil
			}); err != nil {
				return err
			}
		}
		err = c.Close()
		st := c.Stats()
		fmt.Printf("stopped %d finished %d\n", st.TrimsStopped, st.Trims)
		return err
	case "trimhang": // start a trim that hangs in its first shard directory, until killed
		c, err := Open(Options{Dir: dir, Namespace: "test", Version: "v1", MemoryBytes: -1})
		if err != nil {
			return err
		}
		c.trimStep = func() {
			fmt.Println("trimming")
			select {}
		}
		return c.Trim()
	case "cancelpanic": // compute cancels its only caller, then panics: someone must see it
		c, err := Open(Options{Dir: dir, Namespace: "test"})
		if err != nil {
			return err
		}
		for i := range 50 {
			ctx, cancel := context.WithCancel(ctx)
			recovered := func() (p any) {
				defer func() { p = recover() }()
				Load(ctx, c, testKey{"cancel", i}, func(context.Context, testKey) (testValue, error) {
					cancel()
					panic("cancel kaboom")
				})
				return nil
			}()
			if recovered == nil {
				time.Sleep(time.Second) // the panic crashes the process before this ends
				return fmt.Errorf("round %d: the panic was lost", i)
			}
		}
		return nil
	case "lostpanic": // every caller gives up, then compute panics: the process must crash
		c, err := Open(Options{Dir: dir, Namespace: "test"})
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(ctx)
		release := make(chan struct{})
		go func() {
			time.Sleep(50 * time.Millisecond)
			cancel()
			time.Sleep(50 * time.Millisecond)
			close(release)
		}()
		_, err = Load(ctx, c, testKey{"lost", 1}, func(context.Context, testKey) (testValue, error) {
			<-release
			panic("lost kaboom")
		})
		if err != context.Canceled {
			return fmt.Errorf("Load returned %v, want context.Canceled", err)
		}
		time.Sleep(2 * time.Second) // the panic crashes the process before this ends
		return nil
	case "writer": // rewrite entries forever, until killed
		c, err := Open(Options{Dir: dir, Namespace: "test", Version: "kill", MemoryBytes: -1})
		if err != nil {
			return err
		}
		r := rand.New(rand.NewPCG(uint64(seed), 1))
		for i := 0; ; i++ {
			k := testKey{"k", r.IntN(killKeys)}
			v := valueFor(k, 16<<10+k.Opt*512)
			raw, _ := v.MarshalMsg(nil)
			mk := memKeyOf[testValue](c, k)
			ek := c.entryKey(&mk)
			if err := c.writeEntry(&ek, mk.vt, raw); err != nil {
				return err
			}
			if i == 0 {
				// The test kills writers at random moments from here on: however
				// slowly a loaded machine starts processes, each has stored once.
				fmt.Println("writing")
			}
		}
	case "hammer": // load random keys, checking every value
		c, err := Open(Options{Dir: dir, Namespace: "test", Version: "hammer", MemoryBytes: 1 << 16})
		if err != nil {
			return err
		}
		defer c.Close()
		r := rand.New(rand.NewPCG(uint64(seed), 2))
		for range 300 {
			k := testKey{"h", r.IntN(40)}
			v, err := Load(ctx, c, k, computeLarge)
			if err != nil {
				return err
			}
			if want, _ := computeLarge(ctx, k); !v.equal(want) {
				return fmt.Errorf("wrong value for %v", k)
			}
		}
		if st := c.Stats(); st.Errors != 0 {
			return fmt.Errorf("stats %+v: errors", st)
		}
		return nil
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

const killKeys = 20

// open opens a Cache that the test closes when it ends.
func open(t *testing.T, opts Options) *Cache {
	t.Helper()
	if opts.Namespace == "" {
		opts.Namespace = "test"
	}
	c, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// load calls Load and fails the test on an error or a wrong value.
func load(t *testing.T, c *Cache, k testKey, compute func(context.Context, testKey) (testValue, error)) testValue {
	t.Helper()
	v, err := Load(context.Background(), c, k, compute)
	if err != nil {
		t.Fatalf("Load(%v): %v", k, err)
	}
	want, _ := compute(context.WithValue(context.Background(), checkingKey{}, true), k)
	if !v.equal(want) {
		t.Fatalf("Load(%v) = %q (%d bytes), want %q", k, v.Name, len(v.Data), want.Name)
	}
	return v
}

// wantStats checks the counters named in want (field=value pairs) against c's.
func wantStats(t *testing.T, c *Cache, want map[string]uint64) {
	t.Helper()
	st := c.Stats()
	got := map[string]uint64{
		"Hits": st.Hits, "Misses": st.Misses, "Errors": st.Errors, "MemoryHits": st.MemoryHits,
		"DiskHits": st.DiskHits, "Computes": st.Computes, "Stores": st.Stores, "Corrupt": st.Corrupt,
		"Shared": st.Shared, "ComputeErrors": st.ComputeErrors,
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("unknown counter %s", k)
		}
		if g != w {
			t.Errorf("Stats.%s = %d, want %d (all: %+v)", k, g, w, st)
		}
	}
}

func TestMissThenHit(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir})
	base := testKey{"main.go", 2}
	load(t, c, base, computeLarge)
	wantStats(t, c, map[string]uint64{"Misses": 1, "Hits": 0, "Computes": 1, "Stores": 1})
	load(t, c, base, computeLarge)
	wantStats(t, c, map[string]uint64{"Misses": 1, "Hits": 1, "MemoryHits": 1, "Computes": 1})

	// A new Cache on the same directory finds the entry on disk, then in memory.
	c2 := open(t, Options{Dir: dir})
	load(t, c2, base, failCompute2(computeLarge))
	load(t, c2, base, failCompute2(computeLarge))
	wantStats(t, c2, map[string]uint64{"Hits": 2, "DiskHits": 1, "MemoryHits": 1, "Computes": 0, "Misses": 0})

	// Changing any one key field is a miss (cf. wasmtime's cache_accounts_for_opt_level).
	for _, k := range []testKey{{"main.go", 3}, {"main.go", 0}, {"main.go ", 2}, {"Main.go", 2}, {"", 2}} {
		t.Run(fmt.Sprintf("%q/%d", k.Name, k.Opt), func(t *testing.T) {
			before := c2.Stats().Computes
			load(t, c2, k, computeLarge)
			if got := c2.Stats().Computes - before; got != 1 {
				t.Errorf("key %v computed %d times, want 1 (a miss)", k, got)
			}
		})
	}
}

// failCompute2 returns a compute function that fails, but whose results the test compares
// against want's: load checks the value with want.
func failCompute2(want func(context.Context, testKey) (testValue, error)) func(context.Context, testKey) (testValue, error) {
	return func(ctx context.Context, k testKey) (testValue, error) {
		if ctx.Value(checkingKey{}) != nil {
			return want(ctx, k)
		}
		return testValue{}, fmt.Errorf("computed %v, want a hit", k)
	}
}

type checkingKey struct{}

func TestIdentity(t *testing.T) {
	dir := t.TempDir()
	k := testKey{"x", 1}
	a := open(t, Options{Dir: dir, Version: "a"})
	load(t, a, k, computeSmall)

	// Another value type under the same key is a miss.
	o, err := Load(context.Background(), a, k, func(_ context.Context, k testKey) (otherValue, error) {
		return otherValue{S: "other " + k.Name}, nil
	})
	if err != nil || o.S != "other x" {
		t.Fatalf("Load otherValue = %v, %v", o, err)
	}
	wantStats(t, a, map[string]uint64{"Computes": 2, "Hits": 0})

	// Another version is a miss; the same version is a hit.
	b := open(t, Options{Dir: dir, Version: "b"})
	load(t, b, k, computeSmall)
	wantStats(t, b, map[string]uint64{"Computes": 1})
	a2 := open(t, Options{Dir: dir, Version: "a"})
	load(t, a2, k, failCompute2(computeSmall))
	wantStats(t, a2, map[string]uint64{"DiskHits": 1, "Computes": 0})
}

func TestSecondProcess(t *testing.T) {
	dir := t.TempDir()
	c := open(t, Options{Dir: dir, Namespace: "test"}) // version from the build: the test binary's hash
	load(t, c, testKey{"shared", 1}, computeSmall)
	if out, err := helperCommand(t, "hit", dir, 0).Output(); err != nil {
		t.Fatalf("second process: %v\n%s", err, out)
	}
}

func TestBuildVersion(t *testing.T) {
	v := buildVersion()
	if v == "" || v != buildVersion() {
		t.Fatalf("buildVersion() = %q, not stable", v)
	}
	// The test binary is a development build: its version includes the executable's hash.
	h := executableHash()
	if !strings.Contains(v, h) || strings.HasPrefix(h, "unreadable") {
		t.Errorf("buildVersion() = %q, want it to contain the executable hash %s", v, h)
	}
}

// damage is a way of spoiling an entry file.
type damage struct {
	name string
	f    func(t *testing.T, path string, data []byte) []byte
}

func flip(off int) func(*testing.T, string, []byte) []byte {
	return func(t *testing.T, _ string, b []byte) []byte {
		at := off
		if at < 0 {
			at += len(b)
		}
		b[at] ^= 0x40
		return b
	}
}

var damages = []damage{
	{"empty", func(*testing.T, string, []byte) []byte { return nil }},
	{"one byte", func(_ *testing.T, _ string, b []byte) []byte { return b[:1] }},
	{"header only", func(_ *testing.T, _ string, b []byte) []byte { return b[:headerSize] }},
	{"truncated half", func(_ *testing.T, _ string, b []byte) []byte { return b[:len(b)/2] }},
	{"truncated last byte", func(_ *testing.T, _ string, b []byte) []byte { return b[:len(b)-1] }},
	{"trailing byte", func(_ *testing.T, _ string, b []byte) []byte { return append(b, 0) }},
	{"flip magic", flip(0)},
	{"flip format version", flip(8)},
	{"flip codec", flip(10)},
	{"flip reserved", flip(11)},
	{"flip type length", flip(12)},
	{"flip digest", flip(20)},
	{"flip raw size", flip(49)},
	{"flip stored size", flip(57)},
	{"flip checksum", flip(65)},
	{"flip type name", flip(headerSize + 3)},
	{"flip payload start", flip(-100)},
	{"flip payload end", flip(-1)},
	{"garbage", func(_ *testing.T, _ string, b []byte) []byte {
		r := rand.New(rand.NewPCG(1, 2))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}},
	{"garbage with our header", func(_ *testing.T, _ string, b []byte) []byte {
		r := rand.New(rand.NewPCG(3, 4))
		for i := headerSize + 40; i < len(b); i++ {
			b[i] = byte(r.Uint32())
		}
		return b
	}},
	{"other value type", func(t *testing.T, path string, _ []byte) []byte {
		// A valid entry of otherValue under the same key, copied over this one.
		c := open(t, Options{Dir: t.TempDir(), Version: "damage"})
		k := testKey{"damaged", 7}
		if _, err := Load(context.Background(), c, k, func(context.Context, testKey) (otherValue, error) {
			return otherValue{S: strings.Repeat("o", 300)}, nil
		}); err != nil {
			t.Fatal(err)
		}
		mk := memKeyOf[otherValue](c, k)
		ek := c.entryKey(&mk)
		b, err := os.ReadFile(c.entryPath(&ek))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}},
	{"another key's entry", func(t *testing.T, path string, _ []byte) []byte {
		c := open(t, Options{Dir: t.TempDir(), Version: "damage", MemoryBytes: -1})
		k := testKey{"damaged", 8}
		load(t, c, k, computeLarge)
		return readEntryFile(t, c, k)
	}},
}

// entryFile returns the path of k's testValue entry in c.
func entryFile(c *Cache, k testKey) string { return entryFileOf[testValue](c, k) }

// entryFileOf returns the path of k's entry for value type V in c.
func entryFileOf[V any](c *Cache, k testKey) string {
	mk := memKeyOf[V](c, k)
	ek := c.entryKey(&mk)
	return c.entryPath(&ek)
}

// memKeyOf returns k's memory key for value type V in c.
func memKeyOf[V any, K keyhash.Key](c *Cache, k K) memKey {
	return memKey{d: keyhash.Sum(k), vt: valueTypeOf[K, V](c)}
}

func readEntryFile(t *testing.T, c *Cache, k testKey) []byte {
	t.Helper()
	b, err := os.ReadFile(entryFile(c, k))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDamagedEntries(t *testing.T) {
	computeHuge := func(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 100<<10), nil }
	computeTwoMiB := func(_ context.Context, k testKey) (testValue, error) { return valueFor(k, 2<<20), nil }
	for _, size := range []struct {
		name    string
		compute func(context.Context, testKey) (testValue, error)
		level   int
		codec   byte
	}{
		{"small/raw", computeSmall, 0, codecRaw},
		{"large/raw", computeLarge, 0, codecRaw},
		{"large/s2", computeRepetitive, 0, codecS2},
		{"large/zstd", computeLarge, 3, codecZstd},
		{"huge/raw", computeHuge, -1, codecRaw}, // read header first, written in two parts
		{"huge/zstd", computeHuge, 1, codecZstd},
		{"2MiB/raw", computeTwoMiB, 0, codecRaw}, // its checksum taken while it is written
	} {
		for _, d := range damages {
			t.Run(size.name+"/"+d.name, func(t *testing.T) {
				dir := t.TempDir()
				opts := Options{Dir: dir, Version: "damage", MemoryBytes: -1, CompressionLevel: size.level}
				k := testKey{"damaged", 7}
				c := open(t, opts)
				c.codec.waitZstd()
				load(t, c, k, size.compute)
				path := entryFile(c, k)
				good := readEntryFile(t, c, k)
				if good[codecOffset] != size.codec {
					t.Fatalf("entry of codec %d, want %d", good[codecOffset], size.codec)
				}
				bad := d.f(t, path, bytes.Clone(good))
				if bytes.Equal(bad, good) {
					t.Fatal("damage changed nothing")
				}
				if err := os.WriteFile(path, bad, 0o666); err != nil {
					t.Fatal(err)
				}

				c2 := open(t, opts)
				c2.codec.waitZstd()
				load(t, c2, k, size.compute)
				wantStats(t, c2, map[string]uint64{"Corrupt": 1, "Computes": 1, "Errors": 0, "Stores": 1})
				if got, _ := os.ReadFile(path); !bytes.Equal(got, good) {
					t.Errorf("entry not repaired: %d bytes, want %d", len(got), len(good))
				}
				load(t, c2, k, failCompute2(size.compute))
				wantStats(t, c2, map[string]uint64{"DiskHits": 1, "Computes": 1})
			})
		}
	}
}

func TestKilledWriters(t *testing.T) {
	dir := t.TempDir()
	deadline := time.Now().Add(3 * time.Second)
	r := rand.New(rand.NewPCG(7, 7))
	kills := 0
	for i := 0; time.Now().Before(deadline) && i < 40; i++ {
		var cmds []*exec.Cmd
		var started []io.ReadCloser
		for j := range 3 {
			cmd := helperCommand(t, "writer", dir, i*10+j)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds, started = append(cmds, cmd), append(started, out)
		}
		for _, out := range started {
			line := make([]byte, len("writing\n"))
			if _, err := io.ReadFull(out, line); err != nil {
				t.Fatalf("writer did not start writing: %v", err)
			}
		}
		time.Sleep(time.Duration(r.IntN(60)) * time.Millisecond)
		for _, cmd := range cmds {
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != -1 {
				t.Fatalf("writer ended with %v before it was killed", err)
			}
			kills++
		}
	}
	c := open(t, Options{Dir: dir, Version: "kill", MemoryBytes: -1})
	for k := range killKeys {
		key := testKey{"k", k}
		v, err := Load(context.Background(), c, key, func(_ context.Context, k testKey) (testValue, error) {
			return valueFor(k, 16<<10+k.Opt*512), nil
		})
		if want := valueFor(key, 16<<10+k*512); err != nil || !v.equal(want) {
			t.Fatalf("after killed writers, Load(%v) = %q, %v; want %q", key, v.Name, err, want.Name)
		}
	}
	st := c.Stats()
	t.Logf("%d writers killed; verifier stats %+v", kills, st)
	if st.DiskHits == 0 {
		t.Errorf("no disk hits: the writers stored nothing, the test proves nothing")
	}
	if st.Corrupt != 0 || st.Errors != 0 {
		t.Errorf("killed writers left corrupt entries or errors: %+v", st)
	}
}

func TestSingleFlight(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir()})
	var calls atomic.Int32
	release, releaseAll := releaser(t)
	compute := func(_ context.Context, k testKey) (testValue, error) {
		calls.Add(1)
		<-release
		return valueFor(k, 1000), nil
	}
	const n = 32
	var wg sync.WaitGroup
	vals := make([]testValue, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			vals[i], errs[i] = Load(context.Background(), c, testKey{"once", 1}, compute)
		})
	}
	waitFor(t, func() bool { return c.Stats().Shared == n-1 })
	releaseAll()
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("compute ran %d times, want 1", calls.Load())
	}
	want := valueFor(testKey{"once", 1}, 1000)
	for i := range n {
		if errs[i] != nil || !vals[i].equal(want) {
			t.Fatalf("Load %d = %q, %v", i, vals[i].Name, errs[i])
		}
	}
	// Every caller got its own value.
	vals[0].Data[0] ^= 0xff
	for i := 1; i < n; i++ {
		if vals[i].Data[0] == vals[0].Data[0] {
			t.Fatalf("callers 0 and %d share a value", i)
		}
	}
	wantStats(t, c, map[string]uint64{"Misses": n, "Computes": 1})
}

// releaser returns a channel that blocked computations wait on and a function that closes
// it, which also runs when the test ends, so that a failing test does not leave Close
// waiting for them forever.
func releaser(t *testing.T) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return ch, release
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatal("condition not reached")
		}
	}
}

func TestCancelledCaller(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir()})
	started := make(chan struct{})
	release, releaseAll := releaser(t)
	computeErr := make(chan error, 1)
	compute := func(ctx context.Context, k testKey) (testValue, error) {
		close(started)
		<-release
		computeErr <- ctx.Err()
		return valueFor(k, 100), nil
	}
	k := testKey{"cancel", 1}
	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() {
		_, err := Load(ctxA, c, k, compute)
		errA <- err
	}()
	<-started
	type result struct {
		v   testValue
		err error
	}
	resB := make(chan result, 1)
	go func() {
		v, err := Load(context.Background(), c, k, compute)
		resB <- result{v, err}
	}()
	waitFor(t, func() bool { return c.Stats().Shared == 1 })
	cancelA()
	select {
	case err := <-errA:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Load returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled Load did not return")
	}
	releaseAll()
	r := <-resB
	if r.err != nil || !r.v.equal(valueFor(k, 100)) {
		t.Fatalf("other Load = %q, %v", r.v.Name, r.err)
	}
	if err := <-computeErr; err != nil {
		t.Errorf("compute's context was cancelled: %v", err)
	}
	// The computation was stored.
	load(t, c, k, func(context.Context, testKey) (testValue, error) { return valueFor(k, 100), nil })
	wantStats(t, c, map[string]uint64{"Computes": 1, "MemoryHits": 1})
}

func TestHammerProcesses(t *testing.T) {
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for i := range 4 {
		cmd := helperCommand(t, "hammer", dir, i)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v", i, err)
		}
	}
	us, err := Usage(dir, "test")
	if err != nil || len(us) != 1 || us[0].Entries != 40 {
		t.Errorf("Usage = %+v, %v; want 40 entries", us, err)
	}
}

// logCounter counts log records.
type logCounter struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logCounter) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.msgs = append(l.msgs, string(p))
		return len(p), nil
	}), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestUnusableDirectory(t *testing.T) {
	asRoot := os.Geteuid() == 0
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns Options.Dir
		after func(t *testing.T, c *Cache)
	}{
		{"under a regular file", func(t *testing.T) string {
			f := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(f, nil, 0o666); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(f, "cache")
		}, func(t *testing.T, c *Cache) {
			if c.Dir() != "" {
				t.Errorf("Dir() = %q, want the disk tier disabled", c.Dir())
			}
		}},
		{"read-only", func(t *testing.T) string { return t.TempDir() }, func(t *testing.T, c *Cache) {
			vdir := c.versionDir
			if asRoot {
				// chmod does not stop root: occupy every shard directory's name with a
				// regular file instead, so that no entry can be written.
				t.Log("running as root: making the directory unwritable with files in the way")
				for i := range 256 {
					if err := os.WriteFile(filepath.Join(vdir, fmt.Sprintf("%02x", i)), nil, 0o444); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				if err := os.Chmod(vdir, 0o555); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Chmod(vdir, 0o755) })
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logCounter
			c := open(t, Options{Dir: tt.setup(t), Logger: logs.logger(), MemoryBytes: -1})
			tt.after(t, c)
			for i := range 3 {
				load(t, c, testKey{"ro", i}, computeLarge)
			}
			if err := c.Trim(); err != nil && c.Dir() == "" {
				t.Errorf("Trim without a disk tier: %v", err)
			}
			st := c.Stats()
			if st.Errors == 0 || st.Computes != 3 {
				t.Errorf("stats %+v, want errors and 3 computes", st)
			}
			if len(logs.msgs) != 1 {
				t.Errorf("logged %d times, want once: %q", len(logs.msgs), logs.msgs)
			}
		})
	}
}

func TestMutatingResultIsHarmless(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir()})
	k := testKey{"mut", 1}
	v := load(t, c, k, computeSmall)
	v.Data[0] ^= 0xff
	v.Name = "changed"
	v2 := load(t, c, k, computeSmall) // memory hit
	v2.Data[1] ^= 0xff
	load(t, c, k, computeSmall)
	wantStats(t, c, map[string]uint64{"MemoryHits": 2})
}

var errBoom = errors.New("boom")

func TestComputeError(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir()})
	failing := func(context.Context, testKey) (testValue, error) { return testValue{}, errBoom }
	for range 2 {
		if _, err := Load(context.Background(), c, testKey{"err", 1}, failing); err != errBoom {
			t.Fatalf("Load returned %v, want compute's error unchanged", err)
		}
	}
	wantStats(t, c, map[string]uint64{"Computes": 2, "ComputeErrors": 2, "Stores": 0, "Errors": 0})
}

func TestComputePanic(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir()})
	defer func() {
		p := recover()
		if fp, ok := p.(*PanicError); !ok || fp.Value != "kaboom" || !strings.Contains(fp.Error(), "TestComputePanic") {
			t.Errorf("recovered %v, want compute's panic with the stack where it panicked", p)
		}
		load(t, c, testKey{"panic", 1}, computeSmall) // the flight is gone: computes again
	}()
	Load(context.Background(), c, testKey{"panic", 1}, func(context.Context, testKey) (testValue, error) {
		panic("kaboom")
	})
}

// TestComputePanicUnwraps: a compute that panics with an error (a sentinel such as io.EOF)
// is seen by its callers through errors.Is.
func TestComputePanicUnwraps(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir()})
	defer func() {
		err, ok := recover().(error)
		if !ok || !errors.Is(err, io.EOF) {
			t.Errorf("recovered %v, want an error that unwraps to io.EOF", err)
		}
	}()
	Load(context.Background(), c, testKey{"panic", 2}, func(context.Context, testKey) (testValue, error) {
		panic(io.EOF)
	})
}

func TestNilAndClosedCache(t *testing.T) {
	load(t, nil, testKey{"nil", 1}, computeSmall)
	c, err := Open(Options{Dir: t.TempDir(), Namespace: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	load(t, c, testKey{"closed", 1}, computeSmall)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenOptions(t *testing.T) {
	for _, ns := range []string{"../x", "a/b", ".hidden", strings.Repeat("n", 65), "sp ace"} {
		if _, err := Open(Options{Dir: t.TempDir(), Namespace: ns}); err == nil {
			t.Errorf("Open with namespace %q succeeded", ns)
		}
	}
	if _, err := Open(Options{Dir: t.TempDir(), CompressionLevel: 23}); err == nil {
		t.Error("Open with compression level 23 succeeded")
	}
	c, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if filepath.Base(c.Dir()) != DefaultNamespace {
		t.Errorf("Dir() = %q, want the default namespace", c.Dir())
	}
}

func TestDefaultDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	if got := DefaultDir(); got != filepath.Join(home, "cachegen") {
		t.Errorf("DefaultDir() = %q, want it under XDG_CACHE_HOME", got)
	}
	// An unusable user cache directory falls back to the temporary directory.
	f := filepath.Join(home, "file")
	os.WriteFile(f, nil, 0o666)
	t.Setenv("XDG_CACHE_HOME", f)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	if got := DefaultDir(); got != filepath.Join(tmp, "cachegen-"+userTag()) {
		t.Errorf("DefaultDir() = %q, want this user's under the temporary directory", got)
	}
	c := open(t, Options{})
	load(t, c, testKey{"default dir", 1}, computeSmall)
	if !strings.HasPrefix(c.Dir(), tmp) || c.Stats().Errors != 0 {
		t.Errorf("Dir() = %q, stats %+v", c.Dir(), c.Stats())
	}
}

// TestCompressionLevels: each level stores with its codec, when the value compresses enough
// for it, and the entry is a hit for another Cache. computeLarge's random opcodes shrink by
// entropy coding (zstd), not by repeats (s2, which must save a quarter); computeRepetitive's
// text shrinks with both.
func TestCompressionLevels(t *testing.T) {
	for _, tc := range []struct {
		level   int
		compute func(context.Context, testKey) (testValue, error)
		codec   byte
	}{
		{-1, computeLarge, codecRaw}, {-1, computeRepetitive, codecRaw},
		{0, computeLarge, codecRaw}, {0, computeRepetitive, codecS2},
		{1, computeLarge, codecZstd}, {3, computeLarge, codecZstd},
		{7, computeRepetitive, codecZstd}, {19, computeLarge, codecZstd},
	} {
		t.Run(fmt.Sprint(tc.level, "/", tc.codec), func(t *testing.T) {
			opts := Options{Dir: t.TempDir(), CompressionLevel: tc.level, MemoryBytes: -1}
			c := open(t, opts)
			if tc.level > 0 {
				c.codec.waitZstd() // the first stores use s2 until it is made
			}
			k := testKey{"level", tc.level}
			load(t, c, k, tc.compute)
			b := readEntryFile(t, c, k)
			raw := uint64(len(b) - headerSize - int(binary.LittleEndian.Uint16(b[12:])))
			if b[codecOffset] != tc.codec || (tc.codec == codecRaw) != (raw == binary.LittleEndian.Uint64(b[48:])) {
				t.Errorf("level %d: codec %d, %d bytes of payload for %d raw; want codec %d", tc.level, b[codecOffset], raw, binary.LittleEndian.Uint64(b[48:]), tc.codec)
			}
			load(t, open(t, opts), k, failCompute2(tc.compute))
		})
	}
}

// computeRepetitive computes a value of 32 KiB of text: words repeated in varying order.
func computeRepetitive(_ context.Context, k testKey) (testValue, error) {
	v := valueFor(k, 32<<10)
	words := []string{"load ", "store ", "the ", "cache ", "entry ", "of ", "a ", "key "}
	v.Data = v.Data[:0]
	for i := 0; len(v.Data) < 32<<10; i++ {
		v.Data = append(v.Data, words[(i*i+k.Opt+8)%len(words)]...)
	}
	return v, nil
}

func TestMaxEntryBytes(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MaxEntryBytes: 1 << 10})
	load(t, c, testKey{"big", 1}, computeLarge)
	load(t, c, testKey{"small", 1}, computeSmall)
	wantStats(t, c, map[string]uint64{"Stores": 1, "Errors": 0})
}

func TestMemoryTier(t *testing.T) {
	var evicted atomic.Uint64
	m := newMemory(memShards*1000, &evicted)
	key := func(i int) memKey { return memKey{d: keyhash.Sum(testKey{"m", i})} }
	// Fill far past the budget; each shard keeps at most 1000 bytes.
	for i := range 200 {
		m.put(key(i), make([]byte, 100))
	}
	for i := range m.shards {
		if s := &m.shards[i]; s.bytes > s.max || s.bytes != int64(len(s.m))*(100+memEntryOverhead) {
			t.Errorf("shard %d holds %d bytes in %d entries, max %d", i, s.bytes, len(s.m), s.max)
		}
	}
	if evicted.Load() == 0 {
		t.Error("nothing evicted")
	}
	// The most recent entry of a shard survives.
	if _, ok := m.get(key(199)); !ok {
		t.Error("most recent entry evicted")
	}
	if newMemory(0, &evicted) != nil || newMemory(-1, &evicted) != nil {
		t.Error("a non-positive budget must disable the memory tier")
	}
	// Values over half a shard are not kept.
	m.put(key(500), make([]byte, 600))
	if _, ok := m.get(key(500)); ok {
		t.Error("oversized value kept")
	}
	m.remove(key(199))
	if _, ok := m.get(key(199)); ok {
		t.Error("removed entry still there")
	}
}

// TestMemoryRecency checks that a get makes an entry the most recent of its shard: the next
// eviction takes the entry after it instead.
func TestMemoryRecency(t *testing.T) {
	var evicted atomic.Uint64
	// Four entries of 100 bytes a shard. Every key below is in shard 0.
	m := newMemory(memShards*4*(100+memEntryOverhead), &evicted)
	key := func(i byte) memKey { return memKey{d: keyhash.Digest{0, i}} }
	for i := range byte(4) {
		m.put(key(i), make([]byte, 100))
	}
	if _, ok := m.get(key(0)); !ok {
		t.Fatal("entry 0 evicted before the shard was full")
	}
	m.put(key(4), make([]byte, 100))
	if _, ok := m.get(key(0)); !ok {
		t.Error("the entry just read was evicted")
	}
	if _, ok := m.get(key(1)); ok {
		t.Error("the least recently used entry was kept")
	}
}

func TestDecodeBounds(t *testing.T) {
	c := open(t, Options{Dir: t.TempDir(), MaxEntryBytes: 1 << 20})
	cd := &c.codec
	var ek entryKey
	ek[0] = 1
	raw := bytes.Repeat([]byte{0}, 4<<20) // compresses to almost nothing
	b := mustEncode(t, zstdCodecs(t, 3, 1<<20), &ek, "T", raw)
	if len(b) > 2<<10 {
		t.Fatalf("test data did not compress: %d bytes", len(b))
	}
	if _, err := decodeEntry(cd, b, &ek, "T", 1<<20); err != errMalformed {
		t.Errorf("entry over the size bound: %v, want errMalformed", err)
	}
	// A header that lies about the raw size (with a valid checksum) is caught by the size
	// the zstd frame announces.
	small := mustEncode(t, zstdCodecs(t, 3, 1<<20), &ek, "T", raw[:1<<10])
	lying := bytes.Clone(b)
	finishEntry(lying, 1<<10)
	if _, err := decodeEntry(cd, lying, &ek, "T", 8<<20); err != errMalformed {
		t.Errorf("lying raw size: %v, want errMalformed", err)
	}
	// A frame that announces no size (a streaming encoder's) under the same lie cannot make
	// the decoder write more than the header announced, even when its memory bound is far
	// above the frame's size.
	roomy := &open(t, Options{Dir: t.TempDir(), MaxEntryBytes: 64 << 20}).codec
	var stream bytes.Buffer
	zw, err := zstd.NewWriter(&stream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	unsized := append(appendHeader(nil, codecZstd, &ek, "T"), stream.Bytes()...)
	finishEntry(unsized, 1<<10)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = decodeEntry(roomy, unsized, &ek, "T", 8<<20)
	runtime.ReadMemStats(&after)
	if err != errMalformed {
		t.Errorf("unsized frame under a lying raw size: %v, want errMalformed", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("decoding an unsized frame of %d bytes announced as %d allocated %d bytes", len(raw), 1<<10, n)
	}
	if got, err := decodeEntry(cd, small, &ek, "T", 8<<20); err != nil || len(got) != 1<<10 {
		t.Errorf("valid entry: %d bytes, %v", len(got), err)
	}
}

func TestClosedWaitsForFlights(t *testing.T) {
	c, err := Open(Options{Dir: t.TempDir(), Namespace: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	release, releaseAll := releaser(t)
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		_, err := Load(ctx, c, testKey{"close", 1}, func(_ context.Context, k testKey) (testValue, error) {
			<-release
			return valueFor(k, 10), nil
		})
		done <- err
	}()
	waitFor(t, func() bool { c.flightMu.Lock(); defer c.flightMu.Unlock(); return len(c.flights) == 1 })
	cancel()
	<-done
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a computation was running")
	case <-time.After(50 * time.Millisecond):
	}
	releaseAll()
	<-closed
	if st := c.Stats(); st.Stores != 1 {
		t.Errorf("the detached computation was not stored: %+v", st)
	}
}
