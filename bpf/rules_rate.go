package bpf

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// RuleRate is a rule's rate limit, shared by every packet of the rule:
// the generic cell rate algorithm (a token bucket kept as one time, the
// theoretical arrival time, in RateMap, moved with compare-and-exchange).
// Times are in 1/256 of a nanosecond (RateUnitsPerSecond).
type RuleRate struct {
	// Cost is the time one packet (PerByte: one byte) uses up.
	Cost uint64
	// Limit is how far ahead of now the arrival time may run: the burst.
	Limit   uint64
	PerByte bool
	// PerFlow gives each flow (addresses, protocol, ports) its own
	// bucket, in FlowRateMap.
	PerFlow bool
}

// RateUnitsPerSecond is the rules' unit of time: 1/256 of a nanosecond,
// fine enough for byte rates above a gigabyte per second.
const RateUnitsPerSecond = 256 * 1e9

// NewRuleRate is the rate limit of perSecond packets (bytes, if perByte)
// with a burst of burst (a second's worth when 0).
func NewRuleRate(perSecond, burst uint64, perByte, perFlow bool) *RuleRate {
	if burst == 0 {
		burst = perSecond
	}
	cost := uint64(RateUnitsPerSecond) / max(perSecond, 1)
	limit := uint64(1) << 62
	if burst < limit/max(cost, 1) {
		limit = burst * cost
	}
	return &RuleRate{Cost: cost, Limit: limit, PerByte: perByte, PerFlow: perFlow}
}

// RateMap is the rules program's array of arrival times, one per rule.
const RateMap = "weir_rule_rates"

// FlowRateMap holds the arrival times of rules limited per flow: an LRU
// hash keyed by rule and flow (FlowKeyLen bytes), so the least recently
// seen flows make room for new ones.
const FlowRateMap = "weir_flow_rates"

// FlowRateEntries is how many flows FlowRateMap follows at once.
const FlowRateEntries = 65536

// RulesSpec describes a rules program: the capture program with rules
// in order, the first whose filter matches taking the packet.
type RulesSpec struct {
	Hook        CaptureHook
	Snaplen     uint32
	WakeupBytes uint32
	Rules       []RuleSpec
}

// rateLimit lets the packet on to the rule's action when the rule's rate
// allows it; otherwise it counts it and lets it go. Two tries at the
// compare-and-exchange; a packet that loses both to other processors
// passes (an overshoot of a packet, never a loss).
func rateLimit(i int, rate *RuleRate, hook CaptureHook) asm.Instructions {
	allowed, limited := fmt.Sprintf("rule%d_allowed", i), fmt.Sprintf("rule%d_limited", i)
	insns := asm.Instructions{
		asm.FnKtimeGetNs.Call(),
		asm.LSh.Imm(asm.R0, 8),
		asm.StoreMem(asm.RFP, nowSlot, asm.R0, asm.DWord),
	}
	if rate.PerByte {
		if hook == HookXDP {
			insns = append(insns, asm.Mov.Reg(asm.R1, asm.R6), asm.FnXdpGetBuffLen.Call(), asm.Mov.Reg(asm.R1, asm.R0))
		} else {
			insns = append(insns, asm.LoadMem(asm.R1, asm.R6, skbLen, asm.Word))
		}
		insns = append(insns,
			asm.LoadImm(asm.R2, int64(rate.Cost), asm.DWord),
			asm.Mul.Reg(asm.R1, asm.R2),
			asm.StoreMem(asm.RFP, costSlot, asm.R1, asm.DWord),
		)
	}
	if rate.PerFlow {
		insns = append(insns, flowBucket(i, hook, allowed)...)
	} else {
		insns = append(insns,
			asm.StoreImm(asm.RFP, counterKey, int64(i), asm.Word),
			asm.LoadMapPtr(asm.R1, 0).WithReference(RateMap),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, counterKey),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, allowed),
		)
	}
	insns = append(insns, asm.Mov.Reg(asm.R7, asm.R0))
	// cilium/ebpf v0.22 encodes an atomic operation's immediate from
	// Constant, not from the opcode it builds: unset, the exchange would
	// be an atomic add.
	xchg := asm.CmpXchg.Mem(asm.R7, asm.R2, asm.DWord, 0)
	xchg.Constant = int64(asm.CmpXchg >> 8)
	for try := range 2 {
		later := fmt.Sprintf("rule%d_later_%d", i, try)
		cost := asm.LoadImm(asm.R3, int64(rate.Cost), asm.DWord)
		if rate.PerByte {
			cost = asm.LoadMem(asm.R3, asm.RFP, costSlot, asm.DWord)
		}
		insns = append(insns,
			asm.LoadMem(asm.R0, asm.R7, 0, asm.DWord), // the arrival time
			asm.LoadMem(asm.R1, asm.RFP, nowSlot, asm.DWord),
			asm.Mov.Reg(asm.R2, asm.R0),
			asm.JGE.Reg(asm.R2, asm.R1, later),
			asm.Mov.Reg(asm.R2, asm.R1),
			cost.WithSymbol(later),
			asm.Add.Reg(asm.R2, asm.R3), // the next arrival time
			asm.Mov.Reg(asm.R3, asm.R2),
			asm.Sub.Reg(asm.R3, asm.R1),
			asm.LoadImm(asm.R4, int64(rate.Limit), asm.DWord),
			asm.JGT.Reg(asm.R3, asm.R4, limited),
			asm.StoreMem(asm.RFP, seenSlot, asm.R0, asm.DWord),
			xchg,
			asm.LoadMem(asm.R1, asm.RFP, seenSlot, asm.DWord),
			asm.JEq.Reg(asm.R0, asm.R1, allowed),
		)
	}
	insns = append(insns, asm.Ja.Label(allowed))
	count := countRule(i, RuleRateLimited)
	count[0] = count[0].WithSymbol(limited)
	insns = append(insns, count...)
	return append(insns,
		asm.Ja.Label(labelRulesPass),
		asm.Mov.Imm(asm.R0, 0).WithSymbol(allowed),
	)
}

