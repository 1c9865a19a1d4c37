// Package ambient holds computes that read ambient inputs, and computes that call only the
// standard library's pure functions.
package ambient

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"io/ioutil"
	"maps"
	"math"
	"math/rand"
	randv2 "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct {
	Path string
	Seed int64
}

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

type ctxKey struct{}

func ambient(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: os.Getenv("HOME")}, nil // want `compute reads the environment \(os.Getenv\): put the variable's value in the key`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		v, _ := os.LookupEnv("X")                              // want `compute reads the environment \(os.LookupEnv\)`
		return Out{S: v + strings.Join(os.Environ(), "")}, nil // want `compute reads the environment \(os.Environ\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: time.Now().String()}, nil // want `compute reads the clock \(time.Now\): put the time it needs in the key`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		start := time.Unix(k.Seed, 0)                  // a time made from the key is fine
		return Out{S: time.Since(start).String()}, nil // want `compute reads the clock \(time.Since\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: fmt.Sprint(rand.Intn(10))}, nil // want `compute reads random numbers \(math/rand.Intn\): seed a generator from a key field instead`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: fmt.Sprint(randv2.IntN(10))}, nil // want `compute reads random numbers \(math/rand/v2.IntN\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		b := make([]byte, 8)
		crand.Read(b) // want `compute reads random numbers \(crypto/rand.Read\)`
		return Out{S: string(b)}, nil
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		b, err := io.ReadAll(io.LimitReader(crand.Reader, 8)) // want `compute reads random numbers \(crypto/rand.Reader\)`
		return Out{S: string(b)}, err
	})
	// A generator seeded from the key draws the same numbers for the same key.
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		r := rand.New(rand.NewSource(k.Seed))
		r2 := randv2.New(randv2.NewPCG(uint64(k.Seed), 1))
		return Out{S: fmt.Sprint(r.Intn(10), r2.IntN(10))}, nil
	})
}

func fileSystem(ctx context.Context, c *cache.Cache, k Key) {
	// Reading through a path held in the key is the classic stale-cache bug: the file
	// changes, the key does not.
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		b, err := os.ReadFile(k.Path) // want `compute reads the file system \(os.ReadFile\): put the file's content, or its digest, in the key`
		return Out{S: string(b)}, err
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		f, err := os.Open(k.Path) // want `compute reads the file system \(os.Open\)`
		if err != nil {
			return Out{}, err
		}
		defer f.Close() // want `compute reads the file system \(os.File.Close\)`
		b, err := io.ReadAll(f)
		return Out{S: string(b)}, err
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		_, err := os.Stat(k.Path)          // want `compute reads the file system \(os.Stat\)`
		es, _ := os.ReadDir(k.Path)        // want `compute reads the file system \(os.ReadDir\)`
		b, _ := ioutil.ReadFile(k.Path)    // want `compute reads the file system \(io/ioutil.ReadFile\)`
		m, _ := filepath.Glob(k.Path)      // want `compute reads the file system \(path/filepath.Glob\)`
		filepath.WalkDir(k.Path, nil)      // want `compute reads the file system \(path/filepath.WalkDir\)`
		fs.ReadFile(os.DirFS(k.Path), "x") // want `compute reads the file system \(os.DirFS\)`
		return Out{S: fmt.Sprint(err, len(es), len(b), m)}, nil
	})
	cache.Load(ctx, c, k, fromEmbed)
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		//cachegen:allow reads only the immutable toolchain directory
		b, err := os.ReadFile(filepath.Join("/toolchain", k.Path))
		return Out{S: string(b)}, err
	})
}

//go:embed ambient.go
var files embed.FS

// fromEmbed reads the program's own embedded files: they are part of the program.
func fromEmbed(_ context.Context, k Key) (Out, error) {
	b, err := files.ReadFile("ambient.go")
	return Out{S: string(b[:len(k.Path)])}, err
}

