// Command optbench compares the length of weir's optimized programs with
// libpcap's over a table of expressions (the conformance corpus's
// expressions.tsv: expression, link type, whether libpcap accepts it, the
// instruction count of tcpdump -d, ..., family) and prints, per family,
// weir's total, libpcap's total and their ratio, and every program longer
// than libpcap's.
//
//	go run ./internal/cmd/optbench -corpus ../shared/corpus/expressions.tsv
package main
