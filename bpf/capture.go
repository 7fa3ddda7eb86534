package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/filter"
)

// CaptureHook is where a capture program runs.
type CaptureHook int

// Capture hooks.
const (
	HookXDP        CaptureHook = iota // XDP: received frames, before the kernel builds an skb
	HookTCXIngress                    // tcx ingress: received packets, as socket buffers
	HookTCXEgress                     // tcx egress: packets the host sends
)

func (h CaptureHook) String() string {
	switch h {
	case HookXDP:
		return "xdp"
	case HookTCXIngress:
		return "tcx ingress"
	case HookTCXEgress:
		return "tcx egress"
	}
	return fmt.Sprintf("hook(%d)", int(h))
}

// Names of the capture program's maps, by which its instructions refer
// to them.
const (
	// RingMap is the BPF ring buffer the matching packets go to.
	RingMap = "weir_ring"
	// CountersMap is a per-CPU array of one CaptureCounters: the records
	// submitted and those lost for want of ring space.
	CountersMap = "weir_counters"
)

// Counter slots of CountersMap's value, in 8-byte words.
const (
	CounterSubmitted = 0
	CounterDropped   = 1
	CounterWords     = 2
)

// Return codes that leave the packet to the kernel.
const (
	xdpPass = 2  // XDP_PASS
	tcxNext = -1 // TCX_NEXT
	xdpDrop = 1  // XDP_DROP
)

// Labels of the capture program.
const (
	labelExit     = "capture_exit"
	labelReserved = "capture_reserved"
	labelDrop     = "capture_drop"
	labelDiscard  = "capture_discard"
	labelCount    = "capture_count"
	labelSubmit   = "capture_submit"
	labelMinSnap  = "capture_min_snaplen"
	labelMinLen   = "capture_min_length"
	labelReturn   = "capture_return"
)

// CaptureSpec describes a capture program.
type CaptureSpec struct {
	Hook CaptureHook
	// Snaplen is the most bytes copied of each packet (at most
	// MaxCaptureSnaplen).
	Snaplen uint32
	// Filter is the filter fragment for the hook's view of the packet: on
	// entry R1 holds the context, it leaves it in R6 and jumps to
	// "filter_done" with the classic verdict in R0 (bytes to keep, 0 for no
	// match).
	Filter asm.Instructions
	// WakeupBytes, when not 0, batches the reader's wake-ups: once the
	// ring holds that many bytes a record wakes the reader whatever it is
	// doing; below, the kernel's default rule applies, a wake-up only for
	// a record that lands where the consumer position stands. A reader
	// that polls now and then keeps that position behind what it read,
	// so it is not woken per packet (each wake-up costs an interrupt on
	// the capturing CPU and a context switch), and gives everything back
	// before it sleeps without a timer. 0 always applies the kernel's rule.
	WakeupBytes uint32
	// Rules, when given, make it a rules program (RulesProgram) in
	// place of Filter.
	Rules []RuleSpec
}

// MaxCaptureSnaplen is the largest snap length a capture program copies,
// libpcap's MAXIMUM_SNAPLEN.
const MaxCaptureSnaplen = 262144

// Context offsets (struct xdp_md and struct __sk_buff).
const (
	xdpIngressIfindex = 12
	skbPktType        = 4
	skbVLANPresent    = 20
	skbVLANTCI        = 24
	skbVLANProto      = 28
	skbIfindex        = 40
)

// Linux packet types (sll_pkttype) stored in records.
const (
	packetOutgoing = 4
	// PacketTypeUnknown marks records of XDP, which runs before the kernel
	// classifies the packet.
	PacketTypeUnknown = 0xff
)

