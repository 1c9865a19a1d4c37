package compiler

import (
	"context"
	"fmt"

	"github.com/cachegen/cachegen/runtime/cache"
)

// Compile compiles opts.Source. It is the cache's compute function: a top-level function
// whose result depends on its Options and on nothing else, so that the key describes the
// value completely. Compile errors are *Error values with the source position.
func Compile(ctx context.Context, opts Options) (Program, error) {
	if opts.CompilerVersion != Version {
		return Program{}, fmt.Errorf("options are for compiler %q, this is %q", opts.CompilerVersion, Version)
	}
	if opts.OptLevel < 0 || opts.OptLevel > MaxOptLevel {
		return Program{}, fmt.Errorf("optimization level %d out of range 0 to %d", opts.OptLevel, MaxOptLevel)
	}
	if opts.Target != VM32 && opts.Target != VM64 {
		return Program{}, fmt.Errorf("unknown target %v", opts.Target)
	}
	prog, err := parse(opts.File, opts.Source, opts.Target)
	if err != nil {
		return Program{}, err
	}
	vars, err := resolve(opts.File, prog)
	if err != nil {
		return Program{}, err
	}
	var stats Stats
	prog = optimizeTree(prog, opts.OptLevel, opts.Target, &stats)
	list, strs := generate(prog, opts.OptLevel)
	stats.SourceInstrs = countInstrs(list)

	if opts.OptLevel >= 1 {
		var n int
		list, n = peephole(list, opts.Target)
		stats.Peephole += n
	}
	if opts.OptLevel >= 2 {
		so := newSuperopt(ctx, opts.Target, &stats)
		for stats.Rounds < 16 {
			stats.Rounds++
			changed := false
			if n := deadStores(list, len(vars)); n > 0 {
				stats.Eliminated += n
				changed = true
			}
			var n int
			list, n = peephole(list, opts.Target)
			stats.Peephole += n
			var sch bool
			list, sch, err = so.run(list)
			if err != nil {
				return Program{}, fmt.Errorf("superoptimizer: %w", err)
			}
			if !sch && !changed && n == 0 {
				break
			}
		}
	}
	stats.Instrs = countInstrs(list)

	a, err := assemble(list, strs)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.File = opts.File
		}
		return Program{}, err
	}
	p := Program{
		CompilerVersion: Version,
		Target:          opts.Target,
		OptLevel:        opts.OptLevel,
		Code:            a.code,
		Consts:          a.consts,
		Strings:         a.strings,
		NumVars:         len(vars),
		MaxStack:        maxStack(list),
		Stats:           stats,
	}
	if opts.Debug {
		p.Debug = &DebugInfo{File: opts.File, Lines: a.lines, Vars: vars}
	}
	return p, nil
}

// Build returns the program compiled from opts through the cache c: from memory, from disk
// (possibly stored by another process), or by calling Compile and storing its result.
// opts.CompilerVersion is set to Version when empty. hit reports whether the program came
// from the cache (it is told by c's Stats, so it is exact when no other Load runs on c at
// the same time). A nil c just compiles.
func Build(ctx context.Context, c *cache.Cache, opts Options) (p Program, hit bool, err error) {
	if opts.CompilerVersion == "" {
		opts.CompilerVersion = Version
	}
	if c == nil {
		p, err = Compile(ctx, opts)
		return p, false, err
	}
	before := c.Stats().Hits
	p, err = cache.Load(ctx, c, opts, Compile)
	if err != nil {
		return Program{}, false, err
	}
	return p, c.Stats().Hits > before, nil
}

func countInstrs(list []instr) int {
	n := 0
	for _, in := range list {
		if in.op != opLabel {
			n++
		}
	}
	return n
}

// labelIndex returns the index in list of each label.
func labelIndex(list []instr) map[int64]int {
	at := map[int64]int{}
	for i, in := range list {
		if in.op == opLabel {
			at[in.arg] = i
		}
	}
	return at
}

// maxStack returns the deepest the stack gets, following the control flow.
func maxStack(list []instr) int {
	at := labelIndex(list)
	depth := make([]int, len(list)+1)
	for i := range depth {
		depth[i] = -1
	}
	deepest := 0
	work := []int{0}
	depth[0] = 0
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		if i >= len(list) {
			continue
		}
		in := list[i]
		pops, pushes := 0, 0
		if in.op != opLabel {
			pops, pushes = effect(in)
		}
		d := max(depth[i]-pops, 0) + pushes
		deepest = max(deepest, d)
		visit := func(j int) {
			if depth[j] < 0 {
				depth[j] = d
				work = append(work, j)
			}
		}
		if in.op.isJump() {
			visit(at[in.arg])
		}
		if in.op != opJmp && in.op != opHalt {
			visit(i + 1)
		}
	}
	return deepest
}
