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
// A filter the kernel refuses (longer than its 4096 instructions, too
// big for the socket's net.core.optmem_max, backward jumps...) runs in
// user space instead, as libpcap does: the kernel keeps every packet of
// the wanted direction and the filter runs on each frame before it is
// returned, with the kernel's metadata (the VLAN tag it took out, the
// packet type, the interface...) in front of it for the loads that read
// them. Source.FilterRefused says why, for a warning as tcpdump prints.
//
// # Reading
//
// ReadPacket reads the ring itself, as libpcap does: it walks the block
// the kernel handed over in place, rebuilding each packet's frame in the
// room the kernel leaves in front of it (cooked header, VLAN tag), gives
// the block back once the caller is done with its last packet, and only
// when no block is ready waits for the next one (an epoll instance that
// Go's poller watches: the goroutine parks, no thread blocks). No packet
// is copied and nothing is allocated per packet. ReadPacketInfo is the
// same with the CaptureInfo filled in place, which spares a loop over
// millions of packets a copy of the struct each time. WriteReady writes
// every packet already handed over straight into a pcap.Writer, one tight
// loop per block. Before walking a block, the reader touches each of its
// cache lines: the kernel wrote them on another processor, and the walk,
// each packet's offset read from the one before, would otherwise wait
// for them one at a time.
//
// Stop attaches a reject-all filter, so the packets the kernel already
// accepted are still returned, then io.EOF. Those of the block it is
// filling are read in place once every packet in flight has landed
// (membarrier's RCU grace period), without waiting for the block's retire
// timer; a kernel without MEMBARRIER_CMD_GLOBAL hands that block over at
// the timer's next tick instead.
//
// With Fanout above 1, the sockets form one PACKET_FANOUT group (hash of
// the flow, fragments reassembled first), read together and merged by
// timestamp. Each socket's packets keep the kernel's order. Across
// sockets the earliest packet handed over goes first, with a watermark
// for those not handed over yet: the kernel records when it opened the
// block it is filling, before stamping any packet in it, so a packet
// stamped after that waits until the block is handed over (full, or by its
// retire timer, at most BlockTimeout later). The stream is then in
// timestamp order, but for two exceptions: a packet stamped within
// microseconds of the block's opening may precede it, and a packet is
// held back only while every socket with packets waiting has half of its
// ring free; past that, it goes out rather than risk losing packets.
//
// # eBPF captures, sets and rules
//
// OpenHook captures with XDP or tcx programs and a BPF ring buffer
// (HookSource); Config.EBPF attaches the filter to the socket as an eBPF
// program. A filter with set lookups takes Config.Sets, held in kernel
// maps that UpdateSets refills in place while the capture runs. A
// HookConfig's Rules replace its filter: the first matching rule counts,
// samples, rate-limits and captures, drops or passes each packet; its
// name is the pcapng comment of the packets it captures, and RuleStats
// reads its counters.
package capture
