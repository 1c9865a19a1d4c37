package compiler

import (
	"context"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// The superoptimizer's bounds. Its search is exhaustive within them: every sequence of up to
// maxCandidate instructions over the alphabet is tried against every window of up to
// maxWindow instructions.
const (
	maxWindow    = 6  // instructions in a window
	maxCandidate = 4  // instructions in a replacement
	maxInputs    = 6  // stack values a window may consume
	maxWinVars   = 4  // distinct variables in a window
	stackCap     = 16 // deepest evaluation stack
	quickVectors = 16 // vectors every candidate that survives the first one is tried on
	// searchBudget bounds the candidates tried for one window, so that windows with many
	// constants (each adds several pushes to the alphabet) cannot make a compile take
	// minutes. It is a count, not a time: the result stays deterministic.
	searchBudget = 300_000
)

// A vector is an assignment of the inputs of a window: the stack values below it, and its
// variables.
type vector struct {
	stack [maxInputs]int64
	vars  [maxWinVars]int64
}

// superopt is a bounded peephole superoptimizer (after Massalin's): for each window of
// straight-line, side-effect-free instructions it enumerates all cheaper instruction
// sequences, and keeps the cheapest one that computes the same stack on every test vector
// and that the prover (see prove.go) shows to be equivalent. The test vectors are a fast
// filter, chosen to reject most wrong candidates at the first vector and nearly all of
// them by the last; they are not a proof, since a rare input can tell two sequences apart
// (x << 53 wraps to the minimum for one x in 2048). The prover is the proof: a candidate
// it cannot prove is rejected, and counted in Stats.Unproven.
type superopt struct {
	ctx     context.Context
	t       Target
	vectors []vector                // vectors[:quickVectors] are tried first
	memo    map[string]*replacement // by canonical window
	stats   *Stats
}

// A replacement is the result of searching a canonical window: seq is nil when nothing
// cheaper was found.
type replacement struct {
	seq   []instr
	found bool
	gain  int
}

func newSuperopt(ctx context.Context, t Target, stats *Stats) *superopt {
	return &superopt{ctx: ctx, t: t, vectors: testVectors(t), memo: map[string]*replacement{}, stats: stats}
}

// testVectors returns the deterministic test vectors of a target: all pairs of edge values
// on the two topmost inputs, with the other inputs drawn from the edge values, then random
// values of random magnitudes. The first quickVectors are chosen to reject most wrong
// candidates at once.
func testVectors(t Target) []vector {
	w := int64(t.Bits())
	edges := []int64{0, 1, -1, 2, -2, 3, 5, 7, 8, w - 1, w, w + 1, 2*w - 1, t.maxInt(), -t.maxInt() - 1, t.maxInt() - 1, -t.maxInt(), 0x55555555, -0x2f2f2f2f, 100}
	rng := rand.New(rand.NewPCG(0x6d696e69, 0x636f6d70))
	random := func() int64 {
		v := int64(rng.Uint64()) >> rng.IntN(64)
		if rng.IntN(2) == 0 {
			v = -v
		}
		return t.wrap(v)
	}
	var vs []vector
	// Quick vectors: distinct, unremarkable values, so that few wrong candidates agree.
	for range quickVectors {
		var v vector
		for i := range v.stack {
			v.stack[i] = t.wrap(int64(rng.IntN(2001) - 1000))
		}
		for i := range v.vars {
			v.vars[i] = t.wrap(int64(rng.IntN(2001) - 1000))
		}
		vs = append(vs, v)
	}
	for _, a := range edges {
		for _, b := range edges {
			var v vector
			for i := range v.stack {
				v.stack[i] = edges[rng.IntN(len(edges))]
			}
			for i := range v.vars {
				v.vars[i] = edges[rng.IntN(len(edges))]
			}
			// The top two stack values, or the first two variables, or one of each.
			switch rng.IntN(3) {
			case 0:
				v.stack[0], v.stack[1] = a, b
			case 1:
				v.vars[0], v.vars[1] = a, b
			default:
				v.stack[0], v.vars[0] = a, b
			}
			vs = append(vs, v)
		}
	}
	for range 256 {
		var v vector
		for i := range v.stack {
			v.stack[i] = random()
		}
		for i := range v.vars {
			v.vars[i] = random()
		}
		vs = append(vs, v)
	}
	return vs
}

// windowable reports whether the instruction at win[i] may be part of a window: it has no
// effect but on the stack and cannot trap (a division is allowed when the instruction
// before it in the window pushes a non-zero divisor), and it is not a jump target.
func windowable(win []instr, i int) bool {
	switch in := win[i]; in.op {
	case opPush, opLoad:
		return true
	case opLabel:
		return false
	case opDiv, opMod:
		return i > 0 && win[i-1].op == opPush && win[i-1].arg != 0
	default:
		return in.op < numOps && opTable[in.op].pure
	}
}

// effect returns the stack effect of an instruction: values popped and pushed.
func effect(in instr) (pops, pushes int) {
	if in.op == opPush {
		return 0, 1
	}
	return opTable[in.op].pops, opTable[in.op].pushes
}

// shape returns how many stack values seq consumes below its start, and the change of the
// stack depth it makes.
func shape(seq []instr) (inputs, net int) {
	d, low := 0, 0
	for _, in := range seq {
		pops, pushes := effect(in)
		d -= pops
		low = min(low, d)
		d += pushes
	}
	return -low, d
}

func cost(seq []instr) int {
	c := 0
	for _, in := range seq {
		c += in.cost()
	}
	return c
}

// run rewrites list until no window improves, and returns it with whether it changed.
func (s *superopt) run(list []instr) ([]instr, bool, error) {
	changed := false
	for range 8 {
		out, n, err := s.pass(list)
		if err != nil {
			return nil, false, err
		}
		list = out
		if n == 0 {
			break
		}
		changed = true
	}
	return list, changed, nil
}

// pass replaces, from left to right, the window starting at each instruction that has the
// best improvement, and returns the number of windows replaced.
func (s *superopt) pass(list []instr) ([]instr, int, error) {
	out := make([]instr, 0, len(list))
	n := 0
	for i := 0; i < len(list); {
		if err := s.ctx.Err(); err != nil {
			return nil, 0, err
		}
		var best *replacement
		var bestLen int
		var bestVars []int64
		for l := 2; l <= maxWindow && i+l <= len(list); l++ {
			key, vars, ok := canonical(list[i : i+l])
			if !ok {
				break // and so are the longer windows
			}
			r := s.memo[key]
			if r == nil {
				r = s.search(list[i:i+l], vars)
				s.memo[key] = r
				s.stats.Windows++
			}
			if r.found && (best == nil || r.gain > best.gain) {
				best, bestLen, bestVars = r, l, vars
			}
		}
		if best == nil {
			out = append(out, list[i])
			i++
			continue
		}
		pos := list[i].pos
		for _, in := range best.seq {
			if in.op == opLoad {
				in.arg = bestVars[in.arg]
			}
			in.pos = pos
			out = append(out, in)
		}
		s.stats.Rewrites++
		n++
		i += bestLen
	}
	return out, n, nil
}

// canonical returns a window's memo key, with its variables renumbered in order of first
// use (vars maps the new numbers to the slots). ok is false when the window cannot be
// searched.
func canonical(win []instr) (key string, vars []int64, ok bool) {
	var b strings.Builder
	for i, in := range win {
		if !windowable(win, i) {
			return "", nil, false
		}
		arg := in.arg
		if in.op == opLoad {
			j := slices.Index(vars, in.arg)
			if j < 0 {
				if len(vars) == maxWinVars {
					return "", nil, false
				}
				j = len(vars)
				vars = append(vars, in.arg)
			}
			arg = int64(j)
		}
		b.WriteString(strconv.Itoa(int(in.op)))
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(arg, 36))
		b.WriteByte(' ')
	}
	if inputs, _ := shape(win); inputs > maxInputs {
		return "", nil, false
	}
	return b.String(), vars, true
}