// CaptureProgram builds the capture program around spec's filter: when
// the verdict is not 0, it reserves a record in RingMap big enough for
// min(verdict, Snaplen, packet length) bytes (records come in a few size
// classes, since a reservation's size must be a constant), writes the
// record header and copies the packet's bytes, then submits it; when the
// ring is full it counts a drop in CountersMap. It always lets the packet
// go on (XDP_PASS, TCX_NEXT).
func CaptureProgram(spec CaptureSpec) (asm.Instructions, error) {
	if spec.Hook < HookXDP || spec.Hook > HookTCXEgress {
		return nil, fmt.Errorf("bpf: unknown capture hook %d", int(spec.Hook))
	}
	if spec.Snaplen == 0 || spec.Snaplen > MaxCaptureSnaplen {
		return nil, fmt.Errorf("bpf: capture snap length %d is not within 1 to %d", spec.Snaplen, MaxCaptureSnaplen)
	}
	if len(spec.Rules) > 0 {
		return RulesProgram(RulesSpec{Hook: spec.Hook, Snaplen: spec.Snaplen, WakeupBytes: spec.WakeupBytes, Rules: spec.Rules})
	}
	if len(spec.Filter) == 0 {
		return nil, errors.New("bpf: capture program without a filter fragment")
	}
	insns := append(asm.Instructions(nil), spec.Filter...)
	spec.Snaplen = recordLimit(spec.Hook, spec.Snaplen)
	insns = append(insns, verdictToLength(spec)...)
	insns = append(insns, reserveRecord(spec.Snaplen)...)
	insns = append(insns, fillRecord(spec.Hook, spec.WakeupBytes, false)...)
	insns = append(insns, epilogue(spec.Hook, false)...)
	return insns, nil
}

// verdictToLength turns the verdict into the bytes to copy, in R9:
// min(verdict, packet length, snaplen), at least 1 or no capture. R8 gets
// the packet's length.
func verdictToLength(spec CaptureSpec) asm.Instructions {
	insns := asm.Instructions{
		asm.JEq.Imm32(asm.R0, 0, labelExit).WithSymbol(FilterDone),
		asm.Mov.Reg32(asm.R9, asm.R0),
	}
	if spec.Hook == HookXDP {
		insns = append(insns,
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.FnXdpGetBuffLen.Call(),
			asm.Mov.Reg(asm.R8, asm.R0),
		)
	} else {
		insns = append(insns, asm.LoadMem(asm.R8, asm.R6, skbLen, asm.Word))
	}
	return append(insns,
		asm.JLE.Reg(asm.R9, asm.R8, labelMinLen),
		asm.Mov.Reg(asm.R9, asm.R8),
		asm.JLE.Imm(asm.R9, int32(spec.Snaplen), labelMinSnap).WithSymbol(labelMinLen),
		asm.Mov.Imm(asm.R9, int32(spec.Snaplen)),
		asm.JLT.Imm(asm.R9, 1, labelExit).WithSymbol(labelMinSnap),
	)
}

// maxXDPFrame bounds what an XDP capture copies: the programs are loaded
// without BPF_F_XDP_HAS_FRAGS, so the kernel gives them single-buffer
// frames, which fit a page. Record classes above it would never be used,
// and each costs the verifier a path at every start.
const maxXDPFrame = 4096

// recordLimit is the most bytes a hook's records hold for a snap length.
func recordLimit(hook CaptureHook, snaplen uint32) uint32 {
	if hook == HookXDP {
		return min(snaplen, maxXDPFrame)
	}
	return snaplen
}

// RecordCapacities are the data sizes of the record classes for a snap
// length: doubling from 64 bytes, the last one the snap length rounded
// up to 8 bytes. The smallest class holds a minimum Ethernet frame (a
// bare TCP acknowledgement, a small UDP datagram) in a 104-byte record
// with the ring buffer's header, where the next would take 168: the
// ring fills, and wakes the reader, 40% less often for such traffic.
func RecordCapacities(snaplen uint32) []uint32 {
	last := (snaplen + 7) &^ 7
	var caps []uint32
	for c := uint32(64); c < last; c *= 2 {
		caps = append(caps, c)
	}
	return append(caps, last)
}

