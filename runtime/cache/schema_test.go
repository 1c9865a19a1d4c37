package cache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

type countV1 struct {
	Count int
}

type countV2 struct {
	Count int
	Valid bool
}

type countTagged struct {
	Count int `msg:"n"`
}

type countRenamed struct {
	Total int
}

type count64 struct {
	Count int64
}

type tree struct {
	Kids []tree
	Next *tree
}

// TestValueSchemaInIdentity: a value type's shape is part of an entry's identity, so that a
// build whose value type gained, lost, renamed or retyped a field (or changed a tag) never
// reads another build's entries under a pinned Options.Version. Here each variant stands for
// the same type in another build: their descriptions, apart from the name, must differ.
func TestValueSchemaInIdentity(t *testing.T) {
	shape := func(v any) string {
		d := describeType(reflect.TypeOf(v))
		_, after, _ := strings.Cut(d, "=") // the type's own name differs here, not across builds
		return after
	}
	base := shape(countV1{})
	for name, v := range map[string]any{
		"a field added":   countV2{},
		"a tag changed":   countTagged{},
		"a field renamed": countRenamed{},
		"a field retyped": count64{},
	} {
		if shape(v) == base {
			t.Errorf("%s: same schema as countV1", name)
		}
	}
	if d := describeType(reflect.TypeOf(tree{})); !strings.Contains(d, "#1") {
		t.Errorf("a recursive type is not described by reference: %s", d)
	}
	c := open(t, Options{Dir: t.TempDir()})
	vt := valueTypeOf[testKey, countV1](c)
	if !strings.Contains(vt.name, " schema:") {
		t.Fatalf("value type identity %q has no schema", vt.name)
	}
	other := &valueType{name: strings.Replace(vt.name, "schema:", "schema:0", 1)}
	k1, k2 := memKey{vt: vt}, memKey{vt: other}
	if c.entryKey(&k1) == c.entryKey(&k2) {
		t.Fatal("two schemas of one value type share an entry")
	}
}

// pathKey and urlKey are hand-written keys of two types whose HashKey methods write the
// same: nothing makes a hand-written key name its type, as generated ones do.
type (
	pathKey string
	urlKey  string
)

func (k pathKey) HashKey(h *keyhash.Hasher) { h.String("", string(k)) }
func (k urlKey) HashKey(h *keyhash.Hasher)  { h.String("", string(k)) }

// TestKeyTypeAndNamespaceInIdentity: the key's type and the namespace are part of an
// entry's identity. Two key types whose digests are equal never share a value, in memory
// or on disk; an entry copied into another namespace's directory (or a namespace sharing a
// directory with another on a file system that ignores case) is not found there.
func TestKeyTypeAndNamespaceInIdentity(t *testing.T) {
	ctx := context.Background()
	if keyhash.Sum(pathKey("x")) != keyhash.Sum(urlKey("x")) {
		t.Fatal("the two hand-written keys no longer collide: the test tests nothing")
	}
	by := func(who string) func(context.Context, string) (testValue, error) {
		return func(_ context.Context, k string) (testValue, error) { return testValue{Name: who + ":" + k}, nil }
	}
	dir := t.TempDir()
	for _, memory := range []int64{0, -1} { // the memory tier, then the disk alone
		c := open(t, Options{Dir: dir, Namespace: "keys", MemoryBytes: memory})
		p, err := Load(ctx, c, pathKey("x"), func(ctx context.Context, k pathKey) (testValue, error) { return by("path")(ctx, string(k)) })
		if err != nil {
			t.Fatal(err)
		}
		u, err := Load(ctx, c, urlKey("x"), func(ctx context.Context, k urlKey) (testValue, error) { return by("url")(ctx, string(k)) })
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "path:x" || u.Name != "url:x" {
			t.Errorf("memory %d: Load(pathKey) = %q, Load(urlKey) = %q: two key types shared an entry", memory, p.Name, u.Name)
		}
		c.Close()

		// The same keys passed as an interface: the type they hold is the key's type.
		c = open(t, Options{Dir: t.TempDir(), Namespace: "keys", MemoryBytes: memory})
		for _, k := range []keyhash.Key{pathKey("y"), urlKey("y"), pathKey("y")} {
			want := fmt.Sprintf("%T:y", k)
			v, err := Load(ctx, c, k, func(_ context.Context, k keyhash.Key) (testValue, error) {
				return testValue{Name: fmt.Sprintf("%T:y", k)}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if v.Name != want {
				t.Errorf("memory %d: Load[keyhash.Key](%s) = %q: two key types shared an entry", memory, want, v.Name)
			}
		}
		if st := c.Stats(); st.Computes != 2 || st.Hits != 1 {
			t.Errorf("memory %d: interface keys: %+v, want 2 computes and 1 hit", memory, st)
		}
		c.Close()
	}

	// One entry in namespace a, the whole directory copied as namespace b.
	root := t.TempDir()
	a := open(t, Options{Dir: root, Namespace: "a", MemoryBytes: -1})
	load(t, a, testKey{"copied", 1}, computeSmall)
	a.Close()
	if err := os.CopyFS(filepath.Join(root, "b"), os.DirFS(filepath.Join(root, "a"))); err != nil {
		t.Fatal(err)
	}
	b := open(t, Options{Dir: root, Namespace: "b", MemoryBytes: -1})
	v, err := Load(ctx, b, testKey{"copied", 1}, func(context.Context, testKey) (testValue, error) { return testValue{Name: "b's own"}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); v.Name != "b's own" || st.DiskHits != 0 {
		t.Errorf("namespace b served namespace a's entry: %q, %+v", v.Name, st)
	}
}
