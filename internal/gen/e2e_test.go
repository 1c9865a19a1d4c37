package gen

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// consumer is a throwaway module that uses cachegen the way a user's module does: a require
// and replace of this checkout, a tool directive, a go:generate line, and code that calls the
// methods cachegen writes.
type consumer struct {
	t   *testing.T
	dir string
}

func newConsumer(t *testing.T, files map[string]string) *consumer {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a module with the go command; skipped with -short")
	}
	c := &consumer{t: t, dir: t.TempDir()}
	root := repoRoot(t)
	gomod := "module example.com/consumer\n\ngo 1.26.0\n\n" +
		"require github.com/cachegen/cachegen v0.0.0\n\n" +
		"replace github.com/cachegen/cachegen => " + root + "\n\n" +
		"tool github.com/cachegen/cachegen/cmd/cachegen\n"
	c.write("go.mod", gomod)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	c.write("go.sum", string(sum))
	for name, src := range files {
		c.write(name, src)
	}
	c.mustRun("go", "mod", "tidy")
	return c
}

func (c *consumer) write(name, content string) {
	c.t.Helper()
	path := filepath.Join(c.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *consumer) read(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

func (c *consumer) edit(name, old, new string) {
	c.t.Helper()
	src := c.read(name)
	if !strings.Contains(src, old) {
		c.t.Fatalf("%s does not contain %q", name, old)
	}
	c.write(name, strings.Replace(src, old, new, 1))
}

// run runs a command in the module and returns its stdout, stderr and whether it succeeded.
func (c *consumer) run(name string, args ...string) (stdout, stderr string, ok bool) {
	c.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CACHEGEN_TRACE=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		if _, isExit := err.(*exec.ExitError); !isExit {
			c.t.Fatalf("%s %v: %v", name, args, err)
		}
	}
	return out.String(), errb.String(), err == nil
}

func (c *consumer) mustRun(name string, args ...string) string {
	c.t.Helper()
	out, errs, ok := c.run(name, args...)
	if !ok {
		c.t.Fatalf("%s %s failed:\n%s%s", name, strings.Join(args, " "), out, errs)
	}
	return out
}

const consumerKey = `package main

import "time"

//go:generate go run github.com/cachegen/cachegen/cmd/cachegen

// Target is reached from Options and hashed through it.
type Target struct {
	Arch     string
	Features []string ` + "`cache:\"set\"`" + `
}

// Mode is an enum: generated code converts it to its underlying type.
type Mode uint8

// Options is what the compiler's output depends on.
//
//cachegen:key
type Options struct {
	Source   string
	OptLevel int
	Target   Target
	Flags    map[string]string
	Timeout  time.Duration
	Mode     Mode
	Verbose  bool ` + "`cache:\"-\"`" + `
}
`

const consumerValue = `package main

// Output is what the compiler produces.
//
//cachegen:value
type Output struct {
	Code    []byte
	Symbols map[string]uint32
	Lines   []Line
}

// Line maps code offsets to source lines; Output reaches it.
type Line struct {
	Offset, Line uint32
}
`

const consumerMain = `package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

func compile(_ context.Context, o Options) (Output, error) {
	return Output{Code: []byte(o.Source), Symbols: map[string]uint32{"main": uint32(o.OptLevel)}, Lines: []Line{{1, 2}}}, nil
}

func main() {
	k := Options{Source: "x := 1", OptLevel: 2, Target: Target{Arch: "amd64", Features: []string{"sse2", "avx2"}}, Flags: map[string]string{"a": "1", "b": "2"}}
	if len(os.Args) > 1 {
		c, err := cache.Open(cache.Options{Dir: os.Args[1], Namespace: "e2e"})
		if err != nil {
			panic(err)
		}
		defer c.Close()
		out, err := cache.Load(context.Background(), c, k, compile)
		if err != nil {
			panic(err)
		}
		st := c.Stats()
		fmt.Printf("hits=%d misses=%d code=%q main=%d lines=%v\n", st.Hits, st.Misses, out.Code, out.Symbols["main"], out.Lines)
		return
	}
	fmt.Println(keyhash.Sum(&k))
}
`

// consumerTest is the test a user writes: a changed option misses, a repeat hits.
const consumerTest = `package main

import (
	"context"
	"testing"

	"github.com/cachegen/cachegen/runtime/cache"
)

func TestCompileIsCached(t *testing.T) {
	c, err := cache.Open(cache.Options{Dir: t.TempDir(), Namespace: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for i, opt := range []int{0, 2, 2} {
		out, err := cache.Load(ctx, c, Options{Source: "s", OptLevel: opt}, compile)
		if err != nil || out.Symbols["main"] != uint32(opt) {
			t.Fatalf("load %d: %v %v", i, out, err)
		}
	}
	if st := c.Stats(); st.Misses != 2 || st.Hits != 1 {
		t.Fatalf("stats %+v, want 2 misses then 1 hit", st)
	}
}
`

var digestLine = regexp.MustCompile(`^[0-9a-f]{64}\n$`)

// TestEndToEnd does what a new user does: go generate, go vet, build and run, twice, and
// checks that the digest is stable across processes and that -check agrees.
func TestEndToEnd(t *testing.T) {
	c := newConsumer(t, map[string]string{"key.go": consumerKey, "value.go": consumerValue, "main.go": consumerMain, "main_test.go": consumerTest})
	c.mustRun("go", "generate", "./...")
	gen := c.read(DefaultOutput)
	if !strings.HasPrefix(gen, generatedHeader+"\n") {
		t.Fatalf("generated file does not start with the standard header:\n%s", gen[:min(len(gen), 200)])
	}
	for _, want := range []string{
		"func (x Options) HashKey(h *keyhash.Hasher)",
		"func (x Target) HashKey(h *keyhash.Hasher)",
		`Excluded with cache:"-": Verbose.`,
		"func (z *Output) UnmarshalMsg(bts []byte)",
		"func (z *Line) DecodeMsg(dc *msgp.Reader)",
	} {
		if !strings.Contains(gen, want) {
			t.Errorf("generated file lacks %q", want)
		}
	}
	c.mustRun("go", "vet", "./...")
	if out := c.mustRun("go", "test", "-count=1", "./..."); !strings.Contains(out, "ok  \texample.com/consumer") {
		t.Fatalf("go test in the consumer module:\n%s", out)
	}
	first := c.mustRun("go", "run", ".")
	if !digestLine.MatchString(first) {
		t.Fatalf("program printed %q, want a digest", first)
	}
	if second := c.mustRun("go", "run", "."); second != first {
		t.Fatalf("digest differs between processes: %q then %q", first, second)
	}
	c.mustRun("go", "tool", "cachegen", "-check")

	// Two processes share a disk cache: the first computes, the second reads what it stored.
	c.mustRun("go", "build", "-o", "consumer", ".")
	dir := filepath.Join(c.dir, "cache")
	const want = `code="x := 1" main=2 lines=[{1 2}]`
	if out := c.mustRun("./consumer", dir); !strings.HasPrefix(out, "hits=0 misses=1 "+want) {
		t.Fatalf("first process: %q", out)
	}
	if out := c.mustRun("./consumer", dir); !strings.HasPrefix(out, "hits=1 misses=0 "+want) {
		t.Fatalf("second process: %q", out)
	}

	// A second run is byte-identical.
	c.mustRun("go", "generate", "./...")
	if again := c.read(DefaultOutput); again != gen {
		t.Fatal("regenerating changed the file")
	}
}

// TestStaleBuild edits a struct after generation, as a user who forgets go generate does, and
// expects the build to fail with a message that names the fix; then -check to fail with a
// diff; then regeneration to fix both.
func TestStaleBuild(t *testing.T) {
	c := newConsumer(t, map[string]string{"key.go": consumerKey, "value.go": consumerValue, "main.go": consumerMain})
	c.mustRun("go", "generate", "./...")
	before := c.mustRun("go", "run", ".")

	edits := []struct{ name, old, new string }{
		{"add a field", "\tVerbose  bool", "\tExtra    int\n\tVerbose  bool"},
		{"remove a field", "\tTimeout  time.Duration\n", ""},
		{"rename a field", "OptLevel int", "Level int"},
		{"retype a field", "OptLevel int", "OptLevel int64"},
		{"reorder fields", "\tSource   string\n\tOptLevel int\n", "\tOptLevel int\n\tSource   string\n"},
		{"change a nested struct", "\tArch     string\n", "\tArch     string\n\tOS       string\n"},
		{"change an enum's underlying type", "type Mode uint8", "type Mode uint16"},
		{"change a value", "\tCode    []byte\n", "\tCode    []byte\n\tDebug   bool\n"},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			file := "key.go"
			if strings.Contains(c.read("value.go"), e.old) {
				file = "value.go"
			}
			orig := c.read(file)
			defer c.write(file, orig)
			c.edit(file, e.old, e.new)
			_, stderr, ok := c.run("go", "build", ".")
			if ok {
				t.Fatal("go build succeeded on a stale generated file")
			}
			if !strings.Contains(stderr, "_changed_run_go_generate") {
				t.Fatalf("build error does not name the fix:\n%s", stderr)
			}
			diff, _, ok := c.run("go", "tool", "cachegen", "-check")
			if ok || !strings.Contains(diff, "--- a/") {
				t.Fatalf("cachegen -check passed or printed no diff:\n%s", diff)
			}
		})
	}

	// Tags are not part of a conversion: the build passes, -check catches it.
	orig := c.read("key.go")
	c.edit("key.go", "Verbose  bool `cache:\"-\"`", "Verbose  bool")
	c.mustRun("go", "build", ".")
	diff, _, ok := c.run("go", "tool", "cachegen", "-check")
	if ok || !strings.Contains(diff, `+	h.Bool("Verbose", x.Verbose)`) {
		t.Fatalf("cachegen -check missed a tag change:\n%s", diff)
	}
	c.mustRun("go", "generate", "./...")
	if after := c.mustRun("go", "run", "."); after == before {
		t.Fatal("including a field did not change the digest")
	}
	c.write("key.go", orig)

	// An old file the go command cannot list (cut after its header) is not read: -check
	// shows a diff, not the go command's error, and go generate writes the file again.
	c.mustRun("go", "generate", "./...")
	whole := c.read(DefaultOutput)
	c.write(DefaultOutput, generatedHeader+"\n")
	diff, stderr, ok := c.run("go", "tool", "cachegen", "-check")
	if ok || !strings.Contains(diff, "+package main") {
		t.Fatalf("cachegen -check on a truncated old file: ok=%t, stdout:\n%s\nstderr:\n%s", ok, diff, stderr)
	}
	c.mustRun("go", "generate", "./...")
	if c.read(DefaultOutput) != whole {
		t.Fatal("go generate did not write the truncated file again")
	}

	// An unsupported field fails generation with a positioned error and leaves the old file.
	gen := c.read(DefaultOutput)
	c.edit("key.go", "\tVerbose  bool", "\tHook     func()\n\tVerbose  bool")
	_, stderr, ok = c.run("go", "generate", "./...")
	if ok || !strings.Contains(stderr, "key.go:26:2: Options.Hook: func type func() cannot be hashed") {
		t.Fatalf("go generate: ok=%t, stderr:\n%s", ok, stderr)
	}
	if c.read(DefaultOutput) != gen {
		t.Fatal("a failed run changed the generated file")
	}
}
