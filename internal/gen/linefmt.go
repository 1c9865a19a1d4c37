package gen

import (
	"bytes"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"slices"
	"strings"
	"sync"
)

// This file formats the code msgp generates (and any piece written the same way) without
// parsing and printing the piece. msgp writes one statement, block opener or closer per
// line, not indented: gofmt's result is then each such unit as gofmt formats it alone,
// indented by the depth of the blocks around it. A unit is parsed and formatted in a minimal
// file of its own, once per distinct text (msgp repeats the same lines throughout a file),
// and the names it uses are read from that syntax; the nesting of the units is checked as the
// parser would (a case only in a switch, an else only after an if). Anything outside that
// shape (declarations other than functions at the top level, comments beside code or before
// a case or a closing brace, a comment that is not plain text at any depth, blank lines
// inside a function, labels, raw strings over several lines) makes the piece go through the
// parser and the printer whole.

// A unitMemo holds the formatted lines of each distinct unit, shared by the pieces of one
// file.
type unitMemo struct {
	mu    sync.Mutex
	units map[unitKey]*formattedUnit // nil when the unit does not format alone
}

// A unitKey is a unit's kind and text.
type unitKey struct {
	kind int
	text string
}

// A formattedUnit is a unit as gofmt formats it, and the names its syntax uses (as
// pieceNames holds them, in lists: a unit has few).
type formattedUnit struct {
	lines                       []string // indented relative to the unit's depth
	selX, declared, predeclared []string
}

// Kinds of unit, by where gofmt indents them and how they are formatted alone.
const (
	unitStmt = iota // a statement (a block opened and closed within it included)
	unitOpen        // a statement that opens a block: if, for, switch, select, {
	unitElse        // a closing brace that opens another block: } else {
	unitCase        // a case or default clause
	unitFunc        // a function declaration at the top level that opens its body
)

// format returns unit text t of kind as gofmt formats it, or false if it does not format
// alone as a unit of its kind.
func (m *unitMemo) format(kind int, t string) (*formattedUnit, bool) {
	key := unitKey{kind, t}
	m.mu.Lock()
	u, ok := m.units[key]
	m.mu.Unlock()
	if ok {
		return u, u != nil
	}
	u = formatUnit(kind, t)
	m.mu.Lock()
	m.units[key] = u
	m.mu.Unlock()
	return u, u != nil
}

// formatUnit formats unit text t alone, in a file that gives it the context of its kind, and
// returns its lines without that context and the names it uses, or nil.
func formatUnit(kind int, t string) *formattedUnit {
	var src string
	var before, after int // the lines of context around the unit's in the output
	switch kind {
	case unitStmt:
		src, before, after = "func _() {\n"+t+"\n}\n", 1, 1
	case unitOpen:
		src, before, after = "func _() {\n"+t+"\n}\n}\n", 1, 2
	case unitElse:
		src, before, after = "func _() {\nif x {\n"+t+"\n}\n}\n", 2, 2
	case unitCase:
		src, before, after = "func _() {\nswitch {\n"+t+"\n}\n}\n", 2, 2
	case unitFunc:
		src, before, after = t+"\n}\n", 0, 1
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", piecePrefix+src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	var out bytes.Buffer
	if format.Node(&out, fset, f) != nil {
		return nil
	}
	text, ok := bytes.CutPrefix(out.Bytes(), []byte(piecePrefix))
	if !ok {
		return nil
	}
	all := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	if len(all) < before+after+1 {
		return nil
	}
	lines := all[before : len(all)-after]
	// The context must come out as it went in, and the unit indented one level in it.
	indent := "\t"
	switch kind {
	case unitFunc:
		indent = ""
	case unitElse, unitCase:
		if all[1] != "\t"+map[int]string{unitElse: "if x {", unitCase: "switch {"}[kind] {
			return nil
		}
	}
	if kind == unitOpen || kind == unitElse || kind == unitCase {
		if all[len(all)-2] != "\t}" {
			return nil
		}
	}
	if all[len(all)-1] != "}" || kind != unitFunc && all[0] != "func _() {" {
		return nil
	}
	out2 := make([]string, len(lines))
	for i, l := range lines {
		rest, ok := strings.CutPrefix(l, indent)
		if !ok || l == "" {
			return nil
		}
		out2[i] = rest
	}
	names := scanNames(f)
	return &formattedUnit{lines: out2, selX: slices.Collect(maps.Keys(names.selX)),
		declared: slices.Collect(maps.Keys(names.declared)), predeclared: names.predeclared}
}

// unitLine scans one line of code for brackets outside literals, adding to depth (parens
// and brackets) and braces (opened minus closed). It reports false for what units do not
// hold: a comment, or a raw string that does not end on the line.
func unitLine(line string, depth, braces *int) bool {
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case '(', '[':
			*depth++
		case ')', ']':
			*depth--
		case '{':
			*braces++
		case '}':
			*braces--
		case '/':
			if i+1 < len(line) && (line[i+1] == '/' || line[i+1] == '*') {
				return false
			}
		case '"', '\'':
			for i++; i < len(line) && line[i] != c; i++ {
				if line[i] == '\\' {
					i++
				}
			}
			if i >= len(line) {
				return false
			}
		case '`':
			j := strings.IndexByte(line[i+1:], '`')
			if j < 0 {
				return false
			}
			i += j + 1
		}
	}
	return true
}

