package bpf

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/filter"
)

// Target is the kind of eBPF program a fragment is lowered for.
type Target int

const (
	// TargetSocketFilter is an AF_PACKET socket's program (SO_ATTACH_BPF):
	// the packet from the MAC header, read with bpf_skb_load_bytes;
	// ancillary data from __sk_buff.
	TargetSocketFilter Target = iota
	// TargetXDP is an XDP program (xdp_md): direct packet access between
	// data and data_end; no ancillary data but the ingress ifindex.
	TargetXDP
	// TargetTCX is a tcx ingress or egress program (__sk_buff): direct
	// packet access to the linear part, bpf_skb_load_bytes past it;
	// ancillary data from __sk_buff.
	TargetTCX
)

func (t Target) String() string {
	switch t {
	case TargetSocketFilter:
		return "socket filter"
	case TargetXDP:
		return "XDP"
	case TargetTCX:
		return "tcx"
	}
	return fmt.Sprintf("Target(%d)", int(t))
}

// FilterDone is the symbol a fragment jumps to when it is done, with R0
// holding the verdict. The caller places it after the fragment.
const FilterDone = "filter_done"

// StackBytes is the stack a fragment uses: the bytes from R10-StackBytes
// up to R10-1.
const StackBytes = 96

// MaxBackwardJumps bounds the backward jumps a fragment takes on one
// packet ("protochain" takes one per extension header): the next one
// gives verdict 0, so the verifier can prove the loop ends.
const MaxBackwardJumps = 32

// Registers of the classic machine and of the lowering. R0-R5 are
// scratch: every helper call clobbers them.
const (
	regCtx   = asm.R6 // the context, for helpers and field loads
	regA     = asm.R7 // the accumulator A, 32-bit
	regX     = asm.R8 // the index register X, 32-bit
	regLoops = asm.R9 // backward jumps left
)

// Stack layout, as offsets from R10: the 16 scratch words M[0..15], an
// 8-byte buffer bpf_skb_load_bytes copies packet bytes into, and the key
// of a set lookup (an LPM trie's is the prefix length, then the address).
const (
	memOffset    = -64 // M[k] at memOffset + 4k
	bufferOffset = -72
	keyOffset    = -96 // 24 bytes
)

// symbolPrefix starts every symbol a fragment defines, so a caller's own
// symbols do not collide with them.
const symbolPrefix = "weir_filter_"

// rejectSymbol is the fragment's last block: verdict 0.
const rejectSymbol = symbolPrefix + "reject"

// Lower translates the classic program p into an eBPF fragment for t, with
// the verdicts of filter.Run (the packet's bytes are its captured bytes,
// and "len" is their number: the kernel's skb length).
//
// On entry R1 holds the context; the fragment moves it to R6 and leaves it
// there. It ends by jumping to FilterDone with R0 = the classic verdict as
// a u32 (bytes to keep, 0 = no match); the caller places the FilterDone
// label after it. It uses R0-R9 and the StackBytes bytes below R10, and
// defines symbols starting with "weir_filter_".
//
// As filter.Run: A, X and M[] start at 0; a load past the packet, a
// division or modulo by zero, an out-of-range scratch index or running off
// the end give verdict 0; a shift by 32 or more gives 0 (libpcap's
// behaviour; the kernel's classic BPF masks the count). Backward jumps
// ("protochain") run at most MaxBackwardJumps times per packet, then the
// verdict is 0. Ancillary loads (offsets SKF_AD_OFF + n: packet type,
// VLAN tag, ifindex...) read the kernel's metadata where the target has it
// and are an error where it does not (XDP has only the ifindex); at tcx
// egress the packet type is PACKET_OUTGOING, as AF_PACKET reports it.
// Other absolute offsets of 0x80000000 and more are past any packet.
func Lower(p filter.Program, t Target) (asm.Instructions, error) {
	if t < TargetSocketFilter || t > TargetTCX {
		return nil, fmt.Errorf("bpf: unknown target %d", int(t))
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("bpf: empty program")
	}
	l := &lowerer{prog: p, target: t, labels: make([]bool, len(p)+1)}
	if err := l.scan(); err != nil {
		return nil, err
	}
	l.prologue()
	for i := range p {
		l.index = i
		if l.labels[i] {
			l.label(insnSymbol(i))
		}
		l.comment = filter.Image(p[i], i)
		if err := l.lowerInstruction(p[i]); err != nil {
			return nil, err
		}
	}
	l.index = len(p)
	if l.labels[len(p)] {
		l.label(insnSymbol(len(p)))
	}
	l.label(rejectSymbol)
	l.comment = "verdict 0"
	l.emit(asm.Mov.Imm32(asm.R0, 0), asm.Ja.Label(FilterDone))
	out, err := withoutDeadCode(l.out)
	if err != nil {
		return nil, err
	}
	if err := checkJumpRange(out); err != nil {
		return nil, err
	}
	return withoutUnusedSymbols(out), nil
}

