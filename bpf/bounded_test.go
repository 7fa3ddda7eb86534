package bpf

import (
	"encoding/binary"

	"github.com/weircap/weir/filter"
)

// boundedRun is filter.Run with Lower's loop bound: it also returns the
// backward jumps taken, and its verdict is 0 from the jump after
// MaxBackwardJumps on. The tests check that it equals filter.Run whenever
// the bound is not reached, and that the kernel's verdicts equal it.
func boundedRun(p filter.Program, data []byte) (verdict uint32, backJumps int) {
	var a, x uint32
	var mem [filter.MemWords]uint32
	load := func(off uint64, size int) (uint32, bool) {
		if off+uint64(size) > uint64(len(data)) {
			return 0, false
		}
		switch size {
		case 4:
			return binary.BigEndian.Uint32(data[off:]), true
		case 2:
			return uint32(binary.BigEndian.Uint16(data[off:])), true
		}
		return uint32(data[off]), true
	}
	for pc := 0; pc < len(p); pc++ {
		ins := p[pc]
		k := ins.K
		switch filter.Class(ins.Op) {
		case filter.ClassLd, filter.ClassLdx:
			var v uint32
			var ok = true
			switch ins.Op & 0xe0 {
			case filter.ModeImm:
				v = k
			case filter.ModeLen:
				v = uint32(len(data))
			case filter.ModeMem:
				if k >= filter.MemWords {
					return 0, backJumps
				}
				v = mem[k]
			case filter.ModeAbs:
				v, ok = load(uint64(k), loadSize(ins.Op))
			case filter.ModeInd:
				v, ok = load(uint64(x)+uint64(k), loadSize(ins.Op))
			case filter.ModeMsh:
				v, ok = load(uint64(k), 1)
				v = (v & 0xf) << 2
			}
			if !ok {
				return 0, backJumps
			}
			if filter.Class(ins.Op) == filter.ClassLd {
				a = v
			} else {
				x = v
			}
		case filter.ClassSt, filter.ClassStx:
			if k >= filter.MemWords {
				return 0, backJumps
			}
			if filter.Class(ins.Op) == filter.ClassSt {
				mem[k] = a
			} else {
				mem[k] = x
			}
		case filter.ClassAlu:
			operand := k
			if ins.Op&filter.SrcX != 0 {
				operand = x
			}
			switch ins.Op & 0xf0 {
			case filter.AluAdd:
				a += operand
			case filter.AluSub:
				a -= operand
			case filter.AluMul:
				a *= operand
			case filter.AluDiv, filter.AluMod:
				if operand == 0 {
					return 0, backJumps
				}
				if ins.Op&0xf0 == filter.AluDiv {
					a /= operand
				} else {
					a %= operand
				}
			case filter.AluOr:
				a |= operand
			case filter.AluAnd:
				a &= operand
			case filter.AluXor:
				a ^= operand
			case filter.AluLsh:
				a = uint32(uint64(a) << min(operand, 32))
			case filter.AluRsh:
				a = uint32(uint64(a) >> min(operand, 32))
			case filter.AluNeg:
				a = -a
			}
		case filter.ClassJmp:
			if ins.Op&0xf0 == filter.JmpJa {
				off := int(int32(k))
				if to := pc + 1 + off; to < 0 || to >= len(p) || off == -1 {
					return 0, backJumps
				}
				if off < 0 {
					if backJumps++; backJumps > MaxBackwardJumps {
						return 0, backJumps
					}
				}
				pc += off
				continue
			}
			operand := k
			if ins.Op&filter.SrcX != 0 {
				operand = x
			}
			var holds bool
			switch ins.Op & 0xf0 {
			case filter.JmpJeq:
				holds = a == operand
			case filter.JmpJgt:
				holds = a > operand
			case filter.JmpJge:
				holds = a >= operand
			case filter.JmpJset:
				holds = a&operand != 0
			}
			if holds {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		case filter.ClassRet:
			if ins.Op&0x18 == filter.SrcA {
				return a, backJumps
			}
			return k, backJumps
		case filter.ClassMisc:
			if ins.Op == filter.ClassMisc|filter.MiscTax {
				x = a
			} else {
				a = x
			}
		}
	}
	return 0, backJumps
}
