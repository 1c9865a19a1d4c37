package main_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The end-to-end tests build cachegen-vet and run it on a module made for the test, which
// requires this repository through a replace directive: as a command, as go vet's tool, and
// as a tool of the module (go tool).

const goMod = `module example.com/vetdemo

go 1.26.0

require github.com/cachegen/cachegen v0.0.0

replace github.com/cachegen/cachegen => REPO

tool github.com/cachegen/cachegen/cmd/cachegen-vet
`

const mainGo = `package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ Name string }

func (k Key) HashKey(h *keyhash.Hasher) { h.String("Name", k.Name) }

type Out struct{ S string }

func (o *Out) MarshalMsg(b []byte) ([]byte, error)   { return append(b, o.S...), nil }
func (o *Out) UnmarshalMsg(b []byte) ([]byte, error) { o.S = string(b); return nil, nil }
func (o *Out) Msgsize() int                          { return len(o.S) }

func greet(_ context.Context, k Key) (Out, error) {
	return Out{S: "hello, " + k.Name + SUFFIX}, nil
}

func main() {
	out, err := cache.Load(context.Background(), nil, Key{Name: "world"}, greet)
	fmt.Println(out.S, err, len(os.Args))
}
`

// report is the one report on the module with the violation, as file:line:col: message:
// at the compute passed to cache.Load, which reads the environment through greet.
var report = regexp.MustCompile(`(?m)^(\S*/)?main\.go:27:72: compute \(greet, at main\.go:23:40\) reads the environment \(os\.Getenv\): put the variable's value in the key$`)

// module writes the test module to a new directory; violation selects the compute that
// reads the environment.
func module(t *testing.T, violation bool) string {
	t.Helper()
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	suffix := `"!"`
	if violation {
		suffix = `os.Getenv("SUFFIX")`
	}
	write(t, filepath.Join(dir, "go.mod"), strings.ReplaceAll(goMod, "REPO", filepath.ToSlash(repo)))
	write(t, filepath.Join(dir, "main.go"), strings.ReplaceAll(mainGo, "SUFFIX", suffix))
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.sum"), string(sum))
	// The requirements of the repository, from the module cache that building it filled
	// (tidy may fetch what the tests of dependencies import from the module proxy).
	run(t, dir, nil, "go", "mod", "tidy")
	return dir
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
}

// run runs a command in dir and returns its output and exit code (-1 when it could
// not start); a code other than those in ok fails the test.
func run(t *testing.T, dir string, ok []int, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	if ok == nil {
		ok = []int{0}
	}
	for _, c := range ok {
		if c == code {
			return out.String(), code
		}
	}
	t.Fatalf("%s %s: exit code %d\n%s", name, strings.Join(args, " "), code, out.String())
	return "", 0
}

func build(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the command on a module of its own")
	}
	bin := filepath.Join(t.TempDir(), "cachegen-vet")
	run(t, ".", nil, "go", "build", "-o", bin, ".")
	return bin
}

func TestCommand(t *testing.T) {
	bin := build(t)
	dir := module(t, true)
	out, code := run(t, dir, []int{1, 3}, bin, "./...")
	if !report.MatchString(out) || strings.Count(out, "\n") != 1 {
		t.Errorf("exit code %d, output:\n%s\nwant one line matching %s", code, out, report)
	}
	if out, _ := run(t, module(t, false), nil, bin, "./..."); out != "" {
		t.Errorf("clean module: output %q", out)
	}
}

func TestVetTool(t *testing.T) {
	bin := build(t)
	out, _ := run(t, module(t, true), []int{1}, "go", "vet", "-vettool="+bin, "./...")
	if !report.MatchString(out) {
		t.Errorf("output:\n%s\nwant a line matching %s", out, report)
	}
	if out, _ := run(t, module(t, false), nil, "go", "vet", "-vettool="+bin, "./..."); out != "" {
		t.Errorf("clean module: output %q", out)
	}
}

// TestGoTool runs the command as a tool of the module: go tool cachegen-vet, and go vet
// with the tool's binary.
func TestGoTool(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command on a module of its own")
	}
	dir := module(t, true)
	out, _ := run(t, dir, []int{1, 3}, "go", "tool", "cachegen-vet", "./...")
	if !report.MatchString(out) {
		t.Errorf("go tool cachegen-vet: output:\n%s\nwant a line matching %s", out, report)
	}
	tool, _ := run(t, dir, nil, "go", "tool", "-n", "cachegen-vet")
	out, _ = run(t, dir, []int{1}, "go", "vet", "-vettool="+strings.TrimSpace(tool), "./...")
	if !report.MatchString(out) {
		t.Errorf("go vet -vettool=$(go tool -n cachegen-vet): output:\n%s\nwant a line matching %s", out, report)
	}
}
