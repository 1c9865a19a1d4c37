package cacheadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/tinylib/msgp/msgp"
)

type key struct{ N int }

func (k key) HashKey(h *keyhash.Hasher) {
	h.Begin("cacheadmin.key", 1, 2, 3, 4)
	h.Int("N", k.N)
	h.End()
}

type blob struct{ B []byte }

func (v *blob) MarshalMsg(b []byte) ([]byte, error) { return msgp.AppendBytes(b, v.B), nil }
func (v *blob) UnmarshalMsg(b []byte) ([]byte, error) {
	var err error
	v.B, b, err = msgp.ReadBytesBytes(b, v.B[:0])
	return b, err
}
func (v *blob) Msgsize() int { return msgp.BytesPrefixSize + len(v.B) }

// incompressible returns n pseudo-random bytes derived from k.
func incompressible(_ context.Context, k key) (blob, error) {
	b := make([]byte, 10<<10)
	x := uint64(k.N)*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return blob{b}, nil
}

// populate stores n entries in each of the namespaces of dir and leaves a file that is not
// the cache's in each.
func populate(t *testing.T, dir string, n int, namespaces ...string) {
	t.Helper()
	for _, ns := range namespaces {
		c, err := cache.Open(cache.Options{Dir: dir, Namespace: ns, Version: "v1 " + ns})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if _, err := cache.Load(context.Background(), c, key{i}, incompressible); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
		if err := os.WriteFile(filepath.Join(dir, ns, "keep-me"), []byte("x"), 0o666); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t *testing.T, wantCode int, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Run(args, &out, &errb); code != wantCode {
		t.Fatalf("Run(%q) = %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, out.String(), errb.String())
	}
	return out.String() + errb.String()
}

func entries(t *testing.T, dir, ns string) (n int, size int64) {
	t.Helper()
	us, err := cache.Usage(dir, ns)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		n += u.Entries
		size += u.Bytes
	}
	return n, size
}

func TestStats(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, 5, "compiler", "linker")
	out := run(t, 0, "stats", "-dir", dir)
	t.Logf("stats output:\n%s", out)
	for _, want := range []string{"compiler", "linker", "v1 compiler", "v1 linker", "total"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats output lacks %q:\n%s", want, out)
		}
	}
	var totalLine string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "total") {
			totalLine = l
		}
	}
	if f := strings.Fields(totalLine); len(f) < 2 || f[1] != "10" {
		t.Errorf("total line %q, want 10 entries", totalLine)
	}
	out = run(t, 0, "stats", "-dir", dir, "-namespace", "linker")
	if strings.Contains(out, "compiler") {
		t.Errorf("stats -namespace linker shows other namespaces:\n%s", out)
	}
}

func TestTrim(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, 20, "compiler", "linker")
	_, before := entries(t, dir, "compiler")
	// A budget of a few entries: the layout's own files and directories take 12 blocks of
	// it, and the trim's state more.
	out := run(t, 0, "trim", "-dir", dir, "-namespace", "compiler", "-max-bytes", "150000")
	n, after := entries(t, dir, "compiler")
	if after > 150000*9/10 || n == 0 || after >= before || !strings.Contains(out, "removed") {
		t.Errorf("after trim: %d entries, %d bytes (before %d)\n%s", n, after, before, out)
	}
	if n, _ := entries(t, dir, "linker"); n != 20 {
		t.Errorf("trim of compiler touched linker: %d entries left", n)
	}
	run(t, 0, "trim", "-dir", dir, "-max-bytes", "150000", "-max-age", "1h")
	if _, after := entries(t, dir, ""); after > 2*150000*9/10 {
		t.Errorf("after trim of all namespaces: %d bytes", after)
	}
}