// A searchState is the enumeration's state: the candidate so far and, for the first
// vector, the stack after each of its instructions.
type searchState struct {
	s        *superopt
	alphabet []instr
	costs    []int   // of each instruction of the alphabet
	window   []instr // canonical
	vectors  []vector
	inputs   int
	want     int       // final depth
	expected [][]int64 // by vector: the stack the window leaves
	seq      [maxCandidate]instr
	stacks   [maxCandidate + 1][stackCap]int64
	depths   [maxCandidate + 1]int
	best     []instr
	bestCost int
	tried    int64
}

// search finds the cheapest sequence equivalent to win, whose loads are canonical.
func (s *superopt) search(win []instr, vars []int64) *replacement {
	cwin := make([]instr, len(win))
	for i, in := range win {
		if in.op == opLoad {
			in.arg = int64(slices.Index(vars, in.arg))
		}
		cwin[i] = in
	}
	inputs, net := shape(cwin)
	st := &searchState{s: s, window: cwin, inputs: inputs, want: inputs + net, bestCost: cost(cwin)}
	st.vectors = s.windowVectors(cwin, inputs, len(vars))
	st.expected = make([][]int64, len(st.vectors))
	for i := range st.vectors {
		out, ok := s.eval(cwin, &st.vectors[i], inputs)
		if !ok {
			return &replacement{} // deeper than the evaluator handles
		}
		st.expected[i] = out
	}
	st.alphabet = s.alphabet(cwin, len(vars))
	st.costs = make([]int, len(st.alphabet))
	for i, in := range st.alphabet {
		st.costs[i] = in.cost()
	}
	winCost := st.bestCost

	// The empty sequence: the window has no net effect (NEG NEG, PUSH 0 ADD, ...).
	st.depths[0] = inputs
	copy(st.stacks[0][:], st.vectors[0].stack[:inputs])
	if net == 0 && st.accept(0) {
		st.best, st.bestCost = []instr{}, 0
	} else {
		st.dfs(0, 0)
	}
	s.stats.Candidates += st.tried
	if st.best == nil {
		return &replacement{}
	}
	return &replacement{seq: st.best, found: true, gain: winCost - st.bestCost}
}

