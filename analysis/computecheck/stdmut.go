package computecheck

import (
	"go/types"
	"strings"
)

// What the standard library changes of what it is given. The rule is what is known to
// change: a standard function or method not described here is taken to only read its
// arguments and receiver (strings.Replacer.Replace, big.Int.Bits, json.Marshal).

// stdFuncWrites are the standard functions that change their arguments: the index of the
// argument, or -1 for every argument from the second (fmt.Sscan's pointers).
var stdFuncWrites = map[string]int{
	"maps.Copy": 0, "maps.DeleteFunc": 0,
	"slices.Sort": 0, "slices.SortFunc": 0, "slices.SortStableFunc": 0, "slices.Reverse": 0,
	"slices.Delete": 0, "slices.DeleteFunc": 0, "slices.Compact": 0, "slices.CompactFunc": 0,
	"slices.Replace": 0, "slices.Insert": 0,
	"sort.Strings": 0, "sort.Ints": 0, "sort.Float64s": 0, "sort.Sort": 0, "sort.Stable": 0,
	"sort.Slice": 0, "sort.SliceStable": 0,
	"container/heap.Init": 0, "container/heap.Push": 0, "container/heap.Pop": 0,
	"container/heap.Remove": 0, "container/heap.Fix": 0,
	"io.ReadFull": 1, "io.ReadAtLeast": 1,
	"encoding/json.Unmarshal": 1, "encoding/xml.Unmarshal": 1, "encoding/asn1.Unmarshal": 1,
	"encoding/asn1.UnmarshalWithParams": 1, "encoding/binary.Read": 2,
	"fmt.Sscan": -1, "fmt.Sscanf": -1, "fmt.Sscanln": -1, "fmt.Fscan": -1, "fmt.Fscanf": -1,
	"fmt.Fscanln": -1, "fmt.Scan": -1, "fmt.Scanf": -1, "fmt.Scanln": -1,
	"flag.BoolVar": 0, "flag.IntVar": 0, "flag.Int64Var": 0, "flag.UintVar": 0,
	"flag.Uint64Var": 0, "flag.StringVar": 0, "flag.Float64Var": 0, "flag.DurationVar": 0,
	"flag.TextVar": 0, "flag.Var": 0,
}

// atomicWrites are the names of the sync/atomic functions and methods that change what
// they are given.
var atomicPrefixes = []string{"Store", "Add", "Swap", "CompareAndSwap", "And", "Or"}

// stdMethodWrites are, for each standard type ("pkgpath.Type"), its methods that change
// their receiver; "*" is every method but those of stdMethodReads.
var stdMethodWrites = map[string]map[string]bool{
	"sync.Map": set("Store", "LoadOrStore", "LoadAndDelete", "Delete", "Swap", "CompareAndSwap",
		"CompareAndDelete", "Clear"),
	"bytes.Buffer": set("Write", "WriteString", "WriteByte", "WriteRune", "ReadFrom", "Read",
		"ReadByte", "ReadRune", "ReadBytes", "ReadString", "Next", "Reset", "Truncate", "Grow",
		"UnreadByte", "UnreadRune", "WriteTo"),
	"strings.Builder": set("Write", "WriteString", "WriteByte", "WriteRune", "Reset", "Grow"),
	"strings.Reader": set("Read", "ReadByte", "ReadRune", "UnreadByte", "UnreadRune", "Seek",
		"WriteTo", "Reset"),
	"bytes.Reader": set("Read", "ReadByte", "ReadRune", "UnreadByte", "UnreadRune", "Seek",
		"WriteTo", "Reset"),
	"math/big.Int":           bigWrites,
	"math/big.Float":         bigWrites,
	"math/big.Rat":           bigWrites,
	"math/rand.Rand":         set("*"),
	"math/rand/v2.Rand":      set("*"),
	"math/rand/v2.PCG":       set("*"),
	"math/rand/v2.ChaCha8":   set("*"),
	"math/rand/v2.Zipf":      set("*"),
	"math/rand.Zipf":         set("*"),
	"hash/maphash.Hash":      set("Write", "WriteString", "WriteByte", "Reset", "SetSeed"),
	"container/list.List":    set("PushBack", "PushFront", "InsertBefore", "InsertAfter", "MoveToFront", "MoveToBack", "MoveBefore", "MoveAfter", "Remove", "Init", "PushBackList", "PushFrontList"),
	"container/ring.Ring":    set("Link", "Unlink"),
	"sort.StringSlice":       set("Sort", "Swap"),
	"sort.IntSlice":          set("Sort", "Swap"),
	"sort.Float64Slice":      set("Sort", "Swap"),
	"flag.FlagSet":           set("Parse", "Set", "Var", "BoolVar", "Bool", "IntVar", "Int", "Int64Var", "Int64", "UintVar", "Uint", "Uint64Var", "Uint64", "StringVar", "String", "Float64Var", "Float64", "DurationVar", "Duration", "TextVar", "Func", "BoolFunc", "Init", "SetOutput"),
	"regexp.Regexp":          set("Longest"),
	"text/template.Template": templateWrites,
	"html/template.Template": templateWrites,
	"bufio.Reader":           set("Read", "ReadByte", "ReadRune", "ReadBytes", "ReadString", "ReadLine", "ReadSlice", "Peek", "Discard", "Reset", "UnreadByte", "UnreadRune", "WriteTo"),
	"bufio.Writer":           set("Write", "WriteString", "WriteByte", "WriteRune", "Flush", "Reset", "ReadFrom"),
	"bufio.Scanner":          set("Scan", "Buffer", "Split"),
	"time.Timer":             set("Reset", "Stop"),
	"time.Ticker":            set("Reset", "Stop"),
	"encoding/json.Decoder":  set("Decode", "Token", "UseNumber", "DisallowUnknownFields"),
	"encoding/json.Encoder":  set("SetIndent", "SetEscapeHTML"),
	"encoding/csv.Reader":    set("Read", "ReadAll"),
	"net/http.ServeMux":      set("Handle", "HandleFunc"),
	"net/http.Header":        set("Add", "Set", "Del"),
	"net/url.Values":         set("Add", "Set", "Del"),
}

