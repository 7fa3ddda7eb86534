// Package filter compiles pcap-filter(7) expressions to classic BPF with
// libpcap's semantics: expression -> tokens -> AST -> control-flow-graph IR
// -> classic BPF program. It also holds the reference VM (Run) that filters
// files and serves as the test oracle, and tcpdump's -d, -dd and -ddd dumps.
//
// weir's one extension to the language is the set value, "@name" (Set,
// ParseSet, Config.Sets): a primitive's value that stands for every entry
// of a named list, compiled for classic BPF as the "or" of the primitive
// with each entry.
//
// It never touches the kernel.
package filter
