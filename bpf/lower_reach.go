package bpf

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// withoutDeadCode drops the instructions no path from the first reaches
// (the verifier refuses unreachable code): classic instructions nothing
// jumps to, what follows a jump to verdict 0, an unused verdict-0 block.
// An unreachable instruction's symbol is never referenced from a reachable
// one, so dropping it with the instruction is safe.
func withoutDeadCode(insns asm.Instructions) (asm.Instructions, error) {
	at := make(map[string]int, len(insns))
	for i, ins := range insns {
		if sym := ins.Symbol(); sym != "" {
			at[sym] = i
		}
	}
	reached := make([]bool, len(insns))
	work := []int{0}
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		if i >= len(insns) || reached[i] {
			continue
		}
		reached[i] = true
		ins := insns[i]
		if !ins.OpCode.Class().IsJump() {
			work = append(work, i+1)
			continue
		}
		jop := ins.OpCode.JumpOp()
		if jop == asm.Exit {
			continue
		}
		if jop == asm.Call {
			work = append(work, i+1)
			continue
		}
		if ref := ins.Reference(); ref != FilterDone {
			to, ok := at[ref]
			if !ok {
				return nil, fmt.Errorf("bpf: internal error: jump to undefined symbol %q", ref)
			}
			work = append(work, to)
		}
		if jop != asm.Ja {
			work = append(work, i+1)
		}
	}
	out := make(asm.Instructions, 0, len(insns))
	for i, ins := range insns {
		if reached[i] {
			out = append(out, ins)
		}
	}
	return out, nil
}

// maxJump is the farthest an eBPF jump reaches: its offset is 16 bits.
const maxJump = 1<<15 - 1

// checkJumpRange refuses a fragment with a jump farther than maxJump
// (counting a jump to FilterDone to the instruction right after the
// fragment), which cilium/ebpf would encode wrapped. Every instruction a
// fragment holds is 8 bytes wide, so indexes are offsets.
func checkJumpRange(insns asm.Instructions) error {
	at := make(map[string]int, len(insns))
	for i, ins := range insns {
		if sym := ins.Symbol(); sym != "" {
			at[sym] = i
		}
	}
	for i, ins := range insns {
		if !ins.OpCode.Class().IsJump() || ins.Reference() == "" {
			continue
		}
		to, ok := at[ins.Reference()]
		if ins.Reference() == FilterDone {
			to, ok = len(insns), true
		}
		if d := to - i - 1; ok && (d > maxJump || d < -maxJump-1) {
			return fmt.Errorf("bpf: the eBPF program needs a jump of %d instructions, more than eBPF's %d: the filter is too large", d, maxJump)
		}
	}
	return nil
}

// withoutUnusedSymbols clears the symbols no jump names, so that a dump
// shows only the labels that matter.
func withoutUnusedSymbols(insns asm.Instructions) asm.Instructions {
	used := map[string]bool{}
	for _, ins := range insns {
		if ref := ins.Reference(); ref != "" {
			used[ref] = true
		}
	}
	for i, ins := range insns {
		if sym := ins.Symbol(); sym != "" && !used[sym] {
			insns[i] = ins.WithSymbol("")
		}
	}
	return insns
}
