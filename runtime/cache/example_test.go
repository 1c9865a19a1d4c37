package cache_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/tinylib/msgp/msgp"
)

// CompileKey is everything a compilation depends on. cachegen generates its HashKey method
// from a //cachegen:key annotation; it is written by hand here.
type CompileKey struct {
	Source   string
	OptLevel int
}

func (k CompileKey) HashKey(h *keyhash.Hasher) {
	h.Begin("example.CompileKey", 0x243f6a8885a308d3, 0x13198a2e03707344, 0xa4093822299f31d0, 0x082efa98ec4e6c89)
	h.String("Source", k.Source)
	h.Int("OptLevel", k.OptLevel)
	h.End()
}

// Object is a compilation's result. cachegen generates its msgp methods from a
// //cachegen:value annotation; they are written by hand here.
type Object struct {
	Code []byte
}

func (o *Object) MarshalMsg(b []byte) ([]byte, error) { return msgp.AppendBytes(b, o.Code), nil }

func (o *Object) UnmarshalMsg(b []byte) ([]byte, error) {
	var err error
	o.Code, b, err = msgp.ReadBytesBytes(b, o.Code[:0])
	return b, err
}

func (o *Object) Msgsize() int { return msgp.BytesPrefixSize + len(o.Code) }

// compile is a top-level function: everything it uses comes through its key.
func compile(_ context.Context, k CompileKey) (Object, error) {
	return Object{Code: fmt.Appendf(nil, "code for %s at -O%d", k.Source, k.OptLevel)}, nil
}

func ExampleLoad() {
	dir, err := os.MkdirTemp("", "cachegen-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	c, err := cache.Open(cache.Options{Dir: dir, Namespace: "mycompiler"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ctx := context.Background()
	for _, k := range []CompileKey{{"main.c", 2}, {"main.c", 2}, {"main.c", 3}} {
		// The type arguments are inferred from the key and the compute function.
		obj, err := cache.Load(ctx, c, k, compile)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", obj.Code)
	}
	st := c.Stats()
	fmt.Println("hits:", st.Hits, "misses:", st.Misses)
	// Output:
	// code for main.c at -O2
	// code for main.c at -O2
	// code for main.c at -O3
	// hits: 1 misses: 2
}

func ExampleUsage() {
	dir, err := os.MkdirTemp("", "cachegen-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	c, err := cache.Open(cache.Options{Dir: dir, Namespace: "mycompiler", Version: "v1.2.3"})
	if err != nil {
		log.Fatal(err)
	}
	for level := range 3 {
		if _, err := cache.Load(context.Background(), c, CompileKey{"lib.c", level}, compile); err != nil {
			log.Fatal(err)
		}
	}
	c.Close()

	usage, err := cache.Usage(dir, "")
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range usage {
		fmt.Printf("%s %s: %d entries\n", u.Namespace, u.Version, u.Entries)
	}
	if _, err := cache.Clear(dir, ""); err != nil {
		log.Fatal(err)
	}
	usage, _ = cache.Usage(dir, "")
	fmt.Println(len(usage), "versions after Clear")
	// Output:
	// mycompiler v1.2.3: 3 entries
	// 0 versions after Clear
}

func ExampleOpen_unusableDirectory() {
	// A cache directory that cannot be created does not make Open or Load fail: the Cache
	// works without its disk tier, and counts the problem.
	f, err := os.CreateTemp("", "not-a-directory")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	f.Close()

	c, err := cache.Open(cache.Options{Dir: f.Name() + "/cache", Namespace: "mycompiler", Logger: discard})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	obj, err := cache.Load(context.Background(), c, CompileKey{"main.c", 2}, compile)
	fmt.Printf("%s, %v, errors counted: %d\n", obj.Code, err, c.Stats().Errors)
	// Output:
	// code for main.c at -O2, <nil>, errors counted: 1
}

// discard is a logger that drops everything, to keep examples' output clean.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))
