//go:build unix

package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// noUserCacheDir makes os.UserCacheDir fail and points the temporary directory at a fresh
// one, which it returns.
func noUserCacheDir(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("TMPDIR", tmp)
	return tmp
}

// plant fills dir with the entry another user would plant for key: the value "planted",
// stored by a Cache of the same namespace and version.
func plant(t *testing.T, dir string, key testKey) {
	t.Helper()
	c := open(t, Options{Dir: dir, Namespace: "test", Version: "v", MemoryBytes: -1})
	if _, err := Load(context.Background(), c, key, func(context.Context, testKey) (testValue, error) {
		return testValue{Name: "planted"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestDefaultDirRefusesForeignDirectories: with no user cache directory, the fallback under
// the temporary directory is used only if this user owns it and no one else can write it.
// A directory that others may write, that another user owns, or that is a symbolic link is
// refused, with planted entries in it: the Cache runs on memory alone, says so once, and
// computes.
func TestDefaultDirRefusesForeignDirectories(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(t *testing.T, fallback string)
	}{
		{"writable by others", func(t *testing.T, d string) {
			plant(t, d, testKey{"k", 1})
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}},
		{"a symbolic link", func(t *testing.T, d string) {
			real := d + ".real"
			plant(t, real, testKey{"k", 1})
			if err := os.Chmod(real, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, d); err != nil {
				t.Fatal(err)
			}
		}},
		{"a namespace inside it writable by others", func(t *testing.T, d string) {
			plant(t, d, testKey{"k", 1})
			if err := os.Chmod(d, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(d, "test"), 0o777); err != nil {
				t.Fatal(err)
			}
		}},
		{"owned by another user", func(t *testing.T, d string) {
			plant(t, d, testKey{"k", 1})
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(d, 4242, 4242); err != nil {
				// Only root can give a file away; as another user the mode cases
				// above stand for it.
				t.Logf("cannot chown as this user (%v): checking the mode cases only", err)
				if err := os.Chmod(d, 0o777); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmp := noUserCacheDir(t)
			fallback := filepath.Join(tmp, "cachegen-"+userTag())
			tc.prepare(t, fallback)
			if d := DefaultDir(); d != "" && tc.name != "a namespace inside it writable by others" {
				t.Fatalf("DefaultDir() = %q, want none", d)
			}
			c := open(t, Options{Namespace: "test", Version: "v"})
			if c.Dir() != "" {
				t.Fatalf("the Cache uses %s", c.Dir())
			}
			v, err := Load(context.Background(), c, testKey{"k", 1}, func(_ context.Context, k testKey) (testValue, error) {
				return testValue{Name: "computed"}, nil
			})
			if err != nil || v.Name != "computed" {
				t.Fatalf("Load = %q, %v; want the computed value", v.Name, err)
			}
			if st := c.Stats(); st.Errors != 1 {
				t.Fatalf("Stats.Errors = %d, want the one error that says why", st.Errors)
			}
		})
	}
}

// TestDefaultDirIsPrivate: the fallback is created for this user alone, and used.
func TestDefaultDirIsPrivate(t *testing.T) {
	tmp := noUserCacheDir(t)
	d := DefaultDir()
	if want := filepath.Join(tmp, "cachegen-"+userTag()); d != want {
		t.Fatalf("DefaultDir() = %q, want %q", d, want)
	}
	c := open(t, Options{Namespace: "test"})
	if _, err := Load(context.Background(), c, testKey{"k", 1}, computeSmall); err != nil {
		t.Fatal(err)
	}
	c.Close() // the background trim is done
	err := filepath.Walk(d, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stats().Stores != 1 {
		t.Fatalf("nothing stored in the private directory: %+v", c.Stats())
	}
}

// TestRelativeDirIsResolvedAtOpen: a relative Dir names the same directory after the working
// directory changes.
func TestRelativeDirIsResolvedAtOpen(t *testing.T) {
	t.Chdir(t.TempDir())
	wd, _ := os.Getwd()
	c := open(t, Options{Dir: "rel", Namespace: "test"})
	if want := filepath.Join(wd, "rel", "test"); c.Dir() != want {
		t.Fatalf("Dir() = %q, want %q", c.Dir(), want)
	}
}

// TestDefaultDirRefusesUnsafeParents: a private directory is only as safe as the directories
// above it: whoever can write its parent can swap it for one of their own while a process
// runs. A parent that others may write without the sticky bit, one that another user owns, and
// a relative TMPDIR (which a change of directory would move) leave the Cache on memory alone.
func TestDefaultDirRefusesUnsafeParents(t *testing.T) {
	cases := []struct {
		name string
		tmp  func(t *testing.T) string // the TMPDIR to use
	}{
		{"parent writable by others", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "shared")
			if err := os.Mkdir(d, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d, 0o777); err != nil { // past the umask
				t.Fatal(err)
			}
			return d
		}},
		{"grandparent writable by others", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "shared")
			if err := os.MkdirAll(filepath.Join(d, "mine"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(d, "mine")
		}},
		{"parent owned by another user", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "theirs")
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(d, 4242, 4242); err != nil {
				t.Logf("cannot chown as this user (%v): a parent writable by others stands for it", err)
				if err := os.Chmod(d, 0o777); err != nil {
					t.Fatal(err)
				}
			}
			return d
		}},
		{"a symbolic link in a directory others may write", func(t *testing.T) string {
			// The link's target is private, but whoever may write the directory that
			// holds the link can point it elsewhere once the cache has checked it.
			base := t.TempDir()
			shared, mine := filepath.Join(base, "shared"), filepath.Join(base, "mine")
			if err := os.Mkdir(shared, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(shared, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(mine, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(mine, filepath.Join(shared, "link")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(shared, "link")
		}},
		{"a symbolic link to a directory under one others may write", func(t *testing.T) string {
			base := t.TempDir()
			shared := filepath.Join(base, "shared")
			if err := os.MkdirAll(filepath.Join(shared, "mine"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(shared, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(shared, "mine"), filepath.Join(base, "link")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(base, "link")
		}},
		{"relative TMPDIR", func(t *testing.T) string {
			t.Chdir(t.TempDir())
			if err := os.Mkdir("rel", 0o700); err != nil {
				t.Fatal(err)
			}
			return "rel"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			noUserCacheDir(t)
			t.Setenv("TMPDIR", tc.tmp(t))
			if d := DefaultDir(); d != "" {
				t.Fatalf("DefaultDir() = %q, want none", d)
			}
			c := open(t, Options{Namespace: "test"})
			if c.Dir() != "" {
				t.Fatalf("the Cache uses %s", c.Dir())
			}
		})
	}
}

// TestDefaultDirUnderStickyParent: a parent that everyone may write, with the sticky bit (as
// /tmp is), is safe: others cannot rename what they do not own.
func TestDefaultDirUnderStickyParent(t *testing.T) {
	noUserCacheDir(t)
	d := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", d)
	if got, want := DefaultDir(), filepath.Join(d, "cachegen-"+userTag()); got != want {
		t.Fatalf("DefaultDir() = %q, want %q", got, want)
	}
}

// fdLimitChild runs, in a process of its own, 400 Loads of distinct keys at once, twice (stores,
// then disk hits), with 64 open files allowed: the Cache must bound its open files below that.
func fdLimitChild(dir string) error {
	ctx := context.Background()
	lim := syscall.Rlimit{Cur: 64, Max: 64}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	c, err := Open(Options{Dir: dir, Namespace: "test", MemoryBytes: -1})
	if err != nil {
		return err
	}
	for range 2 { // stores, then disk hits
		var wg sync.WaitGroup
		for i := range 400 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				Load(ctx, c, testKey{"fd", i}, func(_ context.Context, k testKey) (testValue, error) {
					return valueFor(k, 64<<10), nil
				})
			}()
		}
		wg.Wait()
	}
	c.Close()
	if st := c.Stats(); st.Errors != 0 || st.DiskHits != 400 {
		return fmt.Errorf("with 64 open files allowed: %+v", st)
	}
	return nil
}

// TestFewOpenFilesAllowed: a low limit on open files (ulimit -n 64) makes no Load fail to
// open or store an entry.
func TestFewOpenFilesAllowed(t *testing.T) {
	cmd := helperCommand(t, "fdlimit", t.TempDir(), 1)
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestExplicitDirRefusesForeignDirectories: an explicit Options.Dir is held to the rule of the
// default one: no one else (its group included, who could rename a namespace of their own
// over this one) may be able to write it or a directory above it (a sticky one aside), and
// the namespace and version directories must be this user's alone. With planted entries in
// a refused directory, the Cache runs on memory and computes.
func TestExplicitDirRefusesForeignDirectories(t *testing.T) {
	chmod := func(t *testing.T, d string, mode os.FileMode) {
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		prepare func(t *testing.T, dir string) string // returns the Dir to open
		refused bool
	}{
		{"writable by others", func(t *testing.T, d string) string { chmod(t, d, 0o777); return d }, true},
		{"parent writable by others", func(t *testing.T, d string) string { chmod(t, filepath.Dir(d), 0o777); return d }, true},
		{"namespace writable by others", func(t *testing.T, d string) string { chmod(t, filepath.Join(d, "test"), 0o777); return d }, true},
		{"namespace writable by its group", func(t *testing.T, d string) string { chmod(t, filepath.Join(d, "test"), 0o770); return d }, true},
		{"version directory writable by others", func(t *testing.T, d string) string {
			chmod(t, filepath.Join(d, "test", versionID("v")), 0o777)
			return d
		}, true},
		{"owned by another user", func(t *testing.T, d string) string {
			if err := os.Chown(d, 4242, 4242); err != nil {
				t.Logf("cannot chown as this user (%v): a directory others may write stands for it", err)
				chmod(t, d, 0o777)
			}
			return d
		}, true},
		{"through a symbolic link in a directory others may write", func(t *testing.T, d string) string {
			shared := filepath.Join(filepath.Dir(d), "shared")
			if err := os.Mkdir(shared, 0o700); err != nil {
				t.Fatal(err)
			}
			chmod(t, shared, 0o777)
			if err := os.Symlink(d, filepath.Join(shared, "link")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(shared, "link")
		}, true},
		{"sticky parent writable by all", func(t *testing.T, d string) string { chmod(t, filepath.Dir(d), 0o777|os.ModeSticky); return d }, false},
		{"writable by its group", func(t *testing.T, d string) string { chmod(t, d, 0o770); return d }, true},
		{"parent writable by its group", func(t *testing.T, d string) string { chmod(t, filepath.Dir(d), 0o770); return d }, true},
		{"private", func(t *testing.T, d string) string { return d }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "cache")
			plant(t, d, testKey{"k", 1})
			dir := tc.prepare(t, d)
			c := open(t, Options{Dir: dir, Namespace: "test", Version: "v"})
			v, err := Load(context.Background(), c, testKey{"k", 1}, func(_ context.Context, k testKey) (testValue, error) {
				return testValue{Name: "computed"}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.refused {
				if c.Dir() != "" || v.Name != "computed" || c.Stats().Errors != 1 {
					t.Fatalf("Dir() = %q, Load = %q, stats %+v: want the directory refused", c.Dir(), v.Name, c.Stats())
				}
			} else if c.Dir() == "" || v.Name != "planted" {
				t.Fatalf("Dir() = %q, Load = %q: want the directory used", c.Dir(), v.Name)
			}
		})
	}
}

// TestOpenWritesNothingThroughAPlantedLink: a namespace that is a link to another directory
// is refused before Open writes anything: no version directory, no cache tag (which would
// make backup tools skip the directory, and the admin command take it for a cache).
func TestOpenWritesNothingThroughAPlantedLink(t *testing.T) {
	dir, victim := t.TempDir(), t.TempDir()
	if err := os.Symlink(victim, filepath.Join(dir, "test")); err != nil {
		t.Fatal(err)
	}
	c := open(t, Options{Dir: dir, Namespace: "test"})
	if c.Dir() != "" {
		t.Fatalf("the Cache uses %s", c.Dir())
	}
	if des, _ := os.ReadDir(victim); len(des) != 0 {
		t.Fatalf("Open wrote %v through the link", des)
	}
}

// TestMakePrivateDirsNeverFollowsALink: a directory that another user makes first, between
// Open's check and its making the directories (here a link, or a directory others may
// write, standing where one was missing), is refused, and nothing is written through it.
func TestMakePrivateDirsNeverFollowsALink(t *testing.T) {
	for _, planted := range []string{"link", "open directory"} {
		t.Run(planted, func(t *testing.T) {
			base, victim := t.TempDir(), t.TempDir()
			dir := filepath.Join(base, "cache")
			if planted == "link" {
				if err := os.Symlink(victim, dir); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, 0o777); err != nil {
					t.Fatal(err)
				}
			}
			// What makePrivateDirs meets once the other user has won the race: the
			// path's missing part begins at dir.
			err := makeDirsChecked([]string{dir, filepath.Join(dir, "ns"), filepath.Join(dir, "ns", "v")})
			if err == nil {
				t.Fatal("a planted directory was accepted")
			}
			if des, _ := os.ReadDir(victim); len(des) != 0 {
				t.Fatalf("written through the link: %v", des)
			}
		})
	}
}

// TestPlantedAfterTheDirectoryWent: the cache directory goes while a Cache is open (a
// cleaner of /tmp), and another user makes it again with an entry of their own for a key the
// Cache stored: the Cache never serves it, since it wrote every entry as this user.
func TestPlantedAfterTheDirectoryWent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c := open(t, Options{Dir: dir, Namespace: "test", Version: "v", MemoryBytes: -1})
	key := testKey{"k", 1}
	computed := func(context.Context, testKey) (testValue, error) { return testValue{Name: "computed"}, nil }
	load(t, c, key, computed)
	waitFor(t, func() bool { return os.RemoveAll(dir) == nil }) // past the record's writer
	plant(t, dir, key)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			err = os.Lchown(p, 4242, 4242)
		}
		return err
	})
	if err != nil {
		t.Skipf("giving the planted tree to another user needs root: %v", err)
	}
	v, err := Load(context.Background(), c, key, computed)
	if err != nil || v.Name != "computed" {
		t.Fatalf("Load = %q, %v: another user's entry was served", v.Name, err)
	}
}