// lowerer holds the state of one translation.
type lowerer struct {
	prog   filter.Program
	target Target
	out    asm.Instructions
	labels []bool // labels[i]: some jump lands on classic instruction i
	loops  bool   // the program jumps backwards

	index   int    // classic instruction being lowered
	pending string // symbol for the next emitted instruction
	comment string // source text for the next emitted instruction
}

func insnSymbol(i int) string { return fmt.Sprintf("%s%d", symbolPrefix, i) }

// localSymbol names a symbol private to the current classic instruction.
func (l *lowerer) localSymbol(what string) string {
	return fmt.Sprintf("%s%d_%s", symbolPrefix, l.index, what)
}

// label names the next emitted instruction. An instruction has one
// symbol: a second label for the same place gets a jump of offset 0.
func (l *lowerer) label(symbol string) {
	if l.pending != "" {
		l.out = append(l.out, asm.Ja.Label(symbol).WithSymbol(l.pending))
	}
	l.pending = symbol
}

// emit appends instructions; the first one carries the pending label and
// the classic instruction's text.
func (l *lowerer) emit(insns ...asm.Instruction) {
	for _, ins := range insns {
		if l.pending != "" {
			ins = ins.WithSymbol(l.pending)
			l.pending = ""
		}
		if l.comment != "" {
			ins = ins.WithSource(asm.Comment(l.comment))
			l.comment = ""
		}
		l.out = append(l.out, ins)
	}
}

// errorf reports a problem with the current classic instruction.
func (l *lowerer) errorf(format string, args ...any) error {
	return fmt.Errorf("bpf: instruction %d (%s): %s", l.index, filter.Image(l.prog[l.index], l.index), fmt.Sprintf(format, args...))
}

// scan checks every opcode and jump, and marks the jump targets.
func (l *lowerer) scan() error {
	for i, ins := range l.prog {
		l.index = i
		if !knownOpcode(ins.Op) {
			return l.errorf("unknown opcode %#x", ins.Op)
		}
		if filter.Class(ins.Op) != filter.ClassJmp {
			continue
		}
		if ins.Op&0xf0 == filter.JmpJa {
			off := int64(int32(ins.K))
			to := int64(i) + 1 + off
			if off == -1 || to < 0 || to >= int64(len(l.prog)) {
				continue // Run rejects: lowered as a jump to verdict 0
			}
			l.labels[to] = true
			if off < 0 {
				l.loops = true
			}
			continue
		}
		for _, off := range [2]uint8{ins.Jt, ins.Jf} {
			to := i + 1 + int(off)
			if to > len(l.prog) {
				return l.errorf("jump to %d, past the end of the program", to)
			}
			l.labels[to] = true
		}
		l.labels[i+1] = true // the next instruction, for inverted tests
	}
	return nil
}

// prologue saves the context and zeroes A, X, the loop budget and the
// scratch words the program loads.
func (l *lowerer) prologue() {
	l.comment = "context, A = 0, X = 0"
	l.emit(
		asm.Mov.Reg(regCtx, asm.R1),
		asm.Mov.Imm32(regA, 0),
		asm.Mov.Imm32(regX, 0),
	)
	if l.loops {
		l.comment = fmt.Sprintf("at most %d backward jumps", MaxBackwardJumps)
		l.emit(asm.Mov.Imm32(regLoops, MaxBackwardJumps))
	}
	var zeroed [filter.MemWords / 2]bool
	for _, ins := range l.prog {
		if (ins.Op == filter.ClassLd|filter.ModeMem || ins.Op == filter.ClassLdx|filter.ModeMem) && ins.K < filter.MemWords {
			zeroed[ins.K/2] = true
		}
	}
	for pair, z := range zeroed {
		if z {
			l.comment = fmt.Sprintf("M[%d] = M[%d] = 0", 2*pair, 2*pair+1)
			// asm.StoreImm refuses DWord; the kernel takes it (imm sign-extended).
			l.emit(asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.R10, Offset: int16(memOffset + 8*pair)})
		}
	}
}

