package bpf

import (
	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/filter"
)

// aluOps maps classic ALU operations to eBPF's, all run on 32 bits.
var aluOps = map[uint16]asm.ALUOp{
	filter.AluAdd: asm.Add, filter.AluSub: asm.Sub, filter.AluMul: asm.Mul,
	filter.AluDiv: asm.Div, filter.AluMod: asm.Mod, filter.AluOr: asm.Or,
	filter.AluAnd: asm.And, filter.AluXor: asm.Xor, filter.AluLsh: asm.LSh,
	filter.AluRsh: asm.RSh,
}

// lowerALU is A op= K or A op= X, on 32 bits. Division and modulo by zero
// give verdict 0 (eBPF would go on with 0 or A); shifts by 32 or more give
// A = 0, as filter.Run and libpcap (eBPF would mask the count).
func (l *lowerer) lowerALU(ins filter.Instruction) {
	op, byX := ins.Op&0xf0, ins.Op&filter.SrcX != 0
	if op == filter.AluNeg {
		l.emit(asm.Neg.Imm32(regA, 0))
		return
	}
	alu := aluOps[op]
	if !byX {
		switch {
		case (op == filter.AluDiv || op == filter.AluMod) && ins.K == 0:
			l.reject()
		case (op == filter.AluLsh || op == filter.AluRsh) && ins.K >= 32:
			l.emit(asm.Mov.Imm32(regA, 0))
		default:
			l.emit(alu.Imm32(regA, int32(ins.K)))
		}
		return
	}
	switch op {
	case filter.AluDiv, filter.AluMod:
		l.emit(asm.JEq.Imm(regX, 0, rejectSymbol), alu.Reg32(regA, regX))
	case filter.AluLsh, filter.AluRsh:
		shift, done := l.localSymbol("shift"), l.localSymbol("shifted")
		l.emit(asm.JLT.Imm(regX, 32, shift), asm.Mov.Imm32(regA, 0), asm.Ja.Label(done))
		l.label(shift)
		l.emit(alu.Reg32(regA, regX))
		l.label(done)
	default:
		l.emit(alu.Reg32(regA, regX))
	}
}

// jumpOps maps classic conditional jumps to eBPF's, and to the opposite
// test where eBPF has one (none for JSET).
var jumpOps = map[uint16][2]asm.JumpOp{
	filter.JmpJeq:  {asm.JEq, asm.JNE},
	filter.JmpJgt:  {asm.JGT, asm.JLE},
	filter.JmpJge:  {asm.JGE, asm.JLT},
	filter.JmpJset: {asm.JSet, asm.InvalidJumpOp},
}

// lowerJump is JA and the conditional jumps, on 32-bit values (JMP32, so
// K keeps its unsigned meaning). A backward JA spends one of the
// MaxBackwardJumps; with none left the verdict is 0.
func (l *lowerer) lowerJump(ins filter.Instruction) {
	i := l.index
	op := ins.Op & 0xf0
	if op == filter.JmpJa {
		off := int64(int32(ins.K))
		to := int64(i) + 1 + off
		switch {
		case off == -1 || to < 0 || to >= int64(len(l.prog)):
			l.reject()
		case off < 0:
			l.emit(
				asm.JEq.Imm(regLoops, 0, rejectSymbol),
				asm.Sub.Imm32(regLoops, 1),
				asm.Ja.Label(insnSymbol(int(to))),
			)
		default:
			l.emit(asm.Ja.Label(insnSymbol(int(to))))
		}
		return
	}
	jt, jf := i+1+int(ins.Jt), i+1+int(ins.Jf)
	ops := jumpOps[op]
	test := func(jop asm.JumpOp, label string) asm.Instruction {
		if ins.Op&filter.SrcX != 0 {
			return jop.Reg32(regA, regX, label)
		}
		return jop.Imm32(regA, int32(ins.K), label)
	}
	switch {
	case jt == jf:
		l.emit(asm.Ja.Label(insnSymbol(jt)))
	case jf == i+1:
		l.emit(test(ops[0], insnSymbol(jt)))
	case jt == i+1 && ops[1] != asm.InvalidJumpOp:
		l.emit(test(ops[1], insnSymbol(jf)))
	default:
		l.emit(test(ops[0], insnSymbol(jt)), asm.Ja.Label(insnSymbol(jf)))
	}
}