// A flow key, FlowKeyLen bytes at flowKeySlot: u16 rule, u8 IP version
// (0 for other packets), u8 protocol, the source and destination ports
// as in the packet, then the source and destination addresses (16 bytes
// each; IPv4 in the first four). flowScratch holds packet headers read
// to build it.
const (
	FlowKeyLen  = 40
	flowKeySlot = -144
	flowScratch = -104 // 48 bytes
	flowValue   = -152 // the zero arrival time of a new flow
)

// flowBucket builds the packet's flow key and leaves in R0 the flow's
// arrival time in FlowRateMap, made on first sight; to allowed when the
// map has no room.
func flowBucket(i int, hook CaptureHook, allowed string) asm.Instructions {
	l := func(what string) string { return fmt.Sprintf("rule%d_flow_%s", i, what) }
	load := func(off asm.Register, add int32, to int16, n int32) asm.Instructions {
		fn := asm.FnSkbLoadBytes
		if hook == HookXDP {
			fn = asm.FnXdpLoadBytes
		}
		return asm.Instructions{
			asm.Mov.Reg(asm.R2, off),
			asm.Add.Imm(asm.R2, add),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, int32(to)),
			asm.Mov.Imm(asm.R4, n),
			fn.Call(),
			asm.JNE.Imm(asm.R0, 0, l("done")),
		}
	}
	copyWords := func(from, to int16, words int) asm.Instructions {
		var out asm.Instructions
		for w := range words {
			out = append(out,
				asm.LoadMem(asm.R1, asm.RFP, from+int16(4*w), asm.Word),
				asm.StoreMem(asm.RFP, to+int16(4*w), asm.R1, asm.Word))
		}
		return out
	}
	ports := func(proto int16, at int32) asm.Instructions {
		out := asm.Instructions{asm.LoadMem(asm.R1, asm.RFP, flowScratch+proto, asm.Byte)}
		for _, p := range []int32{6, 17, 132} {
			out = append(out, asm.JEq.Imm(asm.R1, p, l(fmt.Sprintf("ports%d", at))))
		}
		out = append(out, asm.Ja.Label(l("done")))
		first := load(asm.R8, at, flowKeySlot+4, 4)
		first[0] = first[0].WithSymbol(l(fmt.Sprintf("ports%d", at)))
		return append(out, first...)
	}
	insns := asm.Instructions{}
	for off := int16(0); off < FlowKeyLen; off += 8 {
		insns = append(insns, storeZero64(flowKeySlot+off))
	}
	insns = append(insns,
		asm.StoreImm(asm.RFP, flowKeySlot, int64(i), asm.Half),
		asm.Mov.Imm(asm.R8, 12),
	)
	insns = append(insns, load(asm.R8, 0, flowScratch, 2)...)
	insns = append(insns,
		asm.Mov.Imm(asm.R8, 14),
		asm.LoadMem(asm.R1, asm.RFP, flowScratch, asm.Half),
		asm.HostTo(asm.BE, asm.R1, asm.Half),
		asm.JEq.Imm(asm.R1, 0x8100, l("vlan")),
		asm.JEq.Imm(asm.R1, 0x88a8, l("vlan")),
		asm.Ja.Label(l("l3")),
	)
	vlan := load(asm.R8, 2, flowScratch, 2)
	vlan[0] = vlan[0].WithSymbol(l("vlan"))
	insns = append(insns, vlan...)
	insns = append(insns,
		asm.Mov.Imm(asm.R8, 18),
		asm.LoadMem(asm.R1, asm.RFP, flowScratch, asm.Half).WithSymbol(l("l3")),
		asm.HostTo(asm.BE, asm.R1, asm.Half),
		asm.JEq.Imm(asm.R1, 0x86dd, l("ip6")),
		asm.JNE.Imm(asm.R1, 0x0800, l("done")),
	)
	// IPv4: addresses, protocol; ports unless a later fragment.
	insns = append(insns, load(asm.R8, 0, flowScratch, 20)...)
	insns = append(insns,
		asm.StoreImm(asm.RFP, flowKeySlot+2, 4, asm.Byte),
		asm.LoadMem(asm.R1, asm.RFP, flowScratch+9, asm.Byte),
		asm.StoreMem(asm.RFP, flowKeySlot+3, asm.R1, asm.Byte),
	)
	insns = append(insns, copyWords(flowScratch+12, flowKeySlot+8, 1)...)
	insns = append(insns, copyWords(flowScratch+16, flowKeySlot+24, 1)...)
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.RFP, flowScratch+6, asm.Half),
		asm.HostTo(asm.BE, asm.R1, asm.Half),
		asm.JSet.Imm(asm.R1, 0x1fff, l("done")),
		asm.LoadMem(asm.R1, asm.RFP, flowScratch, asm.Byte),
		asm.And.Imm(asm.R1, 0xf),
		asm.LSh.Imm(asm.R1, 2),
		asm.Add.Reg(asm.R8, asm.R1),
	)
	insns = append(insns, ports(9, 0)...)
	insns = append(insns, asm.Ja.Label(l("done")))
	// IPv6: addresses, next header, ports after the fixed header.
	ip6 := load(asm.R8, 0, flowScratch, 40)
	ip6[0] = ip6[0].WithSymbol(l("ip6"))
	insns = append(insns, ip6...)
	insns = append(insns,
		asm.StoreImm(asm.RFP, flowKeySlot+2, 6, asm.Byte),
		asm.LoadMem(asm.R1, asm.RFP, flowScratch+6, asm.Byte),
		asm.StoreMem(asm.RFP, flowKeySlot+3, asm.R1, asm.Byte),
	)
	insns = append(insns, copyWords(flowScratch+8, flowKeySlot+8, 8)...)
	insns = append(insns, ports(6, 40)...)
	// The flow's bucket, made with arrival time 0 on first sight.
	return append(insns,
		asm.LoadMapPtr(asm.R1, 0).WithReference(FlowRateMap).WithSymbol(l("done")),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, flowKeySlot),
		asm.FnMapLookupElem.Call(),
		asm.JNE.Imm(asm.R0, 0, l("have")),
		storeZero64(flowValue),
		asm.LoadMapPtr(asm.R1, 0).WithReference(FlowRateMap),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, flowKeySlot),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, flowValue),
		asm.Mov.Imm(asm.R4, 1), // BPF_NOEXIST: another processor may have made it
		asm.FnMapUpdateElem.Call(),
		asm.LoadMapPtr(asm.R1, 0).WithReference(FlowRateMap),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, flowKeySlot),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, allowed),
		asm.Mov.Reg(asm.R0, asm.R0).WithSymbol(l("have")),
	)
}

// storeZero64 zeroes 8 stack bytes (asm.StoreImm refuses DWord; the
// kernel takes it, the immediate sign-extended).
func storeZero64(off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.RFP, Offset: off}
}
