// Package filter compiles pcap-filter(7) expressions to classic BPF with
// libpcap's semantics: expression -> tokens -> AST -> control-flow-graph IR
// -> classic BPF program. It also holds the reference VM (Run) that filters
// files and serves as the test oracle, and tcpdump's -d, -dd and -ddd dumps.
//
// It never touches the kernel.
package filter
