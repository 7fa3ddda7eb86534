package bpf

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// RuleAction is what a rule of a rules program does with its packets.
type RuleAction int

// Rule actions.
const (
	RuleCapture RuleAction = iota // copy to the ring, let the packet go on
	RuleDrop                      // drop the packet (XDP), copying it first if Capture
	RulePass                      // let the packet go on uncopied
)

// RuleSpec is one rule of a rules program.
type RuleSpec struct {
	// Filter is the rule's filter fragment for the hook (Lower's output;
	// its symbols are renamed per rule).
	Filter asm.Instructions
	// Sample keeps one matching packet in Sample (0 or 1: all); the
	// others are counted and let go.
	Sample  uint32
	Snaplen uint32 // bytes copied, at most the program's Snaplen; 0: that
	Action  RuleAction
	Capture bool // with RuleDrop: copy the packet too
	// Rate, when not nil, limits the packets the rule acts on.
	Rate *RuleRate
}

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

// RuleCountersMap is the rules program's per-CPU array of counters, one
// value of RuleCounterWords words per rule.
const RuleCountersMap = "weir_rule_counters"

// Slots of a rule's counters.
const (
	RuleMatched      = 0 // the filter matched (the rule took the packet)
	RuleSampledOut   = 1 // matched, left out by sampling
	RuleCaptured     = 2 // sent to the ring (kernel drops counted apart)
	RuleDropped      = 3 // dropped on the wire
	RuleRateLimited  = 4 // matched, over the rule's rate
	RuleCounterWords = 5
)

// Stack slots of the rules program, below the filter fragments' use
// while they run (the fragments are done when these are written).
const (
	ruleSlot    = -8  // the rule, from 1, for the record
	dropSlot    = -12 // 1 when the packet is dropped after the copy
	snaplenSlot = -16 // the rule's snap length
	counterKey  = -20 // key of a counters lookup
	nowSlot     = -32 // the time, in rate units
	costSlot    = -40 // a byte rate's cost of the packet
	seenSlot    = -48 // the arrival time a compare-and-exchange expects
)

// Labels of the rules program.
const (
	labelRulesPass    = "rules_pass"
	labelRulesDrop    = "rules_drop"
	labelRulesCapture = "rules_capture"
)

func ruleStart(i int) string { return fmt.Sprintf("rule%d_start", i) }

// RulesProgram builds a rules program: each rule's filter in order; the
// first that matches counts the packet and, after sampling, captures it
// (as CaptureProgram does, with the rule's number in the record and at
// most the rule's snap length), drops it, or lets it go. A packet no rule
// matches goes on uncopied.
func RulesProgram(spec RulesSpec) (asm.Instructions, error) {
	return rulesProgram(spec, false)
}

// RulesSocketFilterProgram is a rules program for an AF_PACKET socket
// (SO_ATTACH_BPF): rules lowered for TargetSocketFilter; a captured
// packet is kept (the program returns min(verdict, the rule's snap
// length)), any other returns 0. The socket has no record to carry the
// rule's number, and nothing can be dropped on the wire there.
func RulesSocketFilterProgram(snaplen uint32, rules []RuleSpec) (asm.Instructions, error) {
	return rulesProgram(RulesSpec{Hook: HookTCXIngress, Snaplen: snaplen, Rules: rules}, true)
}

