package cacheadmin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
	out := run(t, 0, "trim", "-dir", dir, "-namespace", "compiler", "-max-bytes", "60000")
	n, after := entries(t, dir, "compiler")
	if after > 60000*9/10 || n == 0 || after >= before || !strings.Contains(out, "removed") {
		t.Errorf("after trim: %d entries, %d bytes (before %d)\n%s", n, after, before, out)
	}
	if n, _ := entries(t, dir, "linker"); n != 20 {
		t.Errorf("trim of compiler touched linker: %d entries left", n)
	}
	run(t, 0, "trim", "-dir", dir, "-max-bytes", "60000", "-max-age", "1h")
	if _, after := entries(t, dir, ""); after > 2*60000*9/10 {
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
		{[]string{"stats", "-h"}, 0, "-max-bytes"},
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
	files := []string{"proj/trim.txt", "proj/0123456789abcdef/version.txt", "proj/notes.txt"}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("someone else's\n"), 0o644); err != nil {
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
		if err != nil || string(b) != "someone else's\n" {
			t.Errorf("%s: %q, %v", f, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ns")); !os.IsNotExist(err) {
		t.Errorf("the cache's namespace was not cleared: %v", err)
	}
}
