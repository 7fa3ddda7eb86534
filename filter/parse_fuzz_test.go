package filter

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is an *Error
// positioned inside the expression, and that the canonical String() of a
// parsed tree parses back to a tree printing the same. It also runs
// Compile, so that panics in code generation surface too.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile(syntaxGolden)
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if expr, err := unquoteField(strings.SplitN(line, "\t", 2)[0]); err == nil {
			f.Add(expr)
		}
	}
	for _, tt := range parseTests {
		f.Add(tt.input)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		_, _ = Compile(expr, Config{LinkType: 1, Resolver: offlineResolver{}})
		_, _ = Compile(expr, Config{LinkType: 1, Resolver: offlineResolver{}, Optimize: true})
		n, err := Parse(expr)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): error %T %v, want *Error", expr, err, err)
			}
			if e.Pos < 0 || e.Pos > len(expr) || e.Expr != expr {
				t.Fatalf("Parse(%q): error at %d outside the expression: %v", expr, e.Pos, e)
			}
			return
		}
		if n == nil {
			if strings.Trim(expr, " \t\r\n") != "" {
				t.Fatalf("Parse(%q) = nil for a non-blank expression", expr)
			}
			return
		}
		if n.Pos() < 0 || n.End() > len(expr) || n.Pos() > n.End() {
			t.Fatalf("Parse(%q): span [%d,%d) outside the expression", expr, n.Pos(), n.End())
		}
		canon := n.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", expr, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("Parse(%q) = %q, which parses as %q", expr, canon, again.String())
		}
	})
}