// rulesProgram builds a rules program around a ring buffer or, for a
// socket, returning the bytes to keep. Socket filters see a socket
// buffer as tcx does (spec.Hook then only says so).
func rulesProgram(spec RulesSpec, socket bool) (asm.Instructions, error) {
	if spec.Snaplen == 0 || spec.Snaplen > MaxCaptureSnaplen {
		return nil, fmt.Errorf("bpf: capture snap length %d is not within 1 to %d", spec.Snaplen, MaxCaptureSnaplen)
	}
	if len(spec.Rules) == 0 || len(spec.Rules) > 0xffff {
		return nil, fmt.Errorf("bpf: a rules program needs 1 to 65535 rules, not %d", len(spec.Rules))
	}
	var insns asm.Instructions
	for i, r := range spec.Rules {
		if len(r.Filter) == 0 {
			return nil, errors.New("bpf: a rule without a filter fragment")
		}
		if r.Action == RuleDrop && spec.Hook != HookXDP {
			return nil, fmt.Errorf("bpf: rule %d drops packets, which only XDP can", i+1)
		}
		next := labelRulesPass
		if i+1 < len(spec.Rules) {
			next = ruleStart(i + 1)
		}
		frag := renameSymbols(r.Filter, fmt.Sprintf("weir_r%d_", i), fmt.Sprintf("rule%d_done", i))
		start := asm.Mov.Reg(asm.R1, asm.R6).WithSymbol(ruleStart(i))
		if i == 0 {
			start = asm.Mov.Reg(asm.R6, asm.R1) // the fragment keeps it in R6 too
		}
		insns = append(insns, start)
		insns = append(insns, frag...)
		insns = append(insns,
			asm.JEq.Imm32(asm.R0, 0, next).WithSymbol(fmt.Sprintf("rule%d_done", i)),
			asm.Mov.Reg32(asm.R9, asm.R0),
		)
		insns = append(insns, ruleAction(i, r, recordLimit(spec.Hook, spec.Snaplen), spec.Hook)...)
	}
	// The verifier refuses unreachable code: the drop exit and the capture
	// tail are there only when some rule goes to them.
	dropsOnly, captures := false, false
	for _, r := range spec.Rules {
		dropsOnly = dropsOnly || r.Action == RuleDrop && !r.Capture
		captures = captures || r.Action == RuleCapture || r.Action == RuleDrop && r.Capture
	}
	if socket {
		return append(insns, socketExits(captures)...), nil
	}
	insns = append(insns, exits(spec.Hook, dropsOnly)...)
	if captures {
		insns = append(insns, ruleCaptureLength(spec.Hook)...)
		insns = append(insns, reserveRecord(recordLimit(spec.Hook, spec.Snaplen))...)
		insns = append(insns, fillRecord(spec.Hook, spec.WakeupBytes, true)...)
		insns = append(insns, epilogue(spec.Hook, true)...)
	}
	return insns, nil
}

// ruleAction counts the match, samples, and does the rule's action; the
// verdict is in R9.
func ruleAction(i int, r RuleSpec, snaplen uint32, hook CaptureHook) asm.Instructions {
	insns := countRule(i, RuleMatched)
	if r.Sample > 1 {
		kept := fmt.Sprintf("rule%d_kept", i)
		insns = append(insns,
			asm.FnGetPrandomU32.Call(),
			asm.Mod.Imm32(asm.R0, int32(r.Sample)),
			asm.JEq.Imm32(asm.R0, 0, kept),
		)
		insns = append(insns, countRule(i, RuleSampledOut)...)
		insns = append(insns, asm.Ja.Label(labelRulesPass))
		insns = append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol(kept))
	}
	if r.Rate != nil {
		insns = append(insns, rateLimit(i, r.Rate, hook)...)
	}
	switch {
	case r.Action == RulePass:
		return append(insns, asm.Ja.Label(labelRulesPass))
	case r.Action == RuleDrop && !r.Capture:
		insns = append(insns, countRule(i, RuleDropped)...)
		return append(insns, asm.Ja.Label(labelRulesDrop))
	}
	insns = append(insns, countRule(i, RuleCaptured)...)
	drop := int64(0)
	if r.Action == RuleDrop {
		insns = append(insns, countRule(i, RuleDropped)...)
		drop = 1
	}
	ruleSnaplen := r.Snaplen
	if ruleSnaplen == 0 || ruleSnaplen > snaplen {
		ruleSnaplen = snaplen
	}
	return append(insns,
		asm.StoreImm(asm.RFP, ruleSlot, int64(i+1), asm.Word),
		asm.StoreImm(asm.RFP, dropSlot, drop, asm.Word),
		asm.StoreImm(asm.RFP, snaplenSlot, int64(ruleSnaplen), asm.Word),
		asm.Ja.Label(labelRulesCapture),
	)
}

