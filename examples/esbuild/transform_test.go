package esbuild

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/evanw/esbuild/pkg/api"
)

const source = `const debug = DEBUG; export function f(veryLongName) { if (debug) console.log(veryLongName); return veryLongName.prop_ * 2 }`

// options are a build's options, with a define of DEBUG.
func options(debug string) api.TransformOptions {
	return api.TransformOptions{
		Loader:           api.LoaderJS,
		Format:           api.FormatESModule,
		Target:           api.ES2020,
		MinifySyntax:     true,
		MinifyWhitespace: true,
		Define:           map[string]string{"DEBUG": debug},
	}
}

func openCache(t *testing.T, dir string) *cache.Cache {
	t.Helper()
	c, err := cache.Open(cache.Options{Dir: dir, Namespace: "esbuild"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestChangedOptionMisses: the define that once fell out of a hand-made key (an interface
// value excluded to make the options hashable) is in this one: --define:DEBUG=false and
// --define:DEBUG=true are two entries, with two outputs.
func TestChangedOptionMisses(t *testing.T) {
	c := openCache(t, t.TempDir())
	ctx := context.Background()
	off, err := Transform(ctx, c, source, options("false"))
	if err != nil {
		t.Fatal(err)
	}
	on, err := Transform(ctx, c, source, options("true"))
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Computes != 2 || st.Hits != 0 {
		t.Fatalf("stats %+v: want two computes", st)
	}
	if strings.Contains(string(off.Code), "console.log") || !strings.Contains(string(on.Code), "console.log") {
		t.Fatalf("outputs:\n%s\n%s", off.Code, on.Code)
	}
	again, err := Transform(ctx, c, source, options("true"))
	if err != nil || string(again.Code) != string(on.Code) {
		t.Fatalf("the repeat gave %q, %v", again.Code, err)
	}
	if st := c.Stats(); st.Hits != 1 {
		t.Fatalf("stats %+v: want the repeat to hit", st)
	}
}

// TestEveryOptionIsInTheKey: changing any one option, including the nested engines and the
// mangle cache of interface values, changes the key.
func TestEveryOptionIsInTheKey(t *testing.T) {
	base := options("false")
	variants := map[string]func(o *api.TransformOptions){
		"target":            func(o *api.TransformOptions) { o.Target = api.ES2019 },
		"engine version":    func(o *api.TransformOptions) { o.Engines = []api.Engine{{Name: api.EngineChrome, Version: "100"}} },
		"engine name":       func(o *api.TransformOptions) { o.Engines = []api.Engine{{Name: api.EngineFirefox}} },
		"supported":         func(o *api.TransformOptions) { o.Supported = map[string]bool{"bigint": false} },
		"minify":            func(o *api.TransformOptions) { o.MinifyIdentifiers = true },
		"drop":              func(o *api.TransformOptions) { o.Drop = api.DropConsole },
		"mangle props":      func(o *api.TransformOptions) { o.MangleProps = "_$" },
		"mangle cache":      func(o *api.TransformOptions) { o.MangleCache = map[string]any{"prop_": "a"} },
		"mangle cache new":  func(o *api.TransformOptions) { o.MangleCache = map[string]any{"prop_": "b"} },
		"mangle cache keep": func(o *api.TransformOptions) { o.MangleCache = map[string]any{"prop_": false} },
		"jsx":               func(o *api.TransformOptions) { o.JSX = api.JSXPreserve },
		"banner":            func(o *api.TransformOptions) { o.Banner = "/* b */" },
		"tsconfig":          func(o *api.TransformOptions) { o.TsconfigRaw = `{"compilerOptions":{}}` },
		"log override":      func(o *api.TransformOptions) { o.LogOverride = map[string]api.LogLevel{"x": api.LogLevelError} },
		"loader":            func(o *api.TransformOptions) { o.Loader = api.LoaderTS },
	}
	seen := map[keyhash.Digest]string{keyhash.Sum(Input{Source: source, Options: base}): "base"}
	for name, change := range variants {
		o := options("false")
		change(&o)
		d := keyhash.Sum(Input{Source: source, Options: o})
		if other, dup := seen[d]; dup {
			t.Errorf("%s and %s share a key", name, other)
		}
		seen[d] = name
	}
}

// TestRepeatHitsInAnotherProcess: what one process stored, the next one loads.
func TestRepeatHitsInAnotherProcess(t *testing.T) {
	if dir := os.Getenv("ESBUILD_EXAMPLE_CHILD"); dir != "" {
		c, err := cache.Open(cache.Options{Dir: dir, Namespace: "esbuild"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := Transform(context.Background(), c, source, options("true")); err != nil {
			t.Fatal(err)
		}
		if st := c.Stats(); st.DiskHits != 1 || st.Computes != 0 {
			t.Fatalf("the second process: stats %+v, want a disk hit", st)
		}
		return
	}
	dir := t.TempDir()
	c := openCache(t, dir)
	if _, err := Transform(context.Background(), c, source, options("true")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRepeatHitsInAnotherProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "ESBUILD_EXAMPLE_CHILD="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the second process failed: %v\n%s", err, out)
	}
}

// TestErrorsAreNotCached: esbuild's errors are returned, and computed again next time.
func TestErrorsAreNotCached(t *testing.T) {
	c := openCache(t, t.TempDir())
	for range 2 {
		if _, err := Transform(context.Background(), c, "let = ;", options("false")); err == nil {
			t.Fatal("a syntax error transformed")
		}
	}
	if st := c.Stats(); st.Computes != 2 || st.Stores != 0 {
		t.Fatalf("stats %+v: want two computes and nothing stored", st)
	}
}

// TestMangleCacheRoundTrip: the output's mangle cache comes back in the form esbuild takes.
func TestMangleCacheRoundTrip(t *testing.T) {
	c := openCache(t, t.TempDir())
	o := options("false")
	o.MangleProps = "_$"
	o.MangleCache = map[string]any{"keep_": false}
	out, err := Transform(context.Background(), c, `x.prop_ = x.keep_`, o)
	if err != nil {
		t.Fatal(err)
	}
	m := out.MangleCacheOf()
	if m["keep_"] != false || m["prop_"] == nil {
		t.Fatalf("mangle cache %v", m)
	}
}