// windowVectors returns the test vectors for a window: the superoptimizer's, with vectors
// that set each input to each of the window's constants and their neighbours inserted
// after the first. "x == 1073741824" is 0 on all the other vectors, and so is every
// sequence that computes 0: these vectors reject them before they reach the prover.
func (s *superopt) windowVectors(win []instr, inputs, nvars int) []vector {
	vs := []vector{s.vectors[0]}
	next := quickVectors
	special := []int64{0, 1, -1}
	for _, in := range win {
		if in.op != opPush {
			continue
		}
		for _, c := range []int64{in.arg, s.t.wrap(in.arg - 1), s.t.wrap(in.arg + 1)} {
			special = append(special, c)
			for i := range inputs + nvars {
				v := s.vectors[next%len(s.vectors)]
				next += 5
				if i < inputs {
					v.stack[i] = c
				} else {
					v.vars[i-inputs] = c
				}
				vs = append(vs, v)
			}
		}
	}
	// All inputs special at once, for conditions that combine.
	for k := range 16 {
		var v vector
		for i := range v.stack {
			v.stack[i] = special[(k*7+i*3+k/3)%len(special)]
		}
		for i := range v.vars {
			v.vars[i] = special[(k*5+i*7+k/5+1)%len(special)]
		}
		vs = append(vs, v)
	}
	return append(vs, s.vectors[1:]...)
}

// alphabet returns the instructions candidates are made of: every pure operator, pushes of
// the window's constants and of constants related to them, and loads of its variables.
func (s *superopt) alphabet(win []instr, nvars int) []instr {
	var a []instr
	for o := opAdd; o <= opPop; o++ {
		if opTable[o].pure {
			a = append(a, instr{op: o})
		}
	}
	seen := map[int64]bool{}
	push := func(v int64) {
		v = s.t.wrap(v)
		if !seen[v] {
			seen[v] = true
			a = append(a, instr{op: opPush, arg: v})
		}
	}
	for _, v := range []int64{0, 1, -1, 2} {
		push(v)
	}
	for _, in := range win {
		if in.op != opPush {
			continue
		}
		c := in.arg
		push(c)
		push(c - 1)
		push(c + 1)
		push(-c)
		push(^c)
		if c > 0 && c&(c-1) == 0 {
			push(int64(bits.TrailingZeros64(uint64(c)))) // for multiplications by powers of two
		}
	}
	for v := range nvars {
		a = append(a, instr{op: opLoad, arg: int64(v)})
	}
	return a
}

