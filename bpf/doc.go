// Package bpf lowers classic BPF filter programs (filter.Program) to eBPF
// fragments for three targets, with filter.Run's verdicts: an AF_PACKET
// socket filter (TargetSocketFilter), XDP (TargetXDP) and tcx (TargetTCX).
// Building programs is pure; loading them is for *_linux.go files.
//
// # Contract
//
//	func Lower(p filter.Program, t Target) (asm.Instructions, error)
//
// On entry R1 holds the context (__sk_buff or xdp_md); the fragment moves
// it to R6 and leaves it there. It ends by jumping to FilterDone with R0 =
// the classic verdict as a u32 (bytes to keep, 0 = no match); the caller
// places the FilterDone label after it. It may use R0-R9 and the stack
// from R10-1 down to R10-StackBytes, and defines symbols starting with
// "weir_filter_"; nothing else. An out-of-range packet load gives verdict
// 0, as in classic BPF.
//
// # How each classic instruction lowers
//
// A lives in w7 and X in w8, both 32-bit (ALU32 operations and JMP32 tests,
// so constants keep their unsigned meaning); the scratch words M[0..15]
// are the stack bytes R10-64 up to R10-1, zeroed at entry where the
// program loads them (A, X and M[] start at 0, as filter.Run).
//
//   - LD/LDX #k, M[k], ST/STX, TAX/TXA, RET #k/A: moves, stack loads and
//     stores; RET sets R0 and jumps to FilterDone.
//   - LD [k], [x+k] (W, H, B) and LDX 4*([k]&0xf): the socket filter copies
//     the bytes with bpf_skb_load_bytes into the stack at R10-72 (failure:
//     verdict 0). XDP and tcx read the packet directly: X+K is checked
//     against 0xffff-size first (the verifier needs a bounded offset), then
//     data+offset+size against data_end before the load. Past data_end XDP
//     gives verdict 0; tcx falls back to bpf_skb_load_bytes, which reads the
//     non-linear part too. Loads are turned big-endian (BPF_END to_be).
//   - LD len: __sk_buff.len; at XDP bpf_xdp_get_buff_len (Linux 5.18).
//   - ALU: the 32-bit eBPF operation; division or modulo by zero (constant
//     or X) gives verdict 0; shifts by 32 or more give A = 0 (filter.Run's
//     and libpcap's choice; the kernel's classic BPF masks the count, so a
//     live classic filter and this one can differ on such a shift by X).
//   - JEQ/JGT/JGE/JSET with K or X: one JMP32 test, the inverted test when
//     the true branch falls through, and a "goto" for the other branch when
//     neither does.
//   - JA forward: goto. JA backward (only "protochain" emits it): a bounded
//     loop; R9 counts the MaxBackwardJumps jumps left, and a jump with none
//     left gives verdict 0, so the verifier can prove termination. It
//     follows every iteration, at a cost growing faster than the bound: 32
//     extension headers verify in well under a second, 64 exceed the
//     verifier's million instructions at XDP. (filter.Run allows 65536.)
//   - Ancillary loads (SKF_AD_OFF + n, from "inbound", "outbound",
//     "ifindex" and live "vlan"): __sk_buff fields (pkt_type, vlan_tci,
//     vlan_present, ifindex, protocol, mark, ...) on the socket filter and
//     tcx; at XDP only the ingress ifindex exists and the others are an
//     error. At tcx the packet type is PACKET_OUTGOING when the buffer is
//     at egress (its input device, skb_iif, is not the device it is on), as
//     AF_PACKET reports it: the buffer itself keeps the type it was made
//     with there. hatype, nla, nlan and poff have no equivalent and are an
//     error; other absolute offsets are packet offsets (past any packet from
//     0x80000000 on, as unknown ancillary offsets are for filter.Run).
//
// Instructions no path reaches are left out, as the verifier demands; a
// fragment needing a jump beyond eBPF's 16-bit offsets is refused. XDP
// fragments see the first buffer of a frame: load them without
// BPF_F_XDP_HAS_FRAGS. Kernel features used: JMP32 (Linux 5.1), bounded
// loops (5.3, protochain only), bpf_xdp_get_buff_len (5.18, "len" at XDP).
//
// # Capture programs
//
// CaptureProgram wraps a TargetXDP or TargetTCX fragment into a whole
// capture program: after FilterDone, a verdict other than 0 reserves a
// record in RingMap (size classes doubling from 64 bytes to the snap
// length), writes a 32-byte header (bpf_ktime_get_ns, wire length,
// captured length = min(verdict, snaplen, length), ifindex, packet type,
// the VLAN tag tcx keeps aside) and copies the bytes with
// bpf_xdp_load_bytes or bpf_skb_load_bytes; a full ring counts a drop in
// the per-CPU CountersMap. It always returns XDP_PASS or TCX_NEXT.
// WakeupBytes batches the reader's wake-ups. DecodeRecord reads a record.
// LoadCapture loads the programs and maps; ProbeCapture and
// ProbeSocketFilter name a missing kernel feature and its first Linux
// version; SocketFilterProgram makes a whole eBPF socket filter.
//
// # Sets and rules
//
// A filter compiled with filter.Config.SetLookups holds set lookups; each
// lowers to a copy of the field's bytes to the stack and one
// bpf_map_lookup_elem in the map SetMapName names: IPv4 and IPv6 networks
// in LPM tries (split in two by one address bit, filled at once), ports
// and MAC addresses in hash maps. SetMaps builds the maps' contents from
// the sets, as data; LoadCapture and LoadSocketFilter create and fill
// them, UpdateSetMap refills one in place.
//
// RulesProgram (a CaptureSpec with Rules) runs rules in order: each
// rule's fragment, then for the first that matches its per-CPU counters
// (RuleCountersMap), sampling, a rate limit (GCRA, one arrival time per
// rule in RateMap or per flow in FlowRateMap, moved with
// compare-and-exchange) and its action: capture (the rule's number in
// the record), drop (XDP) or pass.
//
// # Verification
//
// The tests lower the filter package's expression table for the project's
// captures (testdata/captures) in every compile mode, load each fragment
// for every target (the verifier must accept it) and run it in the kernel
// on the captures' packets: XDP and tc programs through BPF_PROG_TEST_RUN,
// socket filters attached to an AF_UNIX datagram pair; every verdict must
// equal filter.Run's. `make conformance` does the same on every (capture,
// expression) pair of the shared corpus that tcpdump accepts.
package bpf
