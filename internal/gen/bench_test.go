package gen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tinylib/msgp/gen"
	"github.com/tinylib/msgp/parse"
	"github.com/tinylib/msgp/printer"
	"golang.org/x/tools/go/packages"
)

// benchPackage writes, into a new module in a temporary directory, a package of n annotated
// structs (every other one a key, the others values) with the mix of fields a compiler's
// options and outputs have, and returns the module's directory. The module requires this
// checkout through a replace directive, as a user's module requires cachegen.
//
// It also writes, in the directory msgp/ beside the module, the value structs alone and the
// types they use, in one file: the input msgp's own generator is given for comparison.
func benchPackage(b testing.TB, n int) (dir, msgpFile string) {
	b.Helper()
	root := repoRoot(b)
	tmp := b.TempDir()
	dir = filepath.Join(tmp, "mod")
	write := func(path, content string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write(filepath.Join(dir, "go.mod"), "module example.com/bench\n\ngo 1.26.0\n\n"+
		"require github.com/cachegen/cachegen v0.0.0\n\n"+
		"replace github.com/cachegen/cachegen => "+root+"\n")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		b.Fatal(err)
	}
	write(filepath.Join(dir, "go.sum"), string(sum))

	const shared = `// Level is an enum.
type Level int8

// Reloc is reached from the values and gets serializers too.
type Reloc struct {
	Offset uint32
	Symbol string
	Kind   uint8
}
`
	var keys, values strings.Builder
	keys.WriteString(`// Package bench is a generated input of BenchmarkGenerate.
package bench

import (
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
)

` + shared + `
// Import is reached from the keys and gets a HashKey too.
type Import struct {
	Module, Name string
	Kind         uint8
}

// ISA is a polymorphic key part.
type ISA interface {
	keyhash.Key
	Name() string
}
`)
	values.WriteString("package bench\n\nimport \"time\"\n\n" + shared)
	for i := range n {
		if i%2 == 0 {
			fmt.Fprintf(&keys, `
// Key%[1]d is what output %[1]d depends on.
//
//cachegen:key
type Key%[1]d struct {
	CompilerVersion string
	OptLevel        int
	Debug           bool
	Lvl             Level
	Target          struct {
		Arch, OS string
		Features []string `+"`cache:\"set\"`"+`
	}
	Flags   map[string]string
	Defines []string
	Imports []Import
	Sum     [32]byte
	Limits  [4]uint16
	Opt     *int
	Ratio   float64
	When    time.Time
	Timeout time.Duration
	ISA     ISA
	Source  []byte
	Nested  map[string][]int32
	Verbose func() `+"`cache:\"-\"`"+`
}
`, i)
		} else {
			decl := fmt.Sprintf(`
// Value%[1]d is output %[1]d.
//
//cachegen:value
type Value%[1]d struct {
	Code   []byte
	Relocs []Reloc
	Traps  []struct {
		Offset uint32
		Code   uint8
	}
	Names   map[uint32]string
	Meta    map[string][]int64
	Opt     *Level
	Lvl     Level
	When    time.Time
	Timeout time.Duration
	Ok      bool
	Count   int
	Ratio   float64
	Sum     [32]byte
	Strs    []string
	Log     func(string) `+"`msg:\"-\"`"+`
}
`, i)
			keys.WriteString(decl)
			values.WriteString(decl)
		}
	}
	write(filepath.Join(dir, "input.go"), keys.String())
	msgpFile = filepath.Join(tmp, "msgp", "values.go")
	write(msgpFile, values.String())

	// The module as a user has it: tidy, with the generated file, which imports msgp.
	tidy := func() {
		cmd := exec.Command("go", "mod", "tidy")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go mod tidy: %v\n%s", err, out)
		}
	}
	tidy()
	files, err := Generate(Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if err := Write(files); err != nil {
		b.Fatal(err)
	}
	tidy()
	return dir, msgpFile
}

// reportCPU reports the CPU time per operation that this process and its children used since
// start (a cpuTime), as cpu-ns/op: on a shared machine, less noisy than the time on the wall.
func reportCPU(b *testing.B, start int64) {
	if used := cpuTime() - start; used > 0 {
		b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
	}
}

