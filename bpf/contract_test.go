package bpf

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// helpersAllowed are the helpers a fragment may call on each target: none
// the program type lacks.
var helpersAllowed = map[Target][]asm.BuiltinFunc{
	TargetSocketFilter: {asm.FnSkbLoadBytes, asm.FnGetSmpProcessorId, asm.FnGetPrandomU32},
	TargetXDP:          {asm.FnXdpGetBuffLen, asm.FnGetSmpProcessorId, asm.FnGetPrandomU32},
	TargetTCX:          {asm.FnSkbLoadBytes, asm.FnGetSmpProcessorId, asm.FnGetPrandomU32},
}

// contextReadable are the context offsets a fragment may read: no direct
// packet access for the socket filter (the kernel forbids it there).
var contextReadable = map[Target]map[int16]bool{
	TargetSocketFilter: {0: true, 4: true, 8: true, 12: true, 16: true, 20: true, 24: true, 28: true, 40: true, 68: true},
	TargetXDP:          {xdpData: true, xdpDataEnd: true, xdpIfindex: true},
	TargetTCX:          {0: true, 4: true, 8: true, 12: true, 16: true, 20: true, 24: true, 28: true, 36: true, 40: true, 68: true, skbData: true, skbDataEnd: true},
}

// checkContract checks what Lower promises, instruction by instruction:
// the context moved to R6 first and R6 never written again; registers
// R0-R9 only, R10 only as the stack's base, stack accesses within
// StackBytes; symbols of its own, every jump to one of them or to
// FilterDone; no exit; the last instruction a jump to FilterDone; only
// helpers the target has; context reads at fields the target has; every
// direct packet load right after its data_end check.
func checkContract(frag asm.Instructions, t Target) error {
	if len(frag) == 0 || frag[0].OpCode != asm.Mov.Op(asm.RegSource) || frag[0].Dst != regCtx || frag[0].Src != asm.R1 {
		return fmt.Errorf("does not start with r6 = r1")
	}
	if last := frag[len(frag)-1]; last.OpCode.JumpOp() != asm.Ja || last.Reference() != FilterDone {
		return fmt.Errorf("does not end with a jump to %s", FilterDone)
	}
	symbols := map[string]bool{}
	for _, ins := range frag {
		if sym := ins.Symbol(); sym != "" {
			if !strings.HasPrefix(sym, symbolPrefix) || symbols[sym] {
				return fmt.Errorf("symbol %q: foreign or repeated", sym)
			}
			symbols[sym] = true
		}
	}
	for i, ins := range frag {
		if err := checkInstruction(frag, i, t, symbols); err != nil {
			return fmt.Errorf("instruction %d (%v): %w", i, ins, err)
		}
	}
	return nil
}

func checkInstruction(frag asm.Instructions, i int, t Target, symbols map[string]bool) error {
	ins := frag[i]
	op := ins.OpCode
	if ins.Dst > asm.R10 || ins.Src > asm.R10 {
		return fmt.Errorf("register beyond R10")
	}
	writes := op.Class().IsALU() || op.Class() == asm.LdXClass || op.IsDWordLoad()
	if writes && (ins.Dst == asm.R10 || (ins.Dst == regCtx && i > 0)) {
		return fmt.Errorf("writes %v", ins.Dst)
	}
	if op.Class().IsALU() && op.Source() == asm.RegSource && ins.Src == asm.R10 && !(op.ALUOp() == asm.Mov && ins.Dst == asm.R3) {
		return fmt.Errorf("computes with r10 other than the helper's buffer address")
	}
	switch cls := op.Class(); {
	case cls.IsJump():
		switch op.JumpOp() {
		case asm.Exit:
			return fmt.Errorf("exits: a fragment ends at %s", FilterDone)
		case asm.Call:
			for _, fn := range helpersAllowed[t] {
				if asm.BuiltinFunc(ins.Constant) == fn {
					return nil
				}
			}
			return fmt.Errorf("calls %v, not a %v helper here", asm.BuiltinFunc(ins.Constant), t)
		}
		if ref := ins.Reference(); ref != FilterDone && !symbols[ref] {
			return fmt.Errorf("jumps to %q, which is not defined", ref)
		}
	case cls == asm.LdXClass, cls == asm.StXClass, cls == asm.StClass:
		base, size := ins.Src, op.Size().Sizeof()
		if cls != asm.LdXClass {
			base = ins.Dst
		}
		switch base {
		case asm.R10:
			if ins.Offset < -StackBytes || int(ins.Offset)+size > 0 {
				return fmt.Errorf("stack access at %d, outside the %d bytes", ins.Offset, StackBytes)
			}
		case regCtx:
			if cls != asm.LdXClass || !contextReadable[t][ins.Offset] {
				return fmt.Errorf("context access at %d", ins.Offset)
			}
		case asm.R1:
			prev := frag[i-1]
			if t == TargetSocketFilter || cls != asm.LdXClass || ins.Offset != 0 ||
				prev.OpCode.JumpOp() != asm.JGT || prev.Dst != asm.R3 || prev.Src != asm.R2 {
				return fmt.Errorf("packet access without the data_end check before it")
			}
		default:
			return fmt.Errorf("memory access through %v", base)
		}
	}
	return nil
}
