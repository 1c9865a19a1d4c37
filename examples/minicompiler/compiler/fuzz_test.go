package compiler

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// errOutputLimit stops a fuzzed program that prints too much.
var errOutputLimit = errors.New("output limit")

// limitedBuffer is a buffer that refuses to grow beyond max bytes.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errOutputLimit
	}
	return b.Buffer.Write(p)
}

// FuzzCompileRun compiles arbitrary sources at every level: the compiler must not panic,
// must fail the same way at every level, and the programs it produces must print the same
// output and fail the same way, unless one of them runs out of steps or output.
func FuzzCompileRun(f *testing.F) {
	f.Add("let x = 1;\nprint x + 2;", false)
	f.Fuzz(func(t *testing.T, src string, vm32 bool) {
		if len(src) > 2000 {
			t.Skip("long sources make the -O2 search slow, and test nothing more")
		}
		target := VM64
		if vm32 {
			target = VM32
		}
		var want string
		var wantErr error
		for level := 0; level <= MaxOptLevel; level++ {
			p, err := Compile(context.Background(), Options{CompilerVersion: Version, OptLevel: level, Target: target, Debug: level == 1, Source: src})
			if level > 0 && (err == nil) != (wantErr == nil) {
				t.Fatalf("-O%d: compile error %v, but -O0: %v", level, err, wantErr)
			}
			if err != nil {
				var cerr *Error
				if !errors.As(err, &cerr) {
					t.Fatalf("-O%d: compile error without position: %v", level, err)
				}
				if level > 0 && err.Error() != wantErr.Error() {
					t.Fatalf("-O%d: compile error %v, but -O0: %v", level, err, wantErr)
				}
				wantErr = err
				continue
			}
			if level == 0 {
				wantErr = nil
			}
			out := &limitedBuffer{max: 1 << 16}
			_, err = p.Run(out, 200_000)
			if errors.Is(err, ErrStepLimit) || errors.Is(err, errOutputLimit) {
				return // the levels run different numbers of steps: nothing to compare
			}
			var rerr *RuntimeError
			if err != nil && !errors.As(err, &rerr) {
				t.Fatalf("-O%d: run error of type %T: %v", level, err, err)
			}
			if err != nil && !errors.Is(err, ErrDivideByZero) {
				t.Fatalf("-O%d: the compiler produced invalid bytecode: %v\n%s", level, err, p.Disassemble())
			}
			got := out.String()
			if err != nil {
				got += "error: " + rerr.Err.Error()
			}
			if level > 0 && got != want {
				t.Fatalf("-O%d printed\n%s\nbut -O0 printed\n%s", level, got, want)
			}
			want = got
		}
	})
}
