// Command minicompiler compiles a program of the minicompiler language (see package
// compiler) through cachegen's disk cache, runs it, and says on standard error whether the
// compile hit the cache and how long it took.
//
//	go run ./examples/minicompiler -O2 prog.mc          # compile prog.mc at -O2 and run it
//	go run ./examples/minicompiler -O2                  # the embedded sample program
//	go run ./examples/minicompiler -O1 -target vm32 -g  # another key: a miss
//	go run ./examples/minicompiler -S -O2               # print the bytecode instead of running
//
// The cache key is compiler.Options: the source and its file name, -O, -target, -g and the
// compiler version.
// Run the same command twice, in two processes, and the second compiles nothing: it loads
// the program that the first stored. Change any option and it misses again.
//
// With CACHEGEN_REMOTE and CACHEGEN_REMOTE_SECRET set (see the README, Sharing the cache
// between machines), a miss is also looked up in that remote (http://, https:// or redis://)
// and what is compiled is uploaded to it before the process exits: another machine, or
// another cache directory, then loads it from the remote.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cachegen/cachegen/examples/minicompiler/compiler"
	"github.com/cachegen/cachegen/runtime/cache"
	// The Redis engine of the remote tier: CACHEGEN_REMOTE may be a redis:// URL.
	_ "github.com/cachegen/cachegen/runtime/cache/redisremote"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

// sample is the program compiled when no file is named.
//
//go:embed sample.mc
var sample string

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the command line.
type config struct {
	opts     compiler.Options
	cacheDir string
	noCache  bool
	listing  bool
	steps    int64
}

// parseArgs parses the command line into a config; the source is read here.
func parseArgs(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("minicompiler", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: minicompiler [-O0|-O1|-O2] [-target vm32|vm64] [-g] [-cache-dir DIR] [-S] [file.mc | -sample]")
		fs.PrintDefaults()
	}
	var levels [compiler.MaxOptLevel + 1]bool
	for i := range levels {
		fs.BoolVar(&levels[i], fmt.Sprintf("O%d", i), false, fmt.Sprintf("optimization level %d (default -O1)", i))
	}
	target := fs.String("target", "vm64", "target machine: vm64 or vm32 (integers wrap at 64 or 32 bits)")
	debug := fs.Bool("g", false, "add debug information: a line table and variable names")
	cacheDir := fs.String("cache-dir", "", "cache directory (default: the user cache directory)")
	noCache := fs.Bool("no-cache", false, "compile without the cache")
	listing := fs.Bool("S", false, "print the bytecode listing instead of running the program")
	useSample := fs.Bool("sample", false, "compile the embedded sample program (the default without a file)")
	steps := fs.Int64("steps", 1e9, "stop the program after this many instructions (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}

	cfg := config{cacheDir: *cacheDir, noCache: *noCache, listing: *listing, steps: *steps}
	cfg.opts.CompilerVersion = compiler.Version
	cfg.opts.OptLevel = -1
	for i, set := range levels {
		if set {
			if cfg.opts.OptLevel >= 0 {
				return config{}, fmt.Errorf("-O%d and -O%d: choose one optimization level", cfg.opts.OptLevel, i)
			}
			cfg.opts.OptLevel = i
		}
	}
	if cfg.opts.OptLevel < 0 {
		cfg.opts.OptLevel = 1
	}
	t, err := compiler.ParseTarget(*target)
	if err != nil {
		return config{}, fmt.Errorf("-target: %w", err)
	}
	cfg.opts.Target = t
	cfg.opts.Debug = *debug

	switch {
	case fs.NArg() > 1:
		return config{}, fmt.Errorf("one source file at most, got %d", fs.NArg())
	case fs.NArg() == 1 && *useSample:
		return config{}, errors.New("-sample and a source file: choose one")
	case fs.NArg() == 1:
		path := fs.Arg(0)
		src, err := os.ReadFile(path)
		if err != nil {
			return config{}, err
		}
		cfg.opts.File, cfg.opts.Source = path, string(src)
	default:
		cfg.opts.File, cfg.opts.Source = "sample.mc", sample
	}
	return cfg, nil
}

// run is the command: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "minicompiler:", err)
		return 2
	}

	var c *cache.Cache
	if !cfg.noCache {
		c, err = cache.Open(cache.Options{Dir: cfg.cacheDir, Namespace: "minicompiler"})
		if err != nil {
			fmt.Fprintln(stderr, "minicompiler:", err)
			return 2
		}
		// Close waits for the upload of what was compiled, if there is a remote.
		defer closeCache(c, stderr)
	}

	ctx := context.Background()
	start := time.Now()
	prog, hit, err := compiler.Build(ctx, c, cfg.opts)
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintln(stderr, "minicompiler:", err)
		return 1
	}
	what := fmt.Sprintf("%s -O%d -target %s", cfg.opts.File, cfg.opts.OptLevel, cfg.opts.Target)
	if cfg.opts.Debug {
		what += " -g"
	}
	status := compileStatus(c, hit, elapsed)

	if cfg.listing {
		fmt.Fprint(stdout, prog.Disassemble())
		fmt.Fprintf(stderr, "minicompiler: %s: %s\n", what, status)
		return 0
	}
	runStart := time.Now()
	res, runErr := prog.Run(stdout, cfg.steps)
	ran := fmt.Sprintf("ran %d instructions in %v", res.Steps, time.Since(runStart).Round(time.Microsecond))
	fmt.Fprintf(stderr, "minicompiler: %s: %s; %s; key %.12s\n", what, status, ran, keyhash.Sum(cfg.opts))
	if runErr != nil {
		fmt.Fprintln(stderr, "minicompiler:", runErr)
		return 1
	}
	return 0
}

// compileStatus describes where the program came from, how long that took, and the
// cache's counters.
func compileStatus(c *cache.Cache, hit bool, elapsed time.Duration) string {
	d := elapsed.Round(10 * time.Microsecond)
	if c == nil {
		return fmt.Sprintf("compiled in %v (cache disabled)", d)
	}
	st := c.Stats()
	verdict := fmt.Sprintf("cache MISS, compiled in %v", d)
	if hit {
		tier := "memory"
		switch {
		case st.RemoteHits > 0:
			tier = "remote"
		case st.DiskHits > 0:
			tier = "disk"
		}
		verdict = fmt.Sprintf("cache HIT (%s), loaded in %v", tier, d)
	}
	remote := ""
	if st.RemoteHits+st.RemoteMisses+st.RemoteErrors+st.RemoteRejected+st.RemoteSkipped > 0 {
		remote = fmt.Sprintf("; remote: hits %d, misses %d, errors %d, rejected %d", st.RemoteHits, st.RemoteMisses, st.RemoteErrors, st.RemoteRejected)
	}
	return fmt.Sprintf("%s [stats: hits %d (disk %d, memory %d, remote %d), misses %d, stores %d (%d bytes), errors %d%s; dir %s]",
		verdict, st.Hits, st.DiskHits, st.MemoryHits, st.RemoteHits, st.Misses, st.Stores, st.StoredBytes, st.Errors, remote, c.Dir())
}

// closeCache closes c, which waits for its uploads to the remote tier, and says what they
// did, when there were any.
func closeCache(c *cache.Cache, stderr io.Writer) {
	if err := c.Close(); err != nil {
		fmt.Fprintln(stderr, "minicompiler:", err)
	}
	if st := c.Stats(); st.Uploads+st.UploadsDropped > 0 {
		fmt.Fprintf(stderr, "minicompiler: remote cache: %d entries uploaded (%d bytes), %d dropped\n",
			st.Uploads, st.UploadedBytes, st.UploadsDropped)
	}
}
