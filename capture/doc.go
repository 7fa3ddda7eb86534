// Package capture reads live packets from network interfaces: an AF_PACKET
// socket with a TPACKET_V3 receive ring and the classic BPF filter attached
// in the kernel, so only matching packets are copied to user space.
//
// Everything computable from bytes (ring geometry, the block walker, the
// cooked headers and VLAN tags rebuilt in front of packets, the rewriting
// of filters for cooked sockets) is plain code tested without privileges;
// the syscalls live in *_linux.go files, and other systems get
// ErrNotSupported.
//
// # Filters
//
// Config.Filter must be compiled for the live interface: FilterConfig
// gives its link type, its IPv4 netmask and, on Ethernet, KernelVLAN,
// because the kernel takes the outer VLAN tag out of the packet before the
// filter sees it. The same expression then gives the same verdict as
// tcpdump capturing on that interface. On "any" (LINUX_SLL2) and other
// cooked link types the kernel runs the filter without the cooked header:
// loads from it become ancillary loads, as libpcap's fix_program, and a
// filter the kernel cannot run that way runs in user space instead.
//
// # No unfiltered packet
//
// A socket of protocol 0 receives nothing until it is bound. Open attaches
// the filter and sets up the ring first and binds to ETH_P_ALL last, so
// the ring never holds a packet the filter rejected. (libpcap binds first
// and swaps a reject-all filter for the real one after draining.)
//
// # Reading
//
// One goroutine per socket waits for the kernel's blocks (poll on the
// socket and an eventfd) and rebuilds their packets in place; ReadPacket
// returns them one at a time from the ring memory, allocating nothing.
// Stop attaches a reject-all filter, so the packets the kernel already
// accepted are still returned, including those of a block it is filling
// (handed over by its retire timer), then io.EOF.
//
// With Fanout above 1, the sockets form one PACKET_FANOUT group (hash of
// the flow, fragments reassembled first) and are read in parallel. Each
// socket's packets keep the kernel's order; ReadPacket returns the
// earliest of the packets already handed over by any socket, so across
// sockets the stream is in timestamp order except for a packet still in
// a block the kernel holds, which can come later than a packet stamped
// after it, by at most BlockTimeout.
package capture
