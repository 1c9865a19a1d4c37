package compiler

import (
	"fmt"
	"strconv"
)

// maxDepth bounds the nesting of expressions and blocks, so that a hostile source cannot
// exhaust the stack of the recursive parser or of the passes that walk its tree.
const maxDepth = 200

// parser is a recursive-descent parser with one token of lookahead.
type parser struct {
	lex    *lexer
	tok    token
	target Target
	depth  int
}

// parse parses a whole program.
func parse(file, src string, target Target) ([]stmt, error) {
	p := &parser{lex: newLexer(file, src), target: target}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var prog []stmt
	for p.tok.kind != tEOF {
		s, err := p.stmt()
		if err != nil {
			return nil, err
		}
		prog = append(prog, s)
	}
	return prog, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(pos Pos, format string, args ...any) error {
	return &Error{File: p.lex.file, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// expect consumes a token of kind k.
func (p *parser) expect(k tokKind, context string) (token, error) {
	t := p.tok
	if t.kind != k {
		return t, p.errorf(t.pos, "expected %s %s, found %s", k, context, describe(t))
	}
	return t, p.advance()
}

func describe(t token) string {
	switch t.kind {
	case tIdent:
		return fmt.Sprintf("identifier %s", t.text)
	case tInt:
		return fmt.Sprintf("integer %s", t.text)
	case tString:
		return fmt.Sprintf("string %q", t.text)
	case tEOF:
		return "end of file"
	}
	return fmt.Sprintf("%q", t.kind.String())
}

// enter counts one level of nesting at pos.
func (p *parser) enter(pos Pos) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf(pos, "nesting deeper than %d levels", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) stmt() (stmt, error) {
	t := p.tok
	switch t.kind {
	case tLet, tIdent:
		s, err := p.assign()
		if err != nil {
			return nil, err
		}
		_, err = p.expect(tSemi, "after assignment")
		return s, err
	case tIf:
		return p.ifStmt()
	case tWhile:
		if err := p.advance(); err != nil {
			return nil, err
		}
		cond, err := p.expr()
		if err != nil {
			return nil, err
		}
		body, err := p.block("after while condition")
		if err != nil {
			return nil, err
		}
		return &whileStmt{pos: t.pos, cond: cond, body: body}, nil
	case tPrint:
		return p.print()
	case tLBrace:
		body, err := p.block("")
		if err != nil {
			return nil, err
		}
		return &block{pos: t.pos, body: body}, nil
	}
	return nil, p.errorf(t.pos, "expected statement, found %s", describe(t))
}

// assign parses "let x = e" or "x = e".
func (p *parser) assign() (stmt, error) {
	s := &assign{pos: p.tok.pos}
	if p.tok.kind == tLet {
		s.decl = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	name, err := p.expect(tIdent, "as variable name")
	if err != nil {
		return nil, err
	}
	s.name = name.text
	if !s.decl {
		s.pos = name.pos
	}
	if _, err := p.expect(tAssign, "after variable name"); err != nil {
		return nil, err
	}
	s.value, err = p.expr()
	return s, err
}

func (p *parser) ifStmt() (stmt, error) {
	s := &ifStmt{pos: p.tok.pos}
	if err := p.enter(s.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil {
		return nil, err
	}
	var err error
	if s.cond, err = p.expr(); err != nil {
		return nil, err
	}
	if s.then, err = p.block("after if condition"); err != nil {
		return nil, err
	}
	if p.tok.kind != tElse {
		return s, nil
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tIf {
		elif, err := p.ifStmt()
		if err != nil {
			return nil, err
		}
		s.els = []stmt{elif}
		return s, nil
	}
	s.els, err = p.block("after else")
	return s, err
}

// block parses { stmt* }.
func (p *parser) block(context string) ([]stmt, error) {
	open, err := p.expect(tLBrace, context)
	if err != nil {
		return nil, err
	}
	if err := p.enter(open.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	var body []stmt
	for p.tok.kind != tRBrace {
		if p.tok.kind == tEOF {
			return nil, p.errorf(open.pos, "block not closed: missing }")
		}
		s, err := p.stmt()
		if err != nil {
			return nil, err
		}
		body = append(body, s)
	}
	return body, p.advance()
}

func (p *parser) print() (stmt, error) {
	s := &printStmt{pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return nil, err
	}
	for {
		if p.tok.kind == tString {
			s.args = append(s.args, printArg{isStr: true, str: p.tok.text})
			if err := p.advance(); err != nil {
				return nil, err
			}
		} else {
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			s.args = append(s.args, printArg{x: x})
		}
		if p.tok.kind != tComma {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	_, err := p.expect(tSemi, "after print arguments")
	return s, err
}

// precedence returns the binding power of a binary operator, 0 for other tokens.
func precedence(k tokKind) int {
	switch k {
	case tMul, tDiv, tMod, tShl, tShr, tAnd:
		return 5
	case tAdd, tSub, tOr, tXor:
		return 4
	case tEq, tNe, tLt, tLe, tGt, tGe:
		return 3
	case tAndAnd:
		return 2
	case tOrOr:
		return 1
	}
	return 0
}

func (p *parser) expr() (expr, error) { return p.binary(1) }

// binary parses a left-associative chain of operators of precedence prec or higher.
func (p *parser) binary(prec int) (expr, error) {
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		op := p.tok
		q := precedence(op.kind)
		if q < prec {
			return x, nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.enter(op.pos); err != nil {
			return nil, err
		}
		y, err := p.binary(q + 1)
		p.leave()
		if err != nil {
			return nil, err
		}
		x = &binaryExpr{pos: op.pos, op: op.kind, x: x, y: y}
	}
}

func (p *parser) unary() (expr, error) {
	t := p.tok
	switch t.kind {
	case tSub, tNot, tBNot:
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{pos: t.pos, op: t.kind, x: x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (expr, error) {
	t := p.tok
	switch t.kind {
	case tInt:
		v, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil || v > p.target.maxInt() {
			return nil, p.errorf(t.pos, "integer literal %s overflows %s (largest is %d)", t.text, p.target, p.target.maxInt())
		}
		return &intLit{pos: t.pos, val: v}, p.advance()
	case tIdent:
		return &varRef{pos: t.pos, name: t.text}, p.advance()
	case tLParen:
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		_, err = p.expect(tRParen, "to close (")
		return x, err
	}
	return nil, p.errorf(t.pos, "expected expression, found %s", describe(t))
}
