package compiler

import (
	"strconv"
	"strings"
	"testing"
)

// seq parses a sequence like "LOAD 0 PUSH 2 MUL".
func seq(t *testing.T, s string) []instr {
	t.Helper()
	var out []instr
	f := strings.Fields(s)
	for i := 0; i < len(f); i++ {
		var o op
		switch f[i] {
		case "PUSH":
			o = opPush
		default:
			found := false
			for c := range numOps {
				if opTable[c].name == f[i] {
					o, found = c, true
				}
			}
			if !found {
				t.Fatalf("unknown op %s", f[i])
			}
		}
		in := instr{op: o}
		if o == opPush || o == opLoad {
			i++
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				t.Fatalf("operand of %s: %v", f[i-1], err)
			}
			in.arg = v
		}
		out = append(out, in)
	}
	return out
}

// TestProver checks identities the prover must prove, and near-identities it must not.
func TestProver(t *testing.T) {
	tests := []struct {
		a, b   string
		inputs int
		equal  bool
	}{
		{"PUSH 2 MUL", "DUP ADD", 1, true},
		{"PUSH 8 MUL", "PUSH 3 SHL", 1, true},
		{"PUSH 1 ADD", "INC", 1, true},
		{"NEG NEG", "", 1, true},
		{"BNOT BNOT", "", 1, true},
		{"BNOT", "NEG DEC", 1, true},
		{"SWAP SUB", "SUB NEG", 2, true},
		{"SWAP ADD", "ADD", 2, true},
		{"SWAP MUL", "MUL", 2, true},
		{"SWAP AND", "AND", 2, true},
		{"LT NOT", "GE", 2, true},
		{"GT", "SWAP LT", 2, true},
		{"PUSH 0 EQ", "NOT", 1, true},
		{"PUSH 0 NE", "NOT NOT", 1, true},
		{"NOT NOT NOT", "NOT", 1, true},
		{"EQ", "SUB NOT", 2, true},
		{"EQ", "SWAP EQ", 2, true},
		{"PUSH 2 MOD PUSH 0 EQ", "PUSH 1 AND NOT", 1, true},
		{"PUSH 2 MOD PUSH 0 EQ", "BNOT PUSH 1 AND", 1, true},
		{"PUSH -1 XOR", "BNOT", 1, true},
		{"DUP XOR", "POP PUSH 0", 1, true},
		{"PUSH 1 DIV", "", 1, true},
		{"PUSH -1 DIV", "NEG", 1, true},
		{"LOAD 0 LOAD 0 SUB", "PUSH 0", 0, true},
		{"PUSH 64 SHL", "", 1, true}, // the count is taken modulo 64

		{"PUSH 22 LOAD 0 NE", "PUSH 1", 0, false},
		{"PUSH 53 SHL DEC LOAD 0 GE", "PUSH 53 SHL LOAD 0 GT", 1, false},
		{"PUSH 1 SUB PUSH 0 LT", "PUSH 1 LT", 1, false}, // x - 1 wraps at the minimum
		{"PUSH 2 DIV", "PUSH 1 SHR", 1, false},          // -1 / 2 is 0, -1 >> 1 is -1
		{"PUSH 2 MOD", "PUSH 1 AND", 1, false},          // -1 % 2 is -1
		{"ADD PUSH 0 LT", "SWAP NEG LT", 2, false},      // overflow
		{"PUSH 1 SHL PUSH 1 SHR", "", 1, false},         // the top bit is lost
		{"PUSH 4 MOD PUSH 0 EQ", "PUSH 1 AND NOT", 1, false},
		{"LT", "SWAP LT", 2, false},
		{"DIV", "DIV", 2, false}, // the prover does not handle a division that can trap
	}
	for _, target := range targets {
		p := prover{target}
		for _, tt := range tests {
			a, b := seq(t, tt.a), seq(t, tt.b)
			if got := p.equivalent(a, b, tt.inputs); got != tt.equal {
				t.Errorf("%v: equivalent(%s, %s) = %v, want %v", target, tt.a, tt.b, got, tt.equal)
			}
		}
	}
	// The shift count is taken modulo the width: 32 is 0 on vm32 only.
	a, b := seq(t, "PUSH 32 SHL"), seq(t, "")
	if !(prover{VM32}).equivalent(a, b, 1) || (prover{VM64}).equivalent(a, b, 1) {
		t.Error("x << 32 is x on vm32 only")
	}
}
