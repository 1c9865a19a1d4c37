package compiler

import (
	"fmt"
	"strconv"
)

// A Pos is a position in the source: a 1-based line, and a 1-based column counted in
// bytes.
type Pos struct {
	Line, Col int
}

// String formats p as line:col.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// An Error is a compile error at a position of a source file.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

// Error formats e as file:line:col: message.
func (e *Error) Error() string {
	file := e.File
	if file == "" {
		file = "<source>"
	}
	return fmt.Sprintf("%s:%s: %s", file, e.Pos, e.Msg)
}

// tokKind is the kind of a token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tInt
	tString
	// keywords
	tLet
	tIf
	tElse
	tWhile
	tPrint
	// punctuation
	tLParen
	tRParen
	tLBrace
	tRBrace
	tSemi
	tComma
	tAssign
	// operators
	tAdd
	tSub
	tMul
	tDiv
	tMod
	tAnd
	tOr
	tXor
	tShl
	tShr
	tNot
	tBNot
	tEq
	tNe
	tLt
	tLe
	tGt
	tGe
	tAndAnd
	tOrOr
)

var tokNames = [...]string{
	tEOF: "end of file", tIdent: "identifier", tInt: "integer", tString: "string",
	tLet: "let", tIf: "if", tElse: "else", tWhile: "while", tPrint: "print",
	tLParen: "(", tRParen: ")", tLBrace: "{", tRBrace: "}", tSemi: ";", tComma: ",",
	tAssign: "=", tAdd: "+", tSub: "-", tMul: "*", tDiv: "/", tMod: "%", tAnd: "&", tOr: "|",
	tXor: "^", tShl: "<<", tShr: ">>", tNot: "!", tBNot: "~", tEq: "==", tNe: "!=", tLt: "<",
	tLe: "<=", tGt: ">", tGe: ">=", tAndAnd: "&&", tOrOr: "||",
}

func (k tokKind) String() string {
	if int(k) < len(tokNames) {
		return tokNames[k]
	}
	return fmt.Sprintf("token(%d)", uint8(k))
}

// keyword returns the kind of a keyword, or tIdent for another word.
func keyword(word string) tokKind {
	switch word {
	case "let":
		return tLet
	case "if":
		return tIf
	case "else":
		return tElse
	case "while":
		return tWhile
	case "print":
		return tPrint
	}
	return tIdent
}

// A token is a lexeme with its position. text is the identifier's name, the literal's
// digits, or the string's decoded value.
type token struct {
	kind tokKind
	pos  Pos
	text string
}

// lexer splits a source into tokens.
type lexer struct {
	file string
	src  string
	off  int
	line int
	col  int
}

func newLexer(file, src string) *lexer { return &lexer{file: file, src: src, line: 1, col: 1} }

func (l *lexer) errorf(p Pos, format string, args ...any) error {
	return &Error{File: l.file, Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// advance consumes n bytes of the current line.
func (l *lexer) advance(n int) {
	l.off += n
	l.col += n
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	// Skip spaces and comments.
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == '\n':
			l.off++
			l.line++
			l.col = 1
		case c == ' ' || c == '\t' || c == '\r':
			l.advance(1)
		case c == '/' && l.off+1 < len(l.src) && l.src[l.off+1] == '/':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		default:
			goto token
		}
	}
	return token{kind: tEOF, pos: Pos{l.line, l.col}}, nil

token:
	p := Pos{l.line, l.col}
	c := l.src[l.off]
	switch {
	case isLetter(c):
		start := l.off
		for l.off < len(l.src) && (isLetter(l.src[l.off]) || isDigit(l.src[l.off])) {
			l.advance(1)
		}
		word := l.src[start:l.off]
		if k := keyword(word); k != tIdent {
			return token{kind: k, pos: p}, nil
		}
		return token{kind: tIdent, pos: p, text: word}, nil
	case isDigit(c):
		start := l.off
		for l.off < len(l.src) && isDigit(l.src[l.off]) {
			l.advance(1)
		}
		if l.off < len(l.src) && isLetter(l.src[l.off]) {
			return token{}, l.errorf(Pos{l.line, l.col}, "unexpected %q after integer literal", l.src[l.off])
		}
		return token{kind: tInt, pos: p, text: l.src[start:l.off]}, nil
	case c == '"':
		return l.string(p)
	}
	two := ""
	if l.off+1 < len(l.src) {
		two = l.src[l.off : l.off+2]
	}
	for _, op := range operators {
		if op.text == two || op.text == string(c) {
			l.advance(len(op.text))
			return token{kind: op.kind, pos: p}, nil
		}
	}
	if c < 0x20 || c >= 0x7f {
		return token{}, l.errorf(p, "unexpected byte %#02x", c)
	}
	return token{}, l.errorf(p, "unexpected character %q", c)
}

// operators lists the operator and punctuation tokens, two-character ones first so that
// they win over their prefixes. It is a constant table.
var operators = [...]struct {
	text string
	kind tokKind
}{
	{"<<", tShl}, {">>", tShr}, {"==", tEq}, {"!=", tNe}, {"<=", tLe}, {">=", tGe},
	{"&&", tAndAnd}, {"||", tOrOr},
	{"(", tLParen}, {")", tRParen}, {"{", tLBrace}, {"}", tRBrace}, {";", tSemi}, {",", tComma},
	{"=", tAssign}, {"+", tAdd}, {"-", tSub}, {"*", tMul}, {"/", tDiv}, {"%", tMod}, {"&", tAnd},
	{"|", tOr}, {"^", tXor}, {"!", tNot}, {"~", tBNot}, {"<", tLt}, {">", tGt},
}

// string lexes a string literal: printable ASCII between double quotes, with the escapes
// \n, \t, \" and \\.
func (l *lexer) string(p Pos) (token, error) {
	l.advance(1)
	var b []byte
	for {
		if l.off >= len(l.src) || l.src[l.off] == '\n' {
			return token{}, l.errorf(p, "string literal not terminated")
		}
		c := l.src[l.off]
		switch {
		case c == '"':
			l.advance(1)
			return token{kind: tString, pos: p, text: string(b)}, nil
		case c == '\\':
			if l.off+1 >= len(l.src) {
				return token{}, l.errorf(p, "string literal not terminated")
			}
			e := l.src[l.off+1]
			switch e {
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			case '"', '\\':
				b = append(b, e)
			default:
				return token{}, l.errorf(Pos{l.line, l.col}, "unknown escape sequence \\%s", strconv.QuoteRune(rune(e)))
			}
			l.advance(2)
		case c < 0x20 || c >= 0x7f:
			return token{}, l.errorf(Pos{l.line, l.col}, "string literal contains byte %#02x (only printable ASCII is allowed)", c)
		default:
			b = append(b, c)
			l.advance(1)
		}
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
