package capture

import (
	"github.com/weircap/weir/filter"
)

// Kernel ancillary data offsets (SKF_AD_*) from SKF_AD_OFF, and the first
// of the kernel's special negative offsets (SKF_LL_OFF).
const (
	skfAdOff            = 0xfffff000
	skfAdProtocol       = 0
	skfAdPktType        = 4
	skfAdIfindex        = 8
	skfAdHAType         = 28
	skfAdVLANTag        = 44
	skfAdVLANTagPresent = 48
	skfAdVLANTPID       = 60
	skfSpecialBase      = 0xffe00000

	packetOutgoing = 4 // PACKET_OUTGOING

	maxKernelInstructions = 4096 // BPF_MAXINSNS
)

// socketPrograms are the program attached to the socket and, when the
// kernel cannot run the caller's program on the socket, the program user
// space runs instead.
type socketPrograms struct {
	Kernel filter.Program
	User   filter.Program
}

// buildPrograms prepares the caller's program p for a socket of the given
// mode. nil p keeps every packet, cut at snaplen by the kernel. On a
// cooked socket the kernel runs the program on the network-layer packet,
// so offsets into the cooked header are rewritten (libpcap's fix_program);
// a program reading a header field the kernel cannot supply runs in user
// space instead, behind an accept-all kernel program. A direction other
// than both (unless the socket already ignores outgoing packets) and the
// loopback rule become a packet-type test in front.
func buildPrograms(p filter.Program, mode linkMode, snaplen uint32, dir Direction, lo loopbackRule) socketPrograms {
	if len(p) == 0 {
		p = acceptAll(snaplen)
	}
	if mode.Cooked != notCooked {
		fixed, ok := fixCookedProgram(p, mode.headerLen())
		if !ok {
			return inUserSpace(p, snaplen, dir, lo)
		}
		p = fixed
	}
	return socketPrograms{Kernel: withDirection(p, dir, lo)}
}

// inUserSpace are the programs for a filter p the kernel cannot run: the
// kernel keeps every packet of the wanted direction, and p runs in user
// space on the rebuilt frames (libpcap's filter_in_userland).
func inUserSpace(p filter.Program, snaplen uint32, dir Direction, lo loopbackRule) socketPrograms {
	return socketPrograms{Kernel: withDirection(acceptAll(snaplen), dir, lo), User: p}
}

// acceptAll keeps every packet, cut at snaplen.
func acceptAll(snaplen uint32) filter.Program {
	return filter.Program{{Op: filter.ClassRet | filter.SrcK, K: snaplen}}
}

// fixCookedProgram rewrites the packet loads of a program compiled for a
// cooked link type (header of hdrLen bytes) for the kernel, which runs it
// on the packet without that header: payload offsets move down, header
// fields become ancillary loads. ok is false when a load reads a header
// field the kernel has no ancillary value for.
func fixCookedProgram(p filter.Program, hdrLen int) (filter.Program, bool) {
	out := append(filter.Program(nil), p...)
	for i := range out {
		ins := &out[i]
		class := ins.Op & 0x07
		if class != filter.ClassLd && class != filter.ClassLdx {
			continue
		}
		mode := ins.Op & 0xe0
		if mode != filter.ModeAbs && mode != filter.ModeInd && mode != filter.ModeMsh {
			continue
		}
		switch {
		case ins.K >= skfSpecialBase:
			// Already a kernel special offset.
		case ins.K >= uint32(hdrLen):
			ins.K -= uint32(hdrLen)
		case mode != filter.ModeAbs:
			return nil, false
		default:
			ad, ok := cookedField(ins.K, hdrLen)
			if !ok {
				return nil, false
			}
			ins.K = skfAdOff + ad
		}
	}
	return out, true
}

// cookedField maps the offset of a cooked header field to the kernel's
// ancillary value holding it (libpcap's fix_offset).
func cookedField(off uint32, hdrLen int) (uint32, bool) {
	if hdrLen == sll2HeaderLen {
		switch off {
		case 0:
			return skfAdProtocol, true
		case 4:
			return skfAdIfindex, true
		case 8:
			return skfAdHAType, true
		case 10:
			return skfAdPktType, true
		}
		return 0, false
	}
	switch off {
	case 0:
		return skfAdPktType, true
	case 2:
		return skfAdHAType, true
	case 14:
		return skfAdProtocol, true
	}
	return 0, false
}

// loopbackRule says which outgoing packets are copies of packets the
// capture also sees coming in on the loopback device, which libpcap drops
// (linux_check_direction) so each shows once.
type loopbackRule int

const (
	loopbackNone   loopbackRule = iota
	loopbackDevice              // capturing on lo: every outgoing packet
	loopbackAny                 // capturing on "any": outgoing on lo's index
)

// loopbackIndex is the loopback device's index in every network
// namespace (LOOPBACK_IFINDEX).
const loopbackIndex = 1

// withDirection puts a packet-type test in front of p: "out" keeps only
// outgoing packets, "in" drops them, and outgoing copies of loopback
// packets go as the rule says. The accumulator is reset to zero before
// p, as a program expects at its start.
func withDirection(p filter.Program, dir Direction, lo loopbackRule) filter.Program {
	keepOut, keepIn := dir != DirectionIn, dir != DirectionOut
	if lo == loopbackDevice {
		keepOut = false
	}
	if keepOut && keepIn && lo == loopbackNone {
		return p
	}
	reject := filter.Instruction{Op: filter.ClassRet | filter.SrcK, K: 0}
	var out, in filter.Program
	if !keepIn {
		in = filter.Program{reject}
	}
	// accept is the index of the accumulator reset that precedes p.
	accept := func(outLen int) int { return 2 + outLen + len(in) }
	switch {
	case !keepOut:
		out = filter.Program{reject}
	case lo == loopbackAny:
		out = filter.Program{
			{Op: filter.ClassLd | filter.SizeW | filter.ModeAbs, K: skfAdOff + skfAdIfindex},
			{Op: filter.ClassJmp | filter.JmpJeq | filter.SrcK, K: loopbackIndex, Jf: uint8(accept(3) - 4)},
			reject,
		}
	default:
		out = filter.Program{{Op: filter.ClassJmp | filter.JmpJa, K: uint32(accept(1) - 3)}}
	}
	prefix := filter.Program{
		{Op: filter.ClassLd | filter.SizeB | filter.ModeAbs, K: skfAdOff + skfAdPktType},
		{Op: filter.ClassJmp | filter.JmpJeq | filter.SrcK, K: packetOutgoing, Jf: uint8(len(out))},
	}
	prefix = append(prefix, out...)
	prefix = append(prefix, in...)
	prefix = append(prefix, filter.Instruction{Op: filter.ClassLd | filter.SizeW | filter.ModeImm, K: 0})
	return append(prefix, p...)
}
