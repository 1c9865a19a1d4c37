package compiler

import "fmt"

// maxVars bounds the number of variables (the LOAD and STORE operands are 16 bits).
const maxVars = 1 << 16

// resolver binds every variable use to the slot of its declaration. Every let gets its own
// slot, so that later passes need no notion of scope.
type resolver struct {
	file   string
	scopes []map[string]int
	names  []string // by slot
}

// resolve assigns slots in prog and returns the variables' names by slot.
func resolve(file string, prog []stmt) ([]string, error) {
	r := &resolver{file: file}
	if err := r.block(prog); err != nil {
		return nil, err
	}
	return r.names, nil
}

func (r *resolver) errorf(pos Pos, format string, args ...any) error {
	return &Error{File: r.file, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (r *resolver) block(body []stmt) error {
	r.scopes = append(r.scopes, map[string]int{})
	defer func() { r.scopes = r.scopes[:len(r.scopes)-1] }()
	for _, s := range body {
		if err := r.stmt(s); err != nil {
			return err
		}
	}
	return nil
}

func (r *resolver) lookup(name string) (int, bool) {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if slot, ok := r.scopes[i][name]; ok {
			return slot, true
		}
	}
	return 0, false
}

func (r *resolver) stmt(s stmt) error {
	switch s := s.(type) {
	case *assign:
		// The value is resolved first: in "let x = x + 1" the right x is an outer one.
		if err := r.expr(s.value); err != nil {
			return err
		}
		if s.decl {
			scope := r.scopes[len(r.scopes)-1]
			if _, ok := scope[s.name]; ok {
				return r.errorf(s.pos, "%s redeclared in this block", s.name)
			}
			if len(r.names) >= maxVars {
				return r.errorf(s.pos, "too many variables (the limit is %d)", maxVars)
			}
			s.slot = len(r.names)
			scope[s.name] = s.slot
			r.names = append(r.names, s.name)
			return nil
		}
		slot, ok := r.lookup(s.name)
		if !ok {
			return r.errorf(s.pos, "assignment to undeclared variable %s (declare it with let)", s.name)
		}
		s.slot = slot
	case *ifStmt:
		if err := r.expr(s.cond); err != nil {
			return err
		}
		if err := r.block(s.then); err != nil {
			return err
		}
		return r.block(s.els)
	case *whileStmt:
		if err := r.expr(s.cond); err != nil {
			return err
		}
		return r.block(s.body)
	case *printStmt:
		for _, a := range s.args {
			if !a.isStr {
				if err := r.expr(a.x); err != nil {
					return err
				}
			}
		}
	case *block:
		return r.block(s.body)
	}
	return nil
}

func (r *resolver) expr(e expr) error {
	switch e := e.(type) {
	case *varRef:
		slot, ok := r.lookup(e.name)
		if !ok {
			return r.errorf(e.pos, "undefined variable %s", e.name)
		}
		e.slot = slot
	case *unaryExpr:
		return r.expr(e.x)
	case *binaryExpr:
		if err := r.expr(e.x); err != nil {
			return err
		}
		return r.expr(e.y)
	}
	return nil
}
