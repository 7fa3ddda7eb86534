// Package rules reads weir's rules files: named sets and an ordered list
// of rules, each an expression (sets allowed) with sampling, a rate limit,
// a snap length and an action, which the eBPF backends compile into one
// program where the first matching rule wins. Parse checks the file's
// shape with file:line:column errors; Check compiles every expression.
//
// It never touches the kernel.
package rules