// countRule adds one to counter slot of rule i.
func countRule(i, slot int) asm.Instructions {
	skip := fmt.Sprintf("rule%d_counted_%d", i, slot)
	add := asm.StoreXAdd(asm.R0, asm.R1, asm.DWord)
	add.Offset = int16(8 * slot)
	return asm.Instructions{
		asm.StoreImm(asm.RFP, counterKey, int64(i), asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithReference(RuleCountersMap),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, counterKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, skip),
		asm.Mov.Imm(asm.R1, 1),
		add,
		asm.Mov.Imm(asm.R0, 0).WithSymbol(skip),
	}
}

// exits are where rules let a packet go or (drops) drop it without a
// copy.
func exits(hook CaptureHook, drops bool) asm.Instructions {
	pass := int32(xdpPass)
	if hook != HookXDP {
		pass = tcxNext
	}
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R0, pass).WithSymbol(labelRulesPass),
		asm.Return(),
	}
	if drops {
		insns = append(insns, asm.Mov.Imm(asm.R0, xdpDrop).WithSymbol(labelRulesDrop), asm.Return())
	}
	return insns
}

// socketExits end a socket's rules program: 0 keeps nothing; a captured
// packet keeps min(verdict, the rule's snap length) bytes.
func socketExits(captures bool) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R0, 0).WithSymbol(labelRulesPass),
		asm.Return(),
	}
	if captures {
		insns = append(insns,
			asm.Mov.Reg32(asm.R0, asm.R9).WithSymbol(labelRulesCapture),
			asm.LoadMem(asm.R1, asm.RFP, snaplenSlot, asm.Word),
			asm.JLE.Reg32(asm.R0, asm.R1, labelReturn),
			asm.Mov.Reg32(asm.R0, asm.R1),
			asm.Return().WithSymbol(labelReturn),
		)
	}
	return insns
}

// ruleCaptureLength is verdictToLength with the rule's snap length from
// the stack: R9 = min(verdict, packet length, snap length), R8 = packet
// length.
func ruleCaptureLength(hook CaptureHook) asm.Instructions {
	insns := asm.Instructions{asm.Mov.Reg(asm.R1, asm.R6).WithSymbol(labelRulesCapture)}
	if hook == HookXDP {
		insns = append(insns, asm.FnXdpGetBuffLen.Call(), asm.Mov.Reg(asm.R8, asm.R0))
	} else {
		insns = append(insns, asm.LoadMem(asm.R8, asm.R6, skbLen, asm.Word))
	}
	return append(insns,
		asm.JLE.Reg(asm.R9, asm.R8, labelMinLen),
		asm.Mov.Reg(asm.R9, asm.R8),
		asm.LoadMem(asm.R1, asm.RFP, snaplenSlot, asm.Word).WithSymbol(labelMinLen),
		asm.JLE.Reg(asm.R9, asm.R1, labelMinSnap),
		asm.Mov.Reg(asm.R9, asm.R1),
		asm.JLT.Imm(asm.R9, 1, labelExit).WithSymbol(labelMinSnap),
	)
}

// renameSymbols gives a lowered fragment's symbols and the references to
// them (and to FilterDone) names of their own, so that fragments can be
// laid one after the other.
func renameSymbols(frag asm.Instructions, prefix, done string) asm.Instructions {
	out := make(asm.Instructions, len(frag))
	rename := func(s string) string {
		switch {
		case s == FilterDone:
			return done
		case strings.HasPrefix(s, symbolPrefix):
			return prefix + strings.TrimPrefix(s, symbolPrefix)
		}
		return s
	}
	for i, ins := range frag {
		if s := ins.Symbol(); s != "" {
			ins = ins.WithSymbol(rename(s))
		}
		if r := ins.Reference(); r != "" && !ins.IsLoadFromMap() {
			ins = ins.WithReference(rename(r))
		}
		out[i] = ins
	}
	return out
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
