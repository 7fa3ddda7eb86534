package filter

import (
	"encoding/binary"
	"math/bits"
)

// Full opcodes of the classic BPF instructions the kernel accepts.
const (
	opLdW    = ClassLd | SizeW | ModeAbs
	opLdH    = ClassLd | SizeH | ModeAbs
	opLdB    = ClassLd | SizeB | ModeAbs
	opLdLen  = ClassLd | SizeW | ModeLen
	opLdIndW = ClassLd | SizeW | ModeInd
	opLdIndH = ClassLd | SizeH | ModeInd
	opLdIndB = ClassLd | SizeB | ModeInd
	opLdImm  = ClassLd | ModeImm
	opLdMem  = ClassLd | ModeMem
	opLdxImm = ClassLdx | ModeImm
	opLdxMem = ClassLdx | ModeMem
	opLdxLen = ClassLdx | SizeW | ModeLen
	opLdxMsh = ClassLdx | SizeB | ModeMsh
	opSt     = ClassSt
	opStx    = ClassStx

	opAddK = ClassAlu | AluAdd | SrcK
	opSubK = ClassAlu | AluSub | SrcK
	opMulK = ClassAlu | AluMul | SrcK
	opDivK = ClassAlu | AluDiv | SrcK
	opModK = ClassAlu | AluMod | SrcK
	opAndK = ClassAlu | AluAnd | SrcK
	opOrK  = ClassAlu | AluOr | SrcK
	opXorK = ClassAlu | AluXor | SrcK
	opLshK = ClassAlu | AluLsh | SrcK
	opRshK = ClassAlu | AluRsh | SrcK
	opAddX = ClassAlu | AluAdd | SrcX
	opSubX = ClassAlu | AluSub | SrcX
	opMulX = ClassAlu | AluMul | SrcX
	opDivX = ClassAlu | AluDiv | SrcX
	opModX = ClassAlu | AluMod | SrcX
	opAndX = ClassAlu | AluAnd | SrcX
	opOrX  = ClassAlu | AluOr | SrcX
	opXorX = ClassAlu | AluXor | SrcX
	opLshX = ClassAlu | AluLsh | SrcX
	opRshX = ClassAlu | AluRsh | SrcX
	opNeg  = ClassAlu | AluNeg

	opJa    = ClassJmp | JmpJa
	opJeqK  = ClassJmp | JmpJeq | SrcK
	opJgtK  = ClassJmp | JmpJgt | SrcK
	opJgeK  = ClassJmp | JmpJge | SrcK
	opJsetK = ClassJmp | JmpJset | SrcK
	opJeqX  = ClassJmp | JmpJeq | SrcX
	opJgtX  = ClassJmp | JmpJgt | SrcX
	opJgeX  = ClassJmp | JmpJge | SrcX
	opJsetX = ClassJmp | JmpJset | SrcX

	opRetK = ClassRet | SrcK
	opRetA = ClassRet | SrcA
	opTax  = ClassMisc | MiscTax
	opTxa  = ClassMisc | MiscTxa
)

// maxBackwardJumps bounds the backward jumps one packet may take, so a
// looping program ends. libpcap's "protochain" loop takes one per IPv6
// extension header of at least 8 bytes, far fewer on any real packet.
const maxBackwardJumps = 1 << 16

// Run executes p on a packet with the semantics of libpcap's bpf_filter,
// which tcpdump uses to filter files: data holds the captured bytes,
// wireLen the length on the wire (what "len" loads). It returns the number
// of bytes to keep, 0 to reject.
//
// Registers and scratch memory start at zero. A load reaching past the
// captured bytes rejects, as does division or modulo by zero, an unknown
// opcode, a jump or scratch index out of range, and running off the end of
// the program (so an empty program rejects).
//
// As in libpcap, "ja" takes a signed offset: backward jumps run (tcpdump's
// "protochain" needs them), up to maxBackwardJumps per packet; a jump to
// itself rejects. Shifts by 32 or more yield 0, as in libpcap's bpf_filter
// and Go; the kernel masks the count instead, but it refuses constant
// shifts of 32 or more (see Validate) and libpcap never emits them.
// Ancillary loads (offsets from 0xfffff000, the kernel's SKF_AD_OFF) read
// nothing offline and reject, as in libpcap.
//
// Run allocates nothing; for many packets through one program, NewVM
// decodes it once and runs faster.
func Run(p Program, data []byte, wireLen int) uint32 {
	return run(p, data, wireLen, nil)
}