// benchGenerate measures whole runs with cfg, Generate then Write, as go generate runs
// them: every iteration writes, the old file removed first.
func benchGenerate(b *testing.B, cfg Config) {
	var size int
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		files, err := Generate(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if len(files) != 1 {
			b.Fatalf("%d files, want 1", len(files))
		}
		if err := os.Remove(files[0].Path); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
		files[0].Old = nil
		if err := Write(files); err != nil {
			b.Fatal(err)
		}
		size = len(files[0].Content)
	}
	b.ReportMetric(float64(size), "output-bytes")
}

// BenchmarkGenerate times the generator on packages of 10, 100 and 500 annotated structs:
//
//   - generate: the whole of a run, Generate then Write, as go generate runs it;
//   - generate-command: the same at the collector's pace that the command sets
//     (CommandGCPercent);
//   - load, model, emit: its phases (listing the packages with the go command and
//     type-checking the package against its dependencies' export data; building the model
//     and planning the methods; writing, formatting and checking the file);
//   - packages: go/packages loading the package with syntax and types, its generated file
//     replaced through an overlay, once: how the generator loaded its input before, which
//     type-checks every dependency from source;
//   - msgp: msgp's own generator (parse, generate, goimports, write) on the value structs
//     alone, the tool a user would otherwise run for them.
//
// The generated file's size is reported as output-bytes, the CPU time of the process and
// of the go command it runs as cpu-ns/op.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{10, 100, 500} {
		b.Run(fmt.Sprintf("structs=%d", n), func(b *testing.B) {
			dir, msgpFile := benchPackage(b, n)
			cfg := Config{Dir: dir}
			for _, name := range []string{"generate", "generate-command"} {
				b.Run(name, func(b *testing.B) {
					if name == "generate-command" {
						defer debug.SetGCPercent(debug.SetGCPercent(CommandGCPercent))
					}
					benchGenerate(b, cfg)
				})
			}

			var loaded []loadedPackage
			b.Run("load", func(b *testing.B) {
				defer reportCPU(b, cpuTime())
				for b.Loop() {
					var err error
					if loaded, err = load(cfg); err != nil {
						b.Fatal(err)
					}
				}
			})
			if loaded == nil { // load was not run (-bench chose other phases)
				var err error
				if loaded, err = load(cfg); err != nil {
					b.Fatal(err)
				}
			}
			if len(loaded) != 1 {
				b.Fatalf("%d packages loaded, want 1", len(loaded))
			}
			// The model and the plan are built into the loaded package's types, which
			// they only read: every iteration starts from the same input.
			var (
				pkg  *Package
				plan *filePlan
			)
			model := func() {
				var errs ErrorList
				pkg = buildPackage(loaded[0].pkg, nil, &errs)
				var perrs ErrorList
				plan, perrs = planFile(pkg)
				if errs = append(errs, perrs...); len(errs) > 0 {
					b.Fatal(errs)
				}
			}
			b.Run("model", func(b *testing.B) {
				for b.Loop() {
					model()
				}
			})
			b.Run("emit", func(b *testing.B) {
				var cpu int64
				for b.Loop() {
					b.StopTimer()
					model() // emitting consumes the plan's code
					b.StartTimer()
					start := cpuTime()
					if _, errs := emitFile(pkg, plan); len(errs) > 0 {
						b.Fatal(errs)
					}
					cpu += cpuTime() - start
				}
				b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
			})

			b.Run("packages", func(b *testing.B) {
				// As the generator loads it: its generated file reduced to the
				// package clause.
				overlay := map[string][]byte{
					filepath.Join(dir, DefaultOutput): []byte(generatedHeader + "\n\npackage bench\n"),
				}
				defer reportCPU(b, cpuTime())
				for b.Loop() {
					pkgs, err := packages.Load(&packages.Config{
						Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
							packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports,
						Dir:     dir,
						Overlay: overlay,
					}, ".")
					if err != nil || len(pkgs) != 1 {
						b.Fatal(err)
					}
				}
			})
			b.Run("msgp", func(b *testing.B) {
				directives := []string{"maps autoshim", fmt.Sprintf("limit arrays:%d maps:%d", arrayLimit, mapLimit)}
				out := strings.TrimSuffix(msgpFile, ".go") + "_gen.go"
				defer reportCPU(b, cpuTime())
				for b.Loop() {
					fs, err := parse.File(msgpFile, true, directives)
					if err != nil {
						b.Fatal(err)
					}
					if err := printer.PrintFile(out, fs, gen.Encode|gen.Decode|gen.Marshal|gen.Unmarshal|gen.Size); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
