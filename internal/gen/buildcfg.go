package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
)

// This file finds what makes a type's shape depend on the build configuration without a
// constraint on the file that declares it: cachegen writes one file for every build, with the
// shapes it sees in this one, so such a type would break (or silently change) another build.

// aliasConstraint returns why an alias that t is written with is declared in a file that
// builds only under a constraint (so that it may stand for another type in another build),
// or "".
func (pkg *Package) aliasConstraint(t types.Type) string {
	why := ""
	walkType(t, func(t types.Type) bool {
		a, ok := t.(*types.Alias)
		if !ok || a.Obj().Pkg() == nil {
			return true
		}
		file := pkg.Fset.Position(a.Obj().Pos()).Filename
		if w := pkg.constraint(file); w != "" {
			why = fmt.Sprintf("alias %s is declared in %s, which builds only %s, so it may stand for another type in another build", a.Obj().Name(), filepath.Base(file), w)
			return false
		}
		return true
	})
	return why
}

// wordSizeConsts are constants of the standard library whose value depends on GOARCH.
var wordSizeConsts = map[string]bool{
	"strconv.IntSize": true, "math.MaxInt": true, "math.MinInt": true, "math.MaxUint": true,
	"math/bits.UintSize": true,
}

// arrayLengths reports every array length in the declaration of typ (a type of the package)
// whose value depends on the build: a constant declared under a constraint, a word size, or
// unsafe.Sizeof and its kin. The guard writes the length this build computes.
func (pkg *Package) arrayLengths(obj *types.TypeName, errs *ErrorList) {
	spec := pkg.specs[obj]
	if spec == nil {
		return
	}
	ast.Inspect(spec.Type, func(n ast.Node) bool {
		at, ok := n.(*ast.ArrayType)
		if !ok || at.Len == nil {
			return true
		}
		if _, ok := at.Len.(*ast.Ellipsis); ok {
			return true
		}
		if why := pkg.buildDependent(at.Len, 0); why != "" {
			errs.add(pkg.Fset.Position(at.Len.Pos()), "%s: the array length %s %s; cachegen's guard and code hold the length this build computes, so another build would not compile: write a length that is the same in every build",
				obj.Name(), types.ExprString(at.Len), why)
		}
		return true
	})
}

// buildDependent returns why constant expression e may have another value in another build,
// or "".
func (pkg *Package) buildDependent(e ast.Expr, depth int) string {
	if depth > 16 {
		return ""
	}
	why := ""
	ast.Inspect(e, func(n ast.Node) bool {
		if why != "" {
			return false
		}
		switch n := n.(type) {
		case *ast.UnaryExpr:
			// ^uint(0) and its kin measure the word size.
			if call, ok := n.X.(*ast.CallExpr); ok && n.Op == token.XOR {
				if id, ok := call.Fun.(*ast.Ident); ok && (id.Name == "uint" || id.Name == "uintptr" || id.Name == "int") {
					why = "depends on the word size (" + types.ExprString(n) + ")"
				}
			}
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
				if b, ok := pkg.info.Uses[sel.Sel].(*types.Builtin); ok {
					why = "depends on the platform's sizes (unsafe." + b.Name() + ")"
				}
			}
		case *ast.Ident:
			c, ok := pkg.info.Uses[n].(*types.Const)
			if !ok || c.Pkg() == nil {
				return true
			}
			if wordSizeConsts[c.Pkg().Path()+"."+c.Name()] {
				why = "depends on the word size (" + c.Pkg().Name() + "." + c.Name() + ")"
				return false
			}
			file := pkg.Fset.Position(c.Pos()).Filename
			if w := pkg.constraint(file); w != "" {
				why = fmt.Sprintf("uses %s, declared in %s, which builds only %s", c.Name(), filepath.Base(file), w)
				return false
			}
			if expr := pkg.consts[c]; expr != nil {
				why = pkg.buildDependent(expr, depth+1)
			}
		}
		return true
	})
	return why
}
