package cache

import (
	"reflect"
	"strings"
	"testing"
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
	vt := valueTypeOf[countV1](c)
	if !strings.Contains(vt.name, " schema:") {
		t.Fatalf("value type identity %q has no schema", vt.name)
	}
	other := &valueType{name: strings.Replace(vt.name, "schema:", "schema:0", 1)}
	k1, k2 := memKey{vt: vt}, memKey{vt: other}
	if c.entryKey(&k1) == c.entryKey(&k2) {
		t.Fatal("two schemas of one value type share an entry")
	}
}