// run is Run with the sets that lookups name (by index in SetNames); a
// lookup of a set not given rejects the packet.
func run(p Program, data []byte, wireLen int, sets []*Set) uint32 {
	var a, x uint32
	var mem [MemWords]uint32
	var ok bool
	backJumps := 0
	for pc := 0; pc < len(p); pc++ {
		ins := &p[pc]
		k := ins.K
		switch ins.Op {
		case opLdW:
			if a, ok = packet32(data, uint64(k)); !ok {
				return 0
			}
		case opLdH:
			if a, ok = packet16(data, uint64(k)); !ok {
				return 0
			}
		case opLdB:
			if a, ok = packet8(data, uint64(k)); !ok {
				return 0
			}
		case opLdIndW:
			if a, ok = packet32(data, uint64(x)+uint64(k)); !ok {
				return 0
			}
		case opLdIndH:
			if a, ok = packet16(data, uint64(x)+uint64(k)); !ok {
				return 0
			}
		case opLdIndB:
			if a, ok = packet8(data, uint64(x)+uint64(k)); !ok {
				return 0
			}
		case opLdLen:
			a = uint32(wireLen)
		case opLdxLen:
			x = uint32(wireLen)
		case opLdImm:
			a = k
		case opLdxImm:
			x = k
		case opLdxMsh:
			if x, ok = packet8(data, uint64(k)); !ok {
				return 0
			}
			x = (x & 0xf) << 2
		case opLdMem:
			if k >= MemWords {
				return 0
			}
			a = mem[k]
		case opLdxMem:
			if k >= MemWords {
				return 0
			}
			x = mem[k]
		case opSt:
			if k >= MemWords {
				return 0
			}
			mem[k] = a
		case opStx:
			if k >= MemWords {
				return 0
			}
			mem[k] = x

		case opAddK:
			a += k
		case opSubK:
			a -= k
		case opMulK:
			a *= k
		case opDivK:
			if k == 0 {
				return 0
			}
			a /= k
		case opModK:
			if k == 0 {
				return 0
			}
			a %= k
		case opAndK:
			a &= k
		case opOrK:
			a |= k
		case opXorK:
			a ^= k
		case opLshK:
			a <<= k
		case opRshK:
			a >>= k
		case opAddX:
			a += x
		case opSubX:
			a -= x
		case opMulX:
			a *= x
		case opDivX:
			if x == 0 {
				return 0
			}
			a /= x
		case opModX:
			if x == 0 {
				return 0
			}
			a %= x
		case opAndX:
			a &= x
		case opOrX:
			a |= x
		case opXorX:
			a ^= x
		case opLshX:
			a <<= x
		case opRshX:
			a >>= x
		case opNeg:
			a = -a

		case opJa:
			// Signed, as libpcap runs "protochain" loops backwards.
			off := int(int32(k))
			to := pc + 1 + off
			if to < 0 || to >= len(p) || off == -1 {
				return 0
			}
			if off < 0 {
				if backJumps++; backJumps > maxBackwardJumps {
					return 0
				}
			}
			pc = to - 1
		case opJeqK:
			pc += branch(a == k, ins)
		case opJgtK:
			pc += branch(a > k, ins)
		case opJgeK:
			pc += branch(a >= k, ins)
		case opJsetK:
			pc += branch(a&k != 0, ins)
		case opJeqX:
			pc += branch(a == x, ins)
		case opJgtX:
			pc += branch(a > x, ins)
		case opJgeX:
			pc += branch(a >= x, ins)
		case opJsetX:
			pc += branch(a&x != 0, ins)

		case opRetK:
			return k
		case opRetA:
			return a
		case opTax:
			x = a
		case opTxa:
			a = x
		default:
			l, isLookup := ins.AsLookup()
			if !isLookup || l.Set >= len(sets) {
				return 0
			}
			key, inPacket := lookupKey(l, data, x)
			if !inPacket {
				return 0
			}
			pc += branch(sets[l.Set].Contains(l.Kind, key), ins)
		}
	}
	return 0
}

// packet32, packet16 and packet8 read big-endian values at off, which is
// below 1<<33 (X+K), failing past the end of data. On 64-bit platforms off
// fits an int and the compiler-friendly loads apply.
func packet32(data []byte, off uint64) (uint32, bool) {
	if bits.UintSize == 64 {
		return load32(data, int(off))
	}
	if off+4 > uint64(len(data)) {
		return 0, false
	}
	return binary.BigEndian.Uint32(data[off:]), true
}

func packet16(data []byte, off uint64) (uint32, bool) {
	if bits.UintSize == 64 {
		return load16(data, int(off))
	}
	if off+2 > uint64(len(data)) {
		return 0, false
	}
	return uint32(binary.BigEndian.Uint16(data[off:])), true
}

func packet8(data []byte, off uint64) (uint32, bool) {
	if off >= uint64(len(data)) {
		return 0, false
	}
	return uint32(data[off]), true
}

// branch returns the jump offset a conditional instruction takes.
func branch(cond bool, ins *Instruction) int {
	if cond {
		return int(ins.Jt)
	}
	return int(ins.Jf)
}
