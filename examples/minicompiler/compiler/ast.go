package compiler

// An expr is an expression node.
type expr interface{ position() Pos }

// intLit is an integer literal, or a folded constant.
type intLit struct {
	pos Pos
	val int64
}

// varRef reads a variable; slot is set by the resolver.
type varRef struct {
	pos  Pos
	name string
	slot int
}

// unaryExpr is -x, !x or ~x.
type unaryExpr struct {
	pos Pos
	op  tokKind
	x   expr
}

// binaryExpr is x op y, including the short-circuit && and ||.
type binaryExpr struct {
	pos  Pos
	op   tokKind
	x, y expr
}

func (e *intLit) position() Pos     { return e.pos }
func (e *varRef) position() Pos     { return e.pos }
func (e *unaryExpr) position() Pos  { return e.pos }
func (e *binaryExpr) position() Pos { return e.pos }

// A stmt is a statement node.
type stmt interface{ position() Pos }

// assign stores a value in a variable: a let (decl) or an assignment.
type assign struct {
	pos   Pos
	decl  bool
	name  string
	slot  int
	value expr
}

// ifStmt is if cond { then } else { els }.
type ifStmt struct {
	pos       Pos
	cond      expr
	then, els []stmt
}

// whileStmt is while cond { body }.
type whileStmt struct {
	pos  Pos
	cond expr
	body []stmt
}

// printStmt prints its arguments separated by spaces, then a newline.
type printStmt struct {
	pos  Pos
	args []printArg
}

// A printArg is a string literal (isStr) or an expression.
type printArg struct {
	isStr bool
	str   string
	x     expr
}

// block is { body }: a scope.
type block struct {
	pos  Pos
	body []stmt
}

func (s *assign) position() Pos    { return s.pos }
func (s *ifStmt) position() Pos    { return s.pos }
func (s *whileStmt) position() Pos { return s.pos }
func (s *printStmt) position() Pos { return s.pos }
func (s *block) position() Pos     { return s.pos }
