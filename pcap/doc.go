// Package pcap reads and writes capture files (pcap and pcapng) and names
// the link types and per-packet metadata shared by every packet source.
//
// Reader takes classic pcap (microsecond, nanosecond and the "modified"
// a1b2cd34 variant, either byte order) and pcapng (any number of sections,
// each with its own byte order and interfaces; enhanced, simple and
// obsolete packet blocks) from any io.Reader, reading forward only. A
// damaged file gives the packets before the damage, then a *FormatError
// naming the offset of the bad header, record or block. Length fields are
// held to libpcap's limits, and buffers grow only with data that arrives.
//
// Writer writes classic pcap, handing whole records to the underlying
// writer so that a failed write leaves a readable file.
//
// It never touches the kernel: everything here is computed from bytes.
package pcap
