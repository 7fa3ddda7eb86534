// Command weir filters capture files with tcpdump's expressions and speaks
// tcpdump's flags: `weir -r in.pcap -w out.pcap 'tcp port 80'`.
//
// Expressions compile to classic BPF with libpcap's semantics (package
// filter); files are read and written by package pcap. Without -w, weir
// prints one line per matching packet, in the words of `tcpdump -nq`.
package main