// reserveRecord reserves the smallest record class that holds R9 bytes;
// R0 is the record or NULL at labelReserved.
func reserveRecord(snaplen uint32) asm.Instructions {
	var insns asm.Instructions
	caps := RecordCapacities(snaplen)
	for i, c := range caps {
		var class asm.Instructions
		if i < len(caps)-1 {
			class = append(class, asm.JGT.Imm(asm.R9, int32(c), classLabel(i+1)))
		}
		class = append(class,
			asm.LoadMapPtr(asm.R1, 0).WithReference(RingMap),
			asm.Mov.Imm(asm.R2, int32(RecordHeaderLen+c)),
			asm.Mov.Imm(asm.R3, 0),
			asm.FnRingbufReserve.Call(),
			asm.Ja.Label(labelReserved),
		)
		if i > 0 {
			class[0] = class[0].WithSymbol(classLabel(i))
		}
		insns = append(insns, class...)
	}
	return insns
}

func classLabel(i int) string { return fmt.Sprintf("capture_class_%d", i) }

// Flags of bpf_ringbuf_submit and bpf_ringbuf_query.
const (
	ringForceWakeup = 2 // BPF_RB_FORCE_WAKEUP
	ringAvailData   = 0 // BPF_RB_AVAIL_DATA
)

// fillRecord writes the header and copies the packet into the record;
// with rules, the number of the rule (stack slot ruleSlot) too.
func fillRecord(hook CaptureHook, wakeupBytes uint32, rules bool) asm.Instructions {
	insns := asm.Instructions{
		asm.JEq.Imm(asm.R0, 0, labelDrop).WithSymbol(labelReserved),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.FnKtimeGetNs.Call(),
		asm.StoreMem(asm.R7, recTimestamp, asm.R0, asm.DWord),
		asm.StoreMem(asm.R7, recLength, asm.R8, asm.Word),
		asm.StoreMem(asm.R7, recCaptureLength, asm.R9, asm.Word),
	}
	insns = append(insns, fillMetadata(hook)...)
	if rules {
		insns = append(insns,
			asm.LoadMem(asm.R1, asm.RFP, ruleSlot, asm.Word),
			asm.StoreMem(asm.R7, recRule, asm.R1, asm.Half),
		)
	}
	load := asm.FnSkbLoadBytes
	if hook == HookXDP {
		load = asm.FnXdpLoadBytes
	}
	insns = append(insns,
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, asm.R7),
		asm.Add.Imm(asm.R3, RecordHeaderLen),
		asm.Mov.Reg(asm.R4, asm.R9),
		load.Call(),
		asm.JNE.Imm(asm.R0, 0, labelDiscard),
	)
	if wakeupBytes == 0 {
		insns = append(insns, asm.Mov.Imm(asm.R2, 0))
	} else {
		insns = append(insns,
			asm.LoadMapPtr(asm.R1, 0).WithReference(RingMap),
			asm.Mov.Imm(asm.R2, ringAvailData),
			asm.FnRingbufQuery.Call(),
			// Below the mark, the kernel's own rule: wake the reader only
			// if it had read everything (it gave the ring back to sleep).
			asm.Mov.Imm(asm.R2, 0),
			asm.JLT.Imm(asm.R0, int32(wakeupBytes), labelSubmit),
			asm.Mov.Imm(asm.R2, ringForceWakeup),
		)
	}
	return append(insns,
		asm.Mov.Reg(asm.R1, asm.R7).WithSymbol(labelSubmit),
		asm.FnRingbufSubmit.Call(),
		asm.Mov.Imm(asm.R7, CounterSubmitted*8),
		asm.Ja.Label(labelCount),
	)
}

