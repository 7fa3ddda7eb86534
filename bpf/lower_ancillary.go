package bpf

import (
	"github.com/cilium/ebpf/asm"
)

// ancillaryFields names the kernel's SKF_AD_* offsets (from SKF_AD_OFF)
// that Lower translates; the kernel's classic BPF reads them whatever the
// load's size.
var ancillaryFields = map[uint32]string{
	0: "proto", 4: "type", 8: "ifidx", 20: "mark", 24: "queue",
	32: "rxhash", 36: "cpu", 40: "xor_x", 44: "vlan_tci", 48: "vlanp",
	56: "random", 60: "vlan_tpid",
	// Not translated (no __sk_buff field): nla, nlan, hatype, poff.
	12: "", 16: "", 28: "", 52: "",
}

// skbAncillary gives the __sk_buff field of an SKF_AD_* offset, and
// whether the field holds a network-order 16-bit value (as the kernel's
// classic BPF, the load returns it in host order).
var skbAncillary = map[uint32]struct {
	offset    int16
	network16 bool
}{
	0:  {16, true},  // protocol
	4:  {4, false},  // pkt_type
	8:  {40, false}, // ifindex: skb->dev->ifindex, as SKF_AD_IFINDEX
	20: {8, false},  // mark
	24: {12, false}, // queue_mapping
	32: {68, false}, // hash
	44: {24, false}, // vlan_tci
	48: {20, false}, // vlan_present
	60: {28, true},  // vlan_proto
}

// loadAncillary reads the kernel metadata an SKF_AD_OFF + n load names,
// as the kernel's classic BPF does on a socket.
func (l *lowerer) loadAncillary(dst asm.Register, n uint32, name string) error {
	if name == "" {
		return l.errorf("ancillary load at SKF_AD_OFF+%d has no eBPF equivalent", n)
	}
	switch n {
	case 36: // cpu
		l.emit(asm.FnGetSmpProcessorId.Call(), asm.Mov.Reg32(dst, asm.R0))
		return nil
	case 40: // A ^ X
		l.emit(asm.Mov.Reg32(dst, regA), asm.Xor.Reg32(dst, regX))
		return nil
	case 56: // random
		l.emit(asm.FnGetPrandomU32.Call(), asm.Mov.Reg32(dst, asm.R0))
		return nil
	}
	if l.target == TargetXDP {
		if n == 8 {
			l.emit(asm.LoadMem(dst, regCtx, xdpIfindex, asm.Word))
			return nil
		}
		return l.errorf("ancillary load of %q (kernel socket metadata: the packet type, VLAN tag... that inbound, outbound and live vlan tests read) is not available at XDP", name)
	}
	if n == 4 && l.target == TargetTCX {
		l.packetTypeAtTCX(dst)
		return nil
	}
	field := skbAncillary[n]
	l.emit(asm.LoadMem(dst, regCtx, field.offset, asm.Word))
	if field.network16 {
		l.emit(asm.HostTo(asm.BE, dst, asm.Half))
	}
	return nil
}

// __sk_buff fields telling tcx's hooks apart.
const (
	skbInputIfindex  = 36 // skb->skb_iif
	skbDeviceIfindex = 40 // skb->dev->ifindex
)

// packetTypeAtTCX is SKF_AD_PKTTYPE as AF_PACKET sees it. At egress the
// socket buffer still has the type it was made with (PACKET_HOST for a
// local one): AF_PACKET's copy says PACKET_OUTGOING. A buffer is at egress
// when it did not arrive on the device it is on: ingress sets skb_iif to
// the receiving device just before tcx runs, a local buffer has 0, a
// forwarded one its input device (one sent back out of the device it came
// in on passes for ingress).
func (l *lowerer) packetTypeAtTCX(dst asm.Register) {
	ingress := l.localSymbol("ingress")
	l.emit(
		asm.LoadMem(dst, regCtx, 4, asm.Word),
		asm.LoadMem(asm.R1, regCtx, skbInputIfindex, asm.Word),
		asm.LoadMem(asm.R2, regCtx, skbDeviceIfindex, asm.Word),
		asm.JEq.Reg(asm.R1, asm.R2, ingress),
		asm.Mov.Imm32(dst, linuxPacketOutgoing),
	)
	l.label(ingress)
}

// linuxPacketOutgoing is Linux's PACKET_OUTGOING.
const linuxPacketOutgoing = 4