// stdMethodReads are the methods of the types marked "*" that only read their receiver.
var stdMethodReads = set("MarshalBinary", "AppendBinary", "String")

var bigWrites = set("Add", "Sub", "Mul", "Quo", "Rem", "Div", "Mod", "DivMod", "QuoRem", "Neg",
	"Abs", "Exp", "GCD", "ModInverse", "ModSqrt", "Lsh", "Rsh", "And", "Or", "Xor", "Not",
	"AndNot", "Sqrt", "Binomial", "MulRange", "Rand", "Scan", "Inv", "UnmarshalText",
	"UnmarshalJSON", "GobDecode", "SetPrec", "SetMode")

var templateWrites = set("Parse", "ParseFiles", "ParseGlob", "ParseFS", "Funcs", "Option",
	"Delims", "AddParseTree", "New")

// stdWrites returns the indices of the arguments (the receiver first, for a method) that a
// call of the standard function or method fn, with n arguments, changes.
func stdWrites(fn *types.Func, n int) []int {
	if fn.Pkg() == nil {
		return nil
	}
	path, name, recv := fn.Pkg().Path(), fn.Name(), recvName(fn)
	var out []int
	if recv == "" {
		if path == "sync/atomic" {
			for _, p := range atomicPrefixes {
				if strings.HasPrefix(name, p) {
					return []int{0}
				}
			}
			return nil
		}
		i, ok := stdFuncWrites[path+"."+name]
		if !ok {
			return nil
		}
		if i >= 0 {
			return []int{i}
		}
		for j := 1; j < n; j++ {
			out = append(out, j)
		}
		return out
	}
	// A method that reads into its argument: Read(p), ReadAt(p, off), an Unmarshal.
	switch name {
	case "Read", "ReadAt", "ReadFull", "Decode", "Unmarshal", "UnmarshalBinary":
		out = append(out, 1)
	case "FillBytes":
		return []int{1}
	}
	if path == "sync/atomic" {
		for _, p := range atomicPrefixes {
			if strings.HasPrefix(name, p) {
				return append(out, 0)
			}
		}
		return out
	}
	if strings.HasPrefix(name, "Set") && (path == "math/big") {
		return append(out, 0)
	}
	if ms := stdMethodWrites[path+"."+recv]; ms[name] || ms["*"] && !stdMethodReads[name] {
		out = append(out, 0)
	}
	return out
}

// stdSharesArg reports whether the standard function fn returns (a part of) its first
// argument.
func stdSharesArg(fn *types.Func) bool {
	name := fn.Name()
	switch fn.Pkg().Path() {
	case "sort":
		return name == "Reverse"
	case "slices":
		switch name {
		case "Insert", "Delete", "DeleteFunc", "Compact", "CompactFunc", "Replace", "Grow", "Clip":
			return true
		}
	case "bytes":
		for _, p := range []string{"Trim", "Split", "Fields", "Cut"} {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return name == "NewBuffer"
	}
	return false
}

// stdSharesRecv reports whether what the standard method fn returns may share its receiver:
// a pointer (into the receiver, or the receiver itself), or one of the methods known to
// return internal state. A sync.Pool's Get returns a scratch value of its own.
func stdSharesRecv(fn *types.Func) bool {
	res := fn.Type().(*types.Signature).Results()
	if res.Len() > 0 {
		if _, ptr := res.At(0).Type().Underlying().(*types.Pointer); ptr {
			return true
		}
	}
	switch fn.Name() {
	case "Bits", "Bytes", "AvailableBuffer", "Load", "LoadOrStore", "LoadAndDelete", "Swap":
		return fn.Pkg().Path() != "sync" || recvName(fn) != "Pool"
	}
	return false
}

// stdDepth says how deep the standard function or method fn changes its argument i: a
// sort, a copy, a read into a buffer change the memory the argument refers to (a slice's
// elements, not what they point to); a decoder, a scanner, a heap (through the methods of
// its argument) and a method changing its receiver may change what that refers to.
func stdDepth(fn *types.Func, i int) depth {
	if fn.Pkg() == nil {
		return deep
	}
	path, name := fn.Pkg().Path(), fn.Name()
	if recvName(fn) == "" {
		switch path {
		case "sort", "slices", "maps", "flag", "io", "sync/atomic":
			return shallow
		}
		return deep
	}
	if i > 0 && (name == "Read" || name == "ReadAt" || name == "ReadFull" || name == "FillBytes") {
		return shallow
	}
	return deep
}