// fillMetadata writes the interface, the packet type and, at tcx, the
// VLAN tag the kernel took out of the packet.
func fillMetadata(hook CaptureHook) asm.Instructions {
	if hook == HookXDP {
		return asm.Instructions{
			asm.LoadMem(asm.R1, asm.R6, xdpIngressIfindex, asm.Word),
			asm.StoreMem(asm.R7, recIfindex, asm.R1, asm.Word),
			asm.StoreImm(asm.R7, recVLANTCI, 0, asm.Word), // TCI and protocol
			asm.StoreImm(asm.R7, recPacketType, PacketTypeUnknown, asm.Byte),
			asm.StoreImm(asm.R7, recFlags, 0, asm.Byte),
			asm.StoreImm(asm.R7, recFlags+1, 0, asm.Half),
			asm.StoreImm(asm.R7, recFlags+3, 0, asm.Word),
		}
	}
	insns := asm.Instructions{
		asm.LoadMem(asm.R1, asm.R6, skbIfindex, asm.Word),
		asm.StoreMem(asm.R7, recIfindex, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, skbVLANTCI, asm.Word),
		asm.StoreMem(asm.R7, recVLANTCI, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, asm.R6, skbVLANProto, asm.Word),
		asm.StoreMem(asm.R7, recVLANProto, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, asm.R6, skbVLANPresent, asm.Word),
		asm.StoreMem(asm.R7, recFlags, asm.R1, asm.Byte),
		asm.StoreImm(asm.R7, recFlags+1, 0, asm.Half),
		asm.StoreImm(asm.R7, recFlags+3, 0, asm.Word),
	}
	if hook == HookTCXEgress {
		return append(insns, asm.StoreImm(asm.R7, recPacketType, packetOutgoing, asm.Byte))
	}
	return append(insns,
		asm.LoadMem(asm.R1, asm.R6, skbPktType, asm.Word),
		asm.StoreMem(asm.R7, recPacketType, asm.R1, asm.Byte),
	)
}

// epilogue discards a record the copy failed for, counts drops and
// submissions in CountersMap (slot offset in R7) and lets the packet go
// on; with rules, it drops it when the rule says so (stack slot
// dropSlot).
func epilogue(hook CaptureHook, rules bool) asm.Instructions {
	ret := int32(xdpPass)
	if hook != HookXDP {
		ret = tcxNext
	}
	exit := asm.Instructions{asm.Mov.Imm(asm.R0, ret).WithSymbol(labelExit), asm.Return()}
	if rules {
		exit = asm.Instructions{
			asm.Mov.Imm(asm.R0, ret).WithSymbol(labelExit),
			asm.LoadMem(asm.R1, asm.RFP, dropSlot, asm.Word),
			asm.JEq.Imm(asm.R1, 0, labelReturn),
			asm.Mov.Imm(asm.R0, xdpDrop),
			asm.Return().WithSymbol(labelReturn),
		}
	}
	return append(asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.R7).WithSymbol(labelDiscard),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRingbufDiscard.Call(),
		asm.Mov.Imm(asm.R7, CounterDropped*8).WithSymbol(labelDrop),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word).WithSymbol(labelCount),
		asm.LoadMapPtr(asm.R1, 0).WithReference(CountersMap),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, labelExit),
		asm.Add.Reg(asm.R0, asm.R7),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
	}, exit...)
}

// DefaultRingBytes is the ring buffer size when none is asked for:
// tcpdump's default buffer. A larger ring costs about a millisecond more
// to set up per doubling (the kernel zeroes its pages) and is asked for
// with -B.
const DefaultRingBytes = 2 << 20

// RingBytes is the size of a capture's ring buffer: want bytes (0 for
// DefaultRingBytes) rounded up to a power of two, as the kernel requires,
// and room for at least four of the largest records.
func RingBytes(want int, snaplen uint32, pageSize int) uint32 {
	if want <= 0 {
		want = DefaultRingBytes
	}
	caps := RecordCapacities(snaplen)
	need := max(want, 4*(8+RecordHeaderLen+int(caps[len(caps)-1])), pageSize)
	size := 1
	for size < need {
		size <<= 1
	}
	return uint32(size)
}

// Target is the lowering target of a hook's filter.
func (h CaptureHook) Target() Target {
	if h == HookXDP {
		return TargetXDP
	}
	return TargetTCX
}

// SocketFilterProgram is a classic filter as a whole eBPF socket filter
// program, for SO_ATTACH_BPF on a packet socket: the fragment for
// TargetSocketFilter returning its verdict (the bytes to keep).
func SocketFilterProgram(p filter.Program) (asm.Instructions, error) {
	insns, err := Lower(p, TargetSocketFilter)
	if err != nil {
		return nil, err
	}
	return append(insns, asm.Return().WithSymbol(FilterDone)), nil
}
