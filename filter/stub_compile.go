package filter

// Compile compiles an expression for cfg's link type. An empty expression
// accepts every packet. Errors are *Error, positioned in expr.
func Compile(expr string, cfg Config) (Program, error) {
	return nil, errorAt(expr, 0, "compiler not implemented")
}
