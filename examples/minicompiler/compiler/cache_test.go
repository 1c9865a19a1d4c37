package compiler

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

// wrapSrc prints results that differ between the targets, with loops and branches for the
// optimizer to work on.
const wrapSrc = `// overflow
let x = 2147483647;
let i = 0;
let debug = 0;
while i < 3 {
    x = x + 1;
    if debug { print "x", x; }
    i = i + 1;
}
print "x =", x, "even", x % 2 == 0;
`

const (
	wrap64 = "x = 2147483650 even 1\n"
	wrap32 = "x = -2147483646 even 1\n"
)

func openCache(t *testing.T, dir string) *cache.Cache {
	t.Helper()
	c, err := cache.Open(cache.Options{Dir: dir, Namespace: "minicompiler-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestCacheSeparatesOptions is the wasmtime -O bug, which must not happen: every option that
// changes the program is a different entry, and each entry runs as compiled.
func TestCacheSeparatesOptions(t *testing.T) {
	ctx := context.Background()
	c := openCache(t, t.TempDir())
	base := Options{File: "wrap.mc", Source: wrapSrc}
	with := func(f func(*Options)) Options {
		o := base
		f(&o)
		return o
	}
	o0 := with(func(o *Options) { o.OptLevel = 0 })
	o1 := with(func(o *Options) { o.OptLevel = 1 })
	o2 := with(func(o *Options) { o.OptLevel = 2 })
	o2vm32 := with(func(o *Options) { o.OptLevel = 2; o.Target = VM32 })
	o2g := with(func(o *Options) { o.OptLevel = 2; o.Debug = true })
	o2file := with(func(o *Options) { o.OptLevel = 2; o.File = "other.mc" })
	o2src := with(func(o *Options) { o.OptLevel = 2; o.Source += "print 1;\n" })

	steps := []struct {
		name string
		opts Options
		hit  bool
		want string
	}{
		{"-O0", o0, false, wrap64},
		{"-O2 after -O0", o2, false, wrap64},
		{"-O2 again", o2, true, wrap64},
		{"-O0 again", o0, true, wrap64},
		{"-O1", o1, false, wrap64},
		{"-O2 -target vm32", o2vm32, false, wrap32},
		{"-O2 -target vm32 again", o2vm32, true, wrap32},
		{"-O2 -g", o2g, false, wrap64},
		{"-O2 -g again", o2g, true, wrap64},
		{"-O2 another file name", o2file, false, wrap64},
		{"-O2 another source", o2src, false, wrap64 + "1\n"},
		{"-O2 once more", o2, true, wrap64},
	}
	for _, s := range steps {
		p, hit, err := Build(ctx, c, s.opts)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if hit != s.hit {
			t.Errorf("%s: hit %v, want %v (stats %+v)", s.name, hit, s.hit, c.Stats())
		}
		if p.OptLevel != s.opts.OptLevel || p.Target != s.opts.Target || (p.Debug != nil) != s.opts.Debug {
			t.Errorf("%s: got a program for -O%d %v debug %v", s.name, p.OptLevel, p.Target, p.Debug != nil)
		}
		if s.opts.Debug && p.Debug.File != s.opts.File {
			t.Errorf("%s: debug info for file %q", s.name, p.Debug.File)
		}
		var out bytes.Buffer
		if _, err := p.Run(&out, 1e6); err != nil || out.String() != s.want {
			t.Errorf("%s: printed %q (error %v), want %q", s.name, out.String(), err, s.want)
		}
	}
	st := c.Stats()
	if st.Computes != 7 || st.Hits != 5 || st.Stores != 7 || st.Errors != 0 {
		t.Errorf("stats %+v: want 7 computes and stores, 5 hits, no errors", st)
	}

	// The levels really are different programs.
	p0, _, _ := Build(ctx, c, o0)
	p2, _, _ := Build(ctx, c, o2)
	if bytes.Equal(p0.Code, p2.Code) {
		t.Error("-O0 and -O2 programs have the same code")
	}
}

// TestCacheSharedThroughDisk opens a second cache on the same directory, as another process
// would: it finds the program the first one stored.
func TestCacheSharedThroughDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{OptLevel: 2, File: "wrap.mc", Source: wrapSrc}
	if _, hit, err := Build(ctx, openCache(t, dir), opts); err != nil || hit {
		t.Fatalf("first build: hit %v, error %v", hit, err)
	}
	c2 := openCache(t, dir)
	p, hit, err := Build(ctx, c2, opts)
	if err != nil || !hit || c2.Stats().DiskHits != 1 {
		t.Fatalf("second cache: hit %v, error %v, stats %+v; want a disk hit", hit, err, c2.Stats())
	}
	var out bytes.Buffer
	if _, err := p.Run(&out, 1e6); err != nil || out.String() != wrap64 {
		t.Errorf("printed %q (error %v), want %q", out.String(), err, wrap64)
	}
	opts.OptLevel = 1
	if _, hit, _ := Build(ctx, c2, opts); hit {
		t.Error("-O1 hit the -O2 entry")
	}
}

// TestCompileErrorsAreNotCached checks that a failed compile is retried, and that its error
// keeps its type and position through the cache.
func TestCompileErrorsAreNotCached(t *testing.T) {
	c := openCache(t, t.TempDir())
	opts := Options{OptLevel: 2, File: "bad.mc", Source: "let a = 1;\nprint a +;"}
	for range 2 {
		_, hit, err := Build(context.Background(), c, opts)
		var cerr *Error
		if !errors.As(err, &cerr) || cerr.Pos != (Pos{2, 10}) || hit {
			t.Fatalf("error %v, hit %v; want a compile error at 2:10", err, hit)
		}
	}
	if st := c.Stats(); st.Computes != 2 || st.Stores != 0 {
		t.Errorf("stats %+v: want 2 computes, no store", st)
	}
}

// TestBuildWithoutCache checks that a nil cache compiles.
func TestBuildWithoutCache(t *testing.T) {
	p, hit, err := Build(context.Background(), nil, Options{Source: "print 6 * 7;"})
	if err != nil || hit || p.CompilerVersion != Version {
		t.Fatalf("Build: %+v, hit %v, error %v", p, hit, err)
	}
}

// TestKeyCoversEveryField changes each field of Options in turn: every change must change
// the key. A field added to Options without a case here fails the test.
func TestKeyCoversEveryField(t *testing.T) {
	base := Options{CompilerVersion: Version, OptLevel: 1, Target: VM64, File: "a.mc", Source: "print 1;"}
	changes := map[string]func(*Options){
		"CompilerVersion": func(o *Options) { o.CompilerVersion = "minicompiler/9.9.9" },
		"OptLevel":        func(o *Options) { o.OptLevel = 2 },
		"Target":          func(o *Options) { o.Target = VM32 },
		"Debug":           func(o *Options) { o.Debug = true },
		"File":            func(o *Options) { o.File = "b.mc" },
		"Source":          func(o *Options) { o.Source = "print 2;" },
	}
	seen := map[keyhash.Digest]string{keyhash.Sum(base): "base"}
	typ := reflect.TypeFor[Options]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		change, ok := changes[name]
		if !ok {
			t.Errorf("Options.%s has no case in this test", name)
			continue
		}
		o := base
		change(&o)
		d := keyhash.Sum(o)
		if prev, dup := seen[d]; dup {
			t.Errorf("changing %s gives the key of %s", name, prev)
		}
		seen[d] = name
	}
}

// TestCompileIsDeterministic checks what caching relies on: the same options give the same
// program, to the last field.
func TestCompileIsDeterministic(t *testing.T) {
	for _, target := range targets {
		opts := Options{CompilerVersion: Version, OptLevel: 2, Target: target, Debug: true, File: "wrap.mc", Source: wrapSrc}
		a, err := Compile(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Compile(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%v: two compiles differ:\n%+v\n%+v", target, a, b)
		}
	}
}

// TestProgramRoundTrip checks that a program survives its msgp encoding, the cache's
// format, field for field.
func TestProgramRoundTrip(t *testing.T) {
	p, err := Compile(context.Background(), Options{CompilerVersion: Version, OptLevel: 2, Target: VM32, Debug: true, File: "wrap.mc", Source: wrapSrc})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := p.MarshalMsg(nil)
	if err != nil {
		t.Fatal(err)
	}
	var q Program
	if rest, err := q.UnmarshalMsg(raw); err != nil || len(rest) != 0 {
		t.Fatalf("UnmarshalMsg: %v, %d bytes left", err, len(rest))
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip changed the program:\n%+v\n%+v", p, q)
	}
}

// TestVerifyCatchesAnIncompleteKey: a compute that reads an optimization level from a global
// instead of its key serves the -O0 program to -O2 (the wasmtime bug, in another form). The
// cache's verify mode, which a CI run turns on with CACHEGEN_VERIFY=1, computes on the hit as
// well and reports the difference.
func TestVerifyCatchesAnIncompleteKey(t *testing.T) {
	var optLevel atomic.Int64 // what the key leaves out
	incomplete := func(ctx context.Context, o Options) (Program, error) {
		//cachegen:allow the key leaves the level out on purpose, for verify mode to catch
		o.OptLevel = int(optLevel.Load())
		return Compile(ctx, o)
	}
	var log bytes.Buffer
	c, err := cache.Open(cache.Options{Dir: t.TempDir(), Namespace: "minicompiler-verify",
		Verify: cache.VerifyReport, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opts := Options{CompilerVersion: Version, File: "wrap.mc", Source: wrapSrc}
	if _, err := cache.Load(context.Background(), c, opts, incomplete); err != nil {
		t.Fatal(err)
	}
	optLevel.Store(2)
	p, err := cache.Load(context.Background(), c, opts, incomplete)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Compile(context.Background(), Options{CompilerVersion: Version, File: "wrap.mc", Source: wrapSrc, OptLevel: 2})
	if !reflect.DeepEqual(p, want) {
		t.Error("the verified hit did not return the fresh -O2 program")
	}
	if st := c.Stats(); st.VerifyFailures != 1 {
		t.Fatalf("stats %+v: the incomplete key was not caught", st)
	}
	if !strings.Contains(log.String(), "compiler.Options") {
		t.Fatalf("the report does not name the key type:\n%s", log.String())
	}
}
