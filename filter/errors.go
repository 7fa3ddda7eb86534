package filter

import (
	"fmt"
	"strings"
)

// Error is a compile error positioned in the expression text.
type Error struct {
	Expr string // the whole expression
	Pos  int    // byte offset of the problem in Expr
	Msg  string // what is wrong, e.g. "expected a value after 'port', found end of expression"
}

func (e *Error) Error() string {
	return fmt.Sprintf("filter: %s (at offset %d)", e.Msg, e.Pos)
}

// Caret returns the expression and, under it, a caret at the error's
// position, ready to print below the message.
func (e *Error) Caret() string {
	pos := e.Pos
	if pos < 0 {
		pos = 0
	}
	if pos > len(e.Expr) {
		pos = len(e.Expr)
	}
	// Tabs keep their width so the caret lines up.
	var pad strings.Builder
	for _, c := range e.Expr[:pos] {
		if c == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return e.Expr + "\n" + pad.String() + "^"
}

func errorAt(expr string, pos int, format string, args ...any) *Error {
	return &Error{Expr: expr, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
