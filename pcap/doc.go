// Package pcap reads and writes capture files (pcap and pcapng) and names
// the link types and per-packet metadata shared by every packet source.
//
// It never touches the kernel: everything here is computed from bytes.
package pcap
