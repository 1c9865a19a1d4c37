package gen

import (
	"reflect"
	"testing"
)

func TestChunkArgs(t *testing.T) {
	for _, tt := range []struct {
		args []string
		max  int
		want [][]string
	}{
		{nil, 10, [][]string{nil}},
		{[]string{"a"}, 10, [][]string{{"a"}}},
		{[]string{"aaa", "bbb", "ccc"}, 8, [][]string{{"aaa", "bbb"}, {"ccc"}}},
		{[]string{"aaa", "bbb", "ccc"}, 7, [][]string{{"aaa"}, {"bbb"}, {"ccc"}}},
		{[]string{"aaa", "bbb", "ccc"}, 12, [][]string{{"aaa", "bbb", "ccc"}}},
		{[]string{"toolongforthelimit", "b"}, 4, [][]string{{"toolongforthelimit"}, {"b"}}},
		{[]string{"a", "toolongforthelimit", "b"}, 0, [][]string{{"a"}, {"toolongforthelimit"}, {"b"}}},
	} {
		got := chunkArgs(tt.args, tt.max)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("chunkArgs(%q, %d) = %q, want %q", tt.args, tt.max, got, tt.want)
		}
		var n int
		for _, c := range got {
			n += len(c)
		}
		if n != len(tt.args) {
			t.Errorf("chunkArgs(%q, %d) holds %d arguments", tt.args, tt.max, n)
		}
	}
}

// TestListExportsChunks: a command line too long for Windows is split between go commands,
// which together list every package.
func TestListExportsChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	paths := []string{"bufio", "bytes", "errors", "fmt", "io", "sort", "strconv", "strings", "unicode/utf8", "unsafe"}
	whole, sizes, err := listExports(Config{}, paths)
	if err != nil {
		t.Fatal(err)
	}
	defer func(m int) { argMax = m }(argMax)
	argMax = 1 // one package a command
	split, splitSizes, err := listExports(Config{}, paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(whole) != len(paths) || !reflect.DeepEqual(whole, split) || !reflect.DeepEqual(sizes, splitSizes) {
		t.Fatalf("split listing differs:\n%v\n%v", whole, split)
	}
	for _, p := range paths {
		if whole[p] == nil || p != "unsafe" && whole[p].ExportFile == "" {
			t.Errorf("%s: no export data listed", p)
		}
	}
}