func TestClear(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, 4, "compiler", "linker")
	unrelated := filepath.Join(dir, "unrelated.txt")
	os.WriteFile(unrelated, []byte("mine"), 0o666)

	run(t, 0, "clear", "-dir", dir, "-namespace", "linker")
	if n, _ := entries(t, dir, "linker"); n != 0 {
		t.Errorf("linker still has %d entries", n)
	}
	if n, _ := entries(t, dir, "compiler"); n != 4 {
		t.Errorf("clear of linker removed compiler's entries: %d left", n)
	}
	out := run(t, 0, "clear", "-dir", dir)
	if !strings.Contains(out, "removed") {
		t.Errorf("clear output: %s", out)
	}
	if n, _ := entries(t, dir, ""); n != 0 {
		t.Errorf("%d entries left after clear", n)
	}
	for _, f := range []string{unrelated, filepath.Join(dir, "compiler", "keep-me"), filepath.Join(dir, "linker", "keep-me")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("clear removed a file that is not the cache's: %v", err)
		}
	}
	// Nothing else is left in the namespaces.
	for _, ns := range []string{"compiler", "linker"} {
		des, _ := os.ReadDir(filepath.Join(dir, ns))
		des = slices.DeleteFunc(des, func(de os.DirEntry) bool { return de.Name() == "CACHEDIR.TAG" })
		if len(des) != 1 {
			t.Errorf("%s holds %v after clear", ns, des)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage:"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"stats", "-bogus"}, 2, "flag provided but not defined"},
		{[]string{"stats", "-dir", dir, "extra"}, 2, "unexpected arguments"},
		{[]string{"clear", "-dir", dir, "-max-age", "1h"}, 2, "trim only"},
		{[]string{"stats", "-dir", dir, "-namespace", "../etc"}, 1, "invalid namespace"},
		{[]string{"stats", "-dir", filepath.Join(dir, "missing")}, 1, "no such file"},
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"stats", "-h"}, 0, "-json"},
		{[]string{"help", "trim"}, 0, "-max-bytes"},
		{[]string{"help", "frobnicate"}, 2, "unknown command"},
		{[]string{"-dir", dir, "stats"}, 2, "before a command"},
		{[]string{"trim", "-dir", dir, "-max-bytes", "-1G"}, 2, "negative size"},
		{[]string{"trim", "-dir", dir, "-max-bytes", "lots"}, 2, "not a size"},
		{[]string{"trim", "-dir", dir, "-max-age", "-1h"}, 2, "negative age"},
		{[]string{"trim", "-dir", dir, "-max-age", "soon"}, 2, "invalid duration"},
		{[]string{"stats", "-dir", dir, "-json", "-max-bytes", "1G"}, 2, "trim only"},
	} {
		if out := run(t, tc.code, tc.args...); !strings.Contains(out, tc.want) {
			t.Errorf("Run(%q) output lacks %q:\n%s", tc.args, tc.want, out)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {5 << 20, "5.0 MiB"}, {3 << 30, "3.0 GiB"}} {
		if got := formatBytes(tc.n); got != tc.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// TestRefusesDirectoriesThatAreNotCaches: the admin command works only in a directory tagged
// as a cache (CACHEDIR.TAG, which a Cache writes): in a project directory or ~/.cache it
// would delete other programs' trim.txt and version.txt and write trim.txt files.
func TestRefusesDirectoriesThatAreNotCaches(t *testing.T) {
	dir := t.TempDir()
	// Other programs tag their caches too, with the same signature: they are not caches
	// of cachegen's.
	files := []string{"proj/trim.txt", "proj/0123456789abcdef/version.txt", "proj/notes.txt",
		"ccache/CACHEDIR.TAG", "ccache/trim.txt", "ccache/0/1/abc.o", "target/CACHEDIR.TAG"}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		content := "someone else's\n"
		if strings.HasSuffix(f, "CACHEDIR.TAG") {
			content = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by " + filepath.Dir(f) + ".\n"
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range []string{"stats", "trim", "clear"} {
		if out := run(t, 1, cmd, "-dir", dir); !strings.Contains(out, "not a cache directory") {
			t.Errorf("%s in a directory that is not a cache: %s", cmd, out)
		}
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "proj", "trim.txt")); err != nil {
		t.Fatal(err)
	}
	// A Cache opened on the directory tags it, and the commands then work.
	c, err := cache.Open(cache.Options{Dir: dir, Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if b, err := os.ReadFile(filepath.Join(dir, "ns", "CACHEDIR.TAG")); err != nil || !strings.HasPrefix(string(b), "Signature: 8a477f597d28d172789f06886806bc55") {
		t.Fatalf("no cache directory tag in the namespace after Open: %q, %v", b, err)
	}
	// Only the tagged namespace is touched: Dir may be shared (~/.cache), and so may a
	// namespace name be reached through a link.
	if err := os.Symlink(filepath.Join(dir, "proj"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	run(t, 0, "trim", "-dir", dir)
	run(t, 0, "clear", "-dir", dir)
	run(t, 1, "clear", "-dir", dir, "-namespace", "link")
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || (string(b) != "someone else's\n" && !strings.HasSuffix(f, "CACHEDIR.TAG")) {
			t.Errorf("%s: %q, %v", f, b, err)
		}
	}
	for _, d := range []string{"ccache", "target"} {
		if des, _ := os.ReadDir(filepath.Join(dir, d)); len(des) != map[string]int{"ccache": 3, "target": 1}[d] {
			t.Errorf("%s holds %v after trim and clear", d, des)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ns")); !os.IsNotExist(err) {
		t.Errorf("the cache's namespace was not cleared: %v", err)
	}
}

// runSplit runs the command and returns its stdout and stderr.
func runSplit(t *testing.T, wantCode int, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Run(args, &out, &errb); code != wantCode {
		t.Fatalf("Run(%q) = %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// TestSubcommandHelp: each command's -h, -help and help command print its own usage and
// flags, and no other command's, to stdout, with status 0.
func TestSubcommandHelp(t *testing.T) {
	all := []string{"-dir", "-namespace", "-json", "-max-bytes", "-max-age"}
	for _, tc := range []struct {
		cmd   string
		flags []string
	}{
		{"stats", []string{"-dir", "-namespace", "-json"}},
		{"trim", []string{"-dir", "-namespace", "-max-bytes", "-max-age"}},
		{"clear", []string{"-dir", "-namespace"}},
	} {
		for _, args := range [][]string{{tc.cmd, "-h"}, {tc.cmd, "-help"}, {tc.cmd, "--help"}, {"help", tc.cmd}} {
			out, errOut := runSplit(t, 0, args...)
			if errOut != "" {
				t.Errorf("Run(%q) wrote to stderr: %s", args, errOut)
			}
			if want := "usage: go tool cachegen cache " + tc.cmd + " "; !strings.HasPrefix(out, want) {
				t.Errorf("Run(%q) output does not start with %q:\n%s", args, want, out)
			}
			for _, f := range all {
				defined := strings.Contains(out, "\n  "+f+" ") || strings.Contains(out, "\n  "+f+"\n")
				if want := slices.Contains(tc.flags, f); defined != want {
					t.Errorf("Run(%q): flag %s listed: %v, want %v:\n%s", args, f, defined, want, out)
				}
			}
			// -dir is optional and its default described.
			if !strings.Contains(out, "[-dir DIR]") || !strings.Contains(out, "cache.DefaultDir") {
				t.Errorf("Run(%q): -dir not shown as optional with its default:\n%s", args, out)
			}
		}
	}
	out, _ := runSplit(t, 0, "help", "trim")
	for _, want := range []string{"(default 1GiB)", "(default 30d)", "KiB = 1024", "30d"} {
		if !strings.Contains(out, want) {
			t.Errorf("trim usage lacks %q:\n%s", want, out)
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"-help"}} {
		out, errOut := runSplit(t, 0, args...)
		if errOut != "" || !strings.Contains(out, "Commands:") || !strings.Contains(out, "usage: go tool cachegen cache <command>") {
			t.Errorf("Run(%q): stdout:\n%s\nstderr:\n%s", args, out, errOut)
		}
	}
}

// TestUsageErrorFormat: a usage error is one line naming the command, then a pointer to -h,
// on stderr, with status 2, as go tools do.
func TestUsageErrorFormat(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args       []string
		first, run string
	}{
		{[]string{"frobnicate"}, `cachegen cache: unknown command "frobnicate"`, "Run 'go tool cachegen cache -h' for usage."},
		{[]string{"help", "frobnicate"}, `cachegen cache help: unknown command "frobnicate"`, "Run 'go tool cachegen cache -h' for usage."},
		{[]string{"trim", "-dir", dir, "-max-bytes", "1Q"}, `cachegen cache trim: invalid value "1Q" for flag -max-bytes: unknown unit "Q"`, "Run 'go tool cachegen cache trim -h' for usage."},
		{[]string{"stats", "-max-age", "1h"}, "cachegen cache stats: flag provided but not defined: -max-age (-max-age applies to trim only)", "Run 'go tool cachegen cache stats -h' for usage."},
		{[]string{"clear", "-json"}, "cachegen cache clear: flag provided but not defined: -json (-json applies to stats only)", "Run 'go tool cachegen cache clear -h' for usage."},
		{[]string{"clear", "-dir", dir, "now"}, `cachegen cache clear: unexpected arguments ["now"]`, "Run 'go tool cachegen cache clear -h' for usage."},
	} {
		out, errOut := runSplit(t, 2, tc.args...)
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if out != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], tc.first) || lines[1] != tc.run {
			t.Errorf("Run(%q):\nstdout:\n%s\nstderr:\n%s\nwant stderr %q... then %q", tc.args, out, errOut, tc.first, tc.run)
		}
	}
}

func TestStatsJSON(t *testing.T) {
	dir := t.TempDir()
	start := time.Now().Add(-time.Minute)
	populate(t, dir, 3, "compiler", "linker")
	out, errOut := runSplit(t, 0, "stats", "-dir", dir, "-json")
	if errOut != "" {
		t.Errorf("stderr: %s", errOut)
	}
	t.Logf("stats -json:\n%s", out)
	type version struct {
		VersionID, Version          string
		Entries, TempFiles          int
		Bytes, TempBytes            int64
		LastUsed, LeastRecentlyUsed string
	}
	var got struct {
		Dir                string
		Entries, TempFiles int
		Bytes, TempBytes   int64
		Namespaces         []struct {
			Namespace                   string
			Entries, TempFiles          int
			Bytes, TempBytes            int64
			LastUsed, LeastRecentlyUsed string
			Versions                    []version
		}
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("stats -json printed invalid JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Errorf("stats -json printed more than one JSON value:\n%s", out)
	}
	if got.Dir != dir || got.Entries != 6 || got.Bytes <= 0 || len(got.Namespaces) != 2 {
		t.Fatalf("stats -json = %+v", got)
	}
	checkTime := func(what, s string) {
		t.Helper()
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Errorf("%s = %q, not RFC 3339: %v", what, s, err)
			return
		}
		if tm.Before(start) || tm.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s = %v, not the time of the test (%v)", what, tm, start)
		}
	}
	var sum int64
	for i, ns := range got.Namespaces {
		if want := []string{"compiler", "linker"}[i]; ns.Namespace != want {
			t.Errorf("namespace %d is %q, want %q", i, ns.Namespace, want)
		}
		if ns.Entries != 3 || len(ns.Versions) != 1 {
			t.Errorf("namespace %+v: want 3 entries in one version", ns)
			continue
		}
		v := ns.Versions[0]
		if v.Version != "v1 "+ns.Namespace || len(v.VersionID) != 16 || v.Entries != 3 || v.Bytes != ns.Bytes {
			t.Errorf("version %+v of namespace %s", v, ns.Namespace)
		}
		checkTime(ns.Namespace+" LastUsed", ns.LastUsed)
		checkTime(ns.Namespace+" LeastRecentlyUsed", ns.LeastRecentlyUsed)
		checkTime(ns.Namespace+" version LastUsed", v.LastUsed)
		sum += ns.Bytes
	}
	if sum != got.Bytes {
		t.Errorf("total bytes %d, namespaces sum to %d", got.Bytes, sum)
	}
	// The bytes agree with the table.
	if n, size := entries(t, dir, ""); n != got.Entries || size != got.Bytes {
		t.Errorf("Usage: %d entries, %d bytes; JSON: %d, %d", n, size, got.Entries, got.Bytes)
	}

	// -namespace selects one; an empty directory of namespaces is an empty array, not null.
	out, _ = runSplit(t, 0, "stats", "-dir", dir, "-json", "-namespace", "linker")
	if strings.Contains(out, "compiler") || !strings.Contains(out, `"linker"`) {
		t.Errorf("stats -json -namespace linker:\n%s", out)
	}
	run(t, 0, "clear", "-dir", dir, "-namespace", "linker")
	out, _ = runSplit(t, 0, "stats", "-dir", dir, "-json", "-namespace", "compiler")
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["Namespaces"].([]any); !ok {
		t.Errorf("Namespaces is not an array: %s", out)
	}
}

// TestStatsTimesHaveZone: the table prints the last use with its zone.
func TestStatsTimesHaveZone(t *testing.T) {
	dir := t.TempDir()
	populate(t, dir, 1, "compiler")
	out := run(t, 0, "stats", "-dir", dir)
	zone, _ := time.Now().Zone()
	if !strings.Contains(out, " "+zone+" ") {
		t.Errorf("stats output lacks the zone %s:\n%s", zone, out)
	}
}

// TestExplain: the misses a program explained are shown after the fact, oldest first.
func TestExplain(t *testing.T) {
	dir := t.TempDir()
	if out := run(t, 1, "explain", "-dir", dir); !strings.Contains(out, "not a cache directory") {
		t.Fatalf("explain on a directory that is not a cache printed %q", out)
	}
	c, err := cache.Open(cache.Options{Dir: dir, Namespace: "ns", OnMiss: func(cache.Miss) {}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 1} {
		if _, err := cache.Load(context.Background(), c, key{N: n}, incompressible); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	out := run(t, 0, "explain", "-dir", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "no entry of this key type yet") || !strings.Contains(lines[1], "key.N 2 → 1") {
		t.Fatalf("explain printed:\n%s", out)
	}
	if out := run(t, 0, "explain", "-dir", dir, "-n", "1"); strings.Count(out, "\n") != 1 {
		t.Fatalf("explain -n 1 printed:\n%s", out)
	}
}
