// Command gencaptures writes the small test captures under
// testdata/captures (one packet catalog wrapped for every link type weir
// filters) and, with -big, a large realistic capture for benchmarks.
//
//	go run ./internal/cmd/gencaptures -out testdata/captures
//	go run ./internal/cmd/gencaptures -big 2000000 -o /tmp/big.pcap
//
// Output is deterministic: fixed timestamps, fixed random seed.
package main