func networkAndProcesses(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		resp, err := http.Get(k.Path) // want `compute uses the network \(net/http.Get\): fetch before Load and put the content, or its digest, in the key`
		if err != nil {
			return Out{}, err
		}
		return Out{S: resp.Status}, nil
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		_, err := net.Dial("tcp", k.Path) // want `compute uses the network \(net.Dial\)`
		req, _ := http.NewRequest("GET", k.Path, nil)
		http.DefaultClient.Do(req) // want `compute uses the network \(net/http.Client.Do\)`
		return Out{S: fmt.Sprint(err, net.JoinHostPort("h", "1"))}, nil
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		out, err := exec.Command("cc", k.Path).Output() // want `compute runs other programs \(os/exec.Command\): run it before Load and put its output, or the program's version, in the key` `compute runs other programs \(os/exec.Cmd.Output\)`
		return Out{S: string(out)}, err
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		h, _ := os.Hostname()                           // want `compute reads the process or the machine \(os.Hostname\): put the value in the key`
		return Out{S: h + fmt.Sprint(os.Getpid())}, nil // want `compute reads the process or the machine \(os.Getpid\)`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		return Out{S: os.Args[0]}, nil // want `compute reads the command line \(os.Args\): put the flags' values in the key`
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		b, err := io.ReadAll(os.Stdin) // want `compute reads standard input \(os.Stdin\)`
		return Out{S: string(b)}, err
	})
}

func fromCtx(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		v, _ := ctx.Value(ctxKey{}).(string) // want `compute reads ctx.Value: values the context carries are not in the key; put the value in the key`
		return Out{S: v}, nil
	})
	cache.Load(ctx, c, k, fromContext) // want `compute \(fromContext, at ambient\.go:\d+:\d+\) reads ctx.Value \(via ambient.user\)`
	// Cancellation and deadlines are not values: fine.
	cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		if err := ctx.Err(); err != nil {
			return Out{}, err
		}
		return Out{S: k.Path}, nil
	})
}

func fromContext(ctx context.Context, k Key) (Out, error) {
	return Out{S: user(ctx) + k.Path}, nil
}

func user(ctx context.Context) string {
	s, _ := ctx.Value(ctxKey{}).(string)
	return s
}

// Through module functions: the report is at the compute and names the way.
func through(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, readsConfig) // want `compute \(readsConfig, at ambient\.go:\d+:\d+\) reads the file system \(os.ReadFile, via ambient.loadConfig\)` `compute \(readsConfig, at ambient\.go:\d+:\d+\) reads the environment \(os.Getenv, via ambient.loadConfig → ambient.configDir\)`
	cache.Load(ctx, c, k, func(ctx context.Context, k Key) (Out, error) {
		return readsConfig(ctx, k) // want `compute \(at ambient\.go:\d+:\d+\) reads the file system \(os.ReadFile, via ambient.readsConfig → ambient.loadConfig\)` `compute \(at ambient\.go:\d+:\d+\) reads the environment`
	})
	cache.Load(ctx, c, k, stamped) // want `compute \(stamped, at ambient\.go:\d+:\d+\) reads the clock \(time.Now, via ambient.stamp\)`
}

func readsConfig(_ context.Context, k Key) (Out, error) {
	b, err := loadConfig(k.Path)
	return Out{S: string(b)}, err
}

func loadConfig(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(configDir(), name))
}

func configDir() string { return os.Getenv("CONFIG") }

func stamped(_ context.Context, k Key) (Out, error) {
	var parts []string
	for i := range 3 {
		parts = append(parts, stamp(i))
	}
	return Out{S: strings.Join(parts, k.Path)}, nil
}

// stamp and stamp2 are recursive: they share what they read.
func stamp(n int) string {
	if n == 0 {
		return time.Now().String()
	}
	return stamp2(n - 1)
}

func stamp2(n int) string { return stamp(n) }

// Pure is a compute that calls only the standard library's pure functions.
func Pure(_ context.Context, k Key) (Out, error) {
	s := strings.ToUpper(k.Path)
	words := strings.Fields(s)
	sort.Strings(words)
	slices.Reverse(words)
	m := map[string]int{}
	for i, w := range words {
		m[w] = i
	}
	keys := slices.Sorted(maps.Keys(m))
	var buf bytes.Buffer
	buf.WriteString(strings.Join(keys, ","))
	buf.WriteString(strconv.Itoa(int(math.Sqrt(float64(k.Seed)))))
	if unicode.IsUpper(rune(s[0])) {
		buf.WriteString(fmt.Sprintf("%d", len(s)))
	}
	return Out{S: buf.String() + filepath.Join("a", k.Path)}, nil
}

func usesPure(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, Pure)
}
