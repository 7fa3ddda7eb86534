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