// dfs extends the candidate of length n, which costs partial, by every instruction of the
// alphabet.
func (st *searchState) dfs(n, partial int) {
	remaining := maxCandidate - n
	if remaining == 0 {
		return
	}
	d := st.depths[n]
	for i, in := range st.alphabet {
		if st.tried >= searchBudget {
			return
		}
		c := partial + st.costs[i]
		if c >= st.bestCost {
			continue
		}
		pops, pushes := effect(in)
		nd := d - pops + pushes
		if d < pops || nd > stackCap || nd-(remaining-1) > st.want || nd+(remaining-1) < st.want {
			continue // underflows, or cannot reach the final depth in time
		}
		st.seq[n] = in
		st.depths[n+1] = nd
		st.stacks[n+1] = st.stacks[n]
		step(in, &st.stacks[n+1], d, &st.vectors[0], st.s.t)
		st.tried++
		if nd == st.want && slices.Equal(st.stacks[n+1][:nd], st.expected[0]) && st.accept(n+1) {
			st.best = append([]instr(nil), st.seq[:n+1]...)
			st.bestCost = c
			continue
		}
		st.dfs(n+1, c)
	}
}

// accept reports whether the candidate of length n, which agrees with the window on the
// first vector, is equivalent to it: it must agree on the first vectors (the window's own,
// then the quick ones), which reject nearly all wrong candidates, then be proven
// equivalent, and then agree on every vector, which checks the prover.
func (st *searchState) accept(n int) bool {
	first := min(len(st.vectors), 64)
	if !st.verify(n, 1, first) {
		return false
	}
	if !(prover{st.s.t}).equivalent(st.window, st.seq[:n], st.inputs) {
		st.s.stats.Unproven++
		return false
	}
	return st.verify(n, first, len(st.vectors))
}

// verify checks the candidate of length n against the vectors from to to.
func (st *searchState) verify(n, from, to int) bool {
	for i := from; i < to; i++ {
		out, ok := st.s.eval(st.seq[:n], &st.vectors[i], st.inputs)
		if !ok || !slices.Equal(out, st.expected[i]) {
			return false
		}
	}
	return true
}

// eval runs seq on a stack holding the vector's first inputs values, and returns the stack
// it leaves. ok is false when the stack would go deeper than stackCap.
func (s *superopt) eval(seq []instr, v *vector, inputs int) ([]int64, bool) {
	var st [stackCap]int64
	copy(st[:], v.stack[:inputs])
	d := inputs
	for _, in := range seq {
		pops, pushes := effect(in)
		if d < pops || d-pops+pushes > stackCap {
			return nil, false
		}
		d = step(in, &st, d, v, s.t)
	}
	return append([]int64(nil), st[:d]...), true
}

// step executes one pure instruction on a stack of depth d, and returns the new depth. The
// caller has checked the stack's bounds.
func step(in instr, st *[stackCap]int64, d int, v *vector, t Target) int {
	switch o := in.op; {
	case o == opPush:
		st[d] = in.arg
		return d + 1
	case o == opLoad:
		st[d] = v.vars[in.arg]
		return d + 1
	case o.isBinary():
		r, _ := binop(o, st[d-2], st[d-1], t)
		st[d-2] = r
		return d - 1
	case o.isUnary():
		st[d-1] = unop(o, st[d-1], t)
		return d
	case o == opDup:
		st[d] = st[d-1]
		return d + 1
	case o == opSwap:
		st[d-2], st[d-1] = st[d-1], st[d-2]
		return d
	case o == opOver:
		st[d] = st[d-2]
		return d + 1
	case o == opPop:
		return d - 1
	}
	panic("superopt: not a pure instruction: " + in.String())
}
