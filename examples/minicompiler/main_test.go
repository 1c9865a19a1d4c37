package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs the command in this process.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCommand runs the command in this process with various arguments.
func TestCommand(t *testing.T) {
	good := writeFile(t, "good.mc", "let x = 2147483647;\nx = x + 1;\nprint \"x is\", x;\n")
	bad := writeFile(t, "bad.mc", "let x = 1;\nprint x +;\n")
	trap := writeFile(t, "trap.mc", "let z = 0;\nprint 1;\nprint 1 / z;\n")
	loop := writeFile(t, "loop.mc", "while 1 { }\n")
	cache := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // a substring of standard output
		stderr     string // a substring of standard error
		noStdout   string // not in standard output
		noStderror string // not in standard error
	}{
		{"file", []string{"-cache-dir", cache, "-O2", good}, 0, "x is 2147483648\n", "cache MISS", "", ""},
		{"file again", []string{"-cache-dir", cache, "-O2", good}, 0, "x is 2147483648\n", "cache HIT", "", ""},
		{"vm32", []string{"-cache-dir", cache, "-O2", "-target", "vm32", good}, 0, "x is -2147483648\n", "cache MISS", "", ""},
		{"-g", []string{"-cache-dir", cache, "-O2", "-g", good}, 0, "x is 2147483648\n", "cache MISS", "", ""},
		{"default level is -O1", []string{"-cache-dir", cache, good}, 0, "", "-O1 -target vm64: cache MISS", "", ""},
		{"sample", []string{"-cache-dir", cache, "-O0"}, 0, "Hello from minicompiler!\n", "sample.mc -O0 -target vm64: cache MISS", "", ""},
		{"sample flag", []string{"-cache-dir", cache, "-O0", "-sample"}, 0, "20! = 2432902008176640000\n", "cache HIT", "", ""},
		{"listing", []string{"-cache-dir", cache, "-S", "-g", "-O0", good}, 0, "HALT", "cache MISS", "x is 2147483648", ""},
		{"no cache", []string{"-no-cache", good}, 0, "x is", "cache disabled", "", "MISS"},
		{"compile error", []string{"-cache-dir", cache, bad}, 1, "", "bad.mc:2:10: expected expression", "", ""},
		{"runtime error with -g", []string{"-cache-dir", cache, "-g", trap}, 1, "1\n", "trap.mc:3:", "", ""},
		{"runtime error", []string{"-cache-dir", cache, trap}, 1, "1\n", "division by zero", "", ""},
		{"step limit", []string{"-cache-dir", cache, "-steps", "1000", loop}, 1, "", "step limit", "", ""},
		{"two levels", []string{"-O0", "-O2", good}, 2, "", "choose one optimization level", "", ""},
		{"bad target", []string{"-target", "vm16", good}, 2, "", "unknown target \"vm16\"", "", ""},
		{"missing file", []string{filepath.Join(cache, "nope.mc")}, 2, "", "no such file", "", ""},
		{"two files", []string{good, bad}, 2, "", "one source file at most", "", ""},
		{"file and -sample", []string{"-sample", good}, 2, "", "choose one", "", ""},
		{"help", []string{"-h"}, 0, "", "usage: minicompiler", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) ||
				(tt.noStdout != "" && strings.Contains(stdout, tt.noStdout)) || (tt.noStderror != "" && strings.Contains(stderr, tt.noStderror)) {
				t.Errorf("minicompiler %s: exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestTwoProcesses builds the command and runs it in separate processes on one cache
// directory: the first compiles and stores, the second hits, and a changed option misses.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	bin := filepath.Join(t.TempDir(), "minicompiler")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	runBin := func(args ...string) (stdout, stderr string) {
		t.Helper()
		var out, errOut bytes.Buffer
		cmd := exec.Command(bin, append([]string{"-cache-dir", dir}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("minicompiler %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.String(), errOut.String()
	}

	steps := []struct {
		args   []string
		status string
		output string
	}{
		{[]string{"-O2"}, "cache MISS", "20! = 2432902008176640000\n"},
		{[]string{"-O2"}, "cache HIT", "20! = 2432902008176640000\n"},
		{[]string{"-O1"}, "cache MISS", "20! = 2432902008176640000\n"},
		{[]string{"-O2", "-target", "vm32"}, "cache MISS", "20! = -2102132736\n"},
		{[]string{"-O2", "-target", "vm32"}, "cache HIT", "20! = -2102132736\n"},
	}
	var first string
	for i, s := range steps {
		stdout, stderr := runBin(s.args...)
		if !strings.Contains(stderr, s.status) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("process %d (%s): status\n%swant one line with %q", i+1, strings.Join(s.args, " "), stderr, s.status)
		}
		if !strings.HasPrefix(stdout, "Hello from minicompiler!\n") || !strings.Contains(stdout, s.output) {
			t.Errorf("process %d (%s): output\n%s\nwant %q", i+1, strings.Join(s.args, " "), stdout, s.output)
		}
		if i == 0 {
			first = stdout
		}
		if i < 3 && stdout != first {
			t.Errorf("process %d (%s) printed\n%s\nbut process 1 printed\n%s", i+1, strings.Join(s.args, " "), stdout, first)
		}
	}
}