// Kinds of block, for the units that may follow in them.
const (
	blockPlain  = iota
	blockIf     // an if's block, which an else may follow
	blockSwitch // a switch's or select's, which holds case clauses only
)

// A block is one open in the piece.
type block struct {
	kind     int
	seenCase bool // a switch's block has had its first case clause
}

// formatLines formats src, a piece of top-level declarations, as gofmt would, when it has
// the shape this file describes, with memo's units, and returns the names it uses as
// scanNames would read them from its syntax; it reports false otherwise.
func formatLines(src []byte, memo *unitMemo) ([]byte, *pieceNames, bool) {
	out := make([]byte, 0, len(src)+len(src)/2)
	names := &pieceNames{selX: map[string]bool{}, declared: map[string]bool{}}
	seenPre := map[string]bool{}
	var open []block   // the blocks open, outermost first
	blank := false     // a blank line is due before the next line written
	comment := false   // the last line written is a comment inside a function
	closedTop := false // the last line written closes a function
	lines := strings.Split(string(src), "\n")
	emit := func(indent int, l string) {
		if blank && len(out) > 0 {
			out = append(out, '\n')
		}
		blank = false
		for range indent {
			out = append(out, '\t')
		}
		out = append(out, l...)
		out = append(out, '\n')
	}
	// inSwitch reports whether the innermost block is a switch's, and a statement there
	// would precede its first case clause.
	beforeCase := func() bool {
		return len(open) > 0 && open[len(open)-1].kind == blockSwitch && !open[len(open)-1].seenCase
	}
	for i := 0; i < len(lines); i++ {
		depth := len(open)
		t := strings.Trim(lines[i], " \t\r")
		if t == "" {
			if depth > 0 {
				return nil, nil, false
			}
			blank, closedTop = true, false
			continue
		}
		if closedTop && strings.HasPrefix(t, "//") {
			// gofmt puts a blank line between a function and a comment after it.
			blank = true
		}
		closedTop = false
		if strings.HasPrefix(t, "//") {
			if !plainComment(t) {
				// gofmt reformats a doc comment unless it is plain text, and takes a
				// comment in a function that abuts the next line for one too.
				return nil, nil, false
			}
			emit(depth, t)
			comment = depth > 0
			continue
		}
		if rest, ok := strings.CutPrefix(t, "{ "); ok && depth > 0 {
			// A block opened before a statement on the same line: the block, then the
			// rest of the line as a line of its own.
			if comment || beforeCase() {
				return nil, nil, false
			}
			emit(depth, "{")
			open = append(open, block{kind: blockPlain})
			lines[i] = rest
			i--
			continue
		}
		// The unit: lines joined until its brackets close.
		var parens, braces int
		if !unitLine(t, &parens, &braces) {
			return nil, nil, false
		}
		unit := t
		for parens > 0 && i+1 < len(lines) {
			i++
			l := strings.Trim(lines[i], " \t\r")
			if l == "" || !unitLine(l, &parens, &braces) {
				return nil, nil, false
			}
			unit += "\n" + l
		}
		if parens != 0 {
			return nil, nil, false
		}
		closes := strings.HasPrefix(unit, "}")
		opens := strings.HasSuffix(unit, "{")
		var kind, at int
		next := block{kind: blockPlain} // the block a unit that opens one opens
		switch {
		case unit == "}":
			if depth == 0 || comment {
				return nil, nil, false
			}
			open = open[:depth-1]
			emit(depth-1, "}")
			closedTop = depth == 1
			comment = false
			continue
		case depth == 0:
			if braces != 1 || !opens || !strings.HasPrefix(unit, "func ") {
				return nil, nil, false
			}
			kind, at = unitFunc, 0
		case closes && opens && braces == 0 && strings.HasPrefix(unit, "} else "):
			if open[depth-1].kind != blockIf {
				return nil, nil, false
			}
			kind, at = unitElse, depth-1
			if strings.HasPrefix(unit, "} else if ") && strings.Count(unit, "}") == 1 {
				next.kind = blockIf
			}
		case closes:
			return nil, nil, false
		case braces == 1 && opens && (unit == "{" || hasAnyPrefix(unit, "if ", "for ", "for {", "switch ", "switch {", "select {")):
			kind, at = unitOpen, depth
			switch {
			case strings.HasPrefix(unit, "if ") && !strings.Contains(unit, "}"):
				next.kind = blockIf
			case hasAnyPrefix(unit, "switch", "select") && !strings.Contains(unit, "}"):
				next.kind = blockSwitch
			case strings.HasPrefix(unit, "if ") && strings.HasSuffix(unit, "} else {"):
				// An if with its block on the line, opening its else's block.
			case !hasAnyPrefix(unit, "for", "{"):
				return nil, nil, false // a switch or an if with blocks of its own before the one it opens
			}
		case braces != 0:
			return nil, nil, false
		case hasAnyPrefix(unit, "case ", "default:") && strings.HasSuffix(unit, ":"):
			if open[depth-1].kind != blockSwitch {
				return nil, nil, false
			}
			open[depth-1].seenCase = true
			kind, at = unitCase, depth-1
		case strings.HasSuffix(unit, ":"):
			return nil, nil, false // a label, which gofmt indents one level less
		default:
			kind, at = unitStmt, depth
		}
		if comment && (kind == unitElse || kind == unitCase) || kind != unitCase && kind != unitElse && beforeCase() {
			// Where gofmt indents a comment before them is its own matter; a statement
			// before a switch's first case does not parse.
			return nil, nil, false
		}
		u, ok := memo.format(kind, unit)
		if !ok {
			return nil, nil, false
		}
		for _, l := range u.lines {
			emit(at, l)
		}
		names.add(u, seenPre)
		switch kind {
		case unitFunc, unitOpen:
			open = append(open, next)
		case unitElse:
			open[depth-1] = next
		}
		comment = false
	}
	if len(open) != 0 || len(out) == 0 {
		return nil, nil, false
	}
	return out, names, true
}

// add adds the names of a unit that follows those of n.
func (n *pieceNames) add(u *formattedUnit, seenPre map[string]bool) {
	for _, name := range u.selX {
		n.selX[name] = true
	}
	for _, name := range u.declared {
		n.declared[name] = true
	}
	for _, name := range u.predeclared {
		if !seenPre[name] {
			seenPre[name] = true
			n.predeclared = append(n.predeclared, name)
		}
	}
}

// hasAnyPrefix reports whether s starts with one of prefixes.
func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// plainComment reports whether a line of a doc comment is plain text that gofmt leaves as
// it is: "// " and a word, not a list item, a heading, a directive or indented code.
func plainComment(t string) bool {
	rest, ok := strings.CutPrefix(t, "// ")
	if !ok || rest == "" {
		return false
	}
	c := rest[0]
	if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
		return false
	}
	// A word and a period or parenthesis may number a list item only when it is a
	// number; a letter starts none.
	return true
}