// lowerInstruction appends the eBPF for one classic instruction.
func (l *lowerer) lowerInstruction(ins filter.Instruction) error {
	switch filter.Class(ins.Op) {
	case filter.ClassLd, filter.ClassLdx:
		return l.lowerLoad(ins)
	case filter.ClassSt, filter.ClassStx:
		l.lowerStore(ins)
	case filter.ClassAlu:
		l.lowerALU(ins)
	case filter.ClassJmp:
		if lk, ok := ins.AsLookup(); ok {
			l.lowerLookup(ins, lk)
			return nil
		}
		l.lowerJump(ins)
	case filter.ClassRet:
		if ins.Op&0x18 == filter.SrcA {
			l.emit(asm.Mov.Reg32(asm.R0, regA))
		} else {
			l.emit(asm.Mov.Imm32(asm.R0, int32(ins.K)))
		}
		l.emit(asm.Ja.Label(FilterDone))
	case filter.ClassMisc:
		if ins.Op == filter.ClassMisc|filter.MiscTax {
			l.emit(asm.Mov.Reg32(regX, regA))
		} else {
			l.emit(asm.Mov.Reg32(regA, regX))
		}
	}
	return nil
}

// reject jumps to verdict 0.
func (l *lowerer) reject() { l.emit(asm.Ja.Label(rejectSymbol)) }

// lowerStore is ST and STX: M[k] = A or X.
func (l *lowerer) lowerStore(ins filter.Instruction) {
	if ins.K >= filter.MemWords {
		l.reject()
		return
	}
	src := regA
	if filter.Class(ins.Op) == filter.ClassStx {
		src = regX
	}
	l.emit(asm.StoreMem(asm.R10, memSlot(ins.K), src, asm.Word))
}

func memSlot(k uint32) int16 { return int16(memOffset + 4*int(k)) }

// knownOpcode reports whether op is one of the classic opcodes filter.Run
// executes.
func knownOpcode(op uint16) bool {
	switch filter.Class(op) {
	case filter.ClassLd:
		switch op &^ 0x07 {
		case filter.SizeW | filter.ModeAbs, filter.SizeH | filter.ModeAbs, filter.SizeB | filter.ModeAbs,
			filter.SizeW | filter.ModeInd, filter.SizeH | filter.ModeInd, filter.SizeB | filter.ModeInd,
			filter.SizeW | filter.ModeLen, filter.ModeImm, filter.ModeMem:
			return true
		}
	case filter.ClassLdx:
		switch op &^ 0x07 {
		case filter.ModeImm, filter.ModeMem, filter.SizeW | filter.ModeLen, filter.SizeB | filter.ModeMsh:
			return true
		}
	case filter.ClassSt, filter.ClassStx:
		return op&^0x07 == 0
	case filter.ClassAlu:
		alu, src := op&0xf0, op&0x08
		if op&^0xff != 0 || op&0x07 != filter.ClassAlu {
			return false
		}
		if alu == filter.AluNeg {
			return src == 0
		}
		return alu <= filter.AluXor
	case filter.ClassJmp:
		if _, ok := (filter.Instruction{Op: op}).AsLookup(); ok {
			return true
		}
		jmp := op & 0xf0
		if op&^0xff != 0 {
			return false
		}
		if jmp == filter.JmpJa {
			return op&0x08 == 0
		}
		return jmp <= filter.JmpJset
	case filter.ClassRet:
		return op == filter.ClassRet|filter.SrcK || op == filter.ClassRet|filter.SrcA
	case filter.ClassMisc:
		return op == filter.ClassMisc|filter.MiscTax || op == filter.ClassMisc|filter.MiscTxa
	}
	return false
}
