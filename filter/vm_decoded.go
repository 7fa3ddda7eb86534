package filter

import (
	"encoding/binary"
	"math/bits"
)

// VM is a validated program decoded once for fast repeated runs: opcodes
// become dense numbers the Go compiler dispatches through a jump table,
// jump offsets become absolute targets, and a packet load followed by a
// conditional jump on a constant runs as one step.
type VM struct {
	code []vmInsn // nil when prog is too long to decode or has lookups
	prog Program  // what code was decoded from
	sets []*Set   // the sets lookups name, in SetNames order
}

// maxDecoded is the longest program VM decodes; its targets are uint16.
const maxDecoded = 1<<16 - 1

// vmInsn is one decoded instruction. A fused load-and-branch keeps the
// load's offset in k and the comparison constant in c.
type vmInsn struct {
	op     vmOp
	k      uint32
	c      uint32
	jt, jf uint16 // absolute targets; 16 bytes in all
}

type vmOp uint8

const (
	vmLdW vmOp = iota
	vmLdH
	vmLdB
	vmLdIndW
	vmLdIndH
	vmLdIndB
	vmLdLen
	vmLdxLen
	vmLdImm
	vmLdxImm
	vmLdxMsh
	vmLdMem
	vmLdxMem
	vmSt
	vmStx
	vmAddK
	vmSubK
	vmMulK
	vmDivK
	vmModK
	vmAndK
	vmOrK
	vmXorK
	vmLshK
	vmRshK
	vmAddX
	vmSubX
	vmMulX
	vmDivX
	vmModX
	vmAndX
	vmOrX
	vmXorX
	vmLshX
	vmRshX
	vmNeg
	vmJa
	vmJaBack
	vmJeqK
	vmJgtK
	vmJgeK
	vmJsetK
	vmJeqX
	vmJgtX
	vmJgeX
	vmJsetX
	vmRetK
	vmRetA
	vmTax
	vmTxa
	// Fused: load at k, then branch on a constant c.
	vmLdWJeq
	vmLdWJgt
	vmLdWJge
	vmLdWJset
	vmLdHJeq
	vmLdHJgt
	vmLdHJge
	vmLdHJset
	vmLdBJeq
	vmLdBJgt
	vmLdBJge
	vmLdBJset
)

var vmOps = map[uint16]vmOp{
	opLdW: vmLdW, opLdH: vmLdH, opLdB: vmLdB,
	opLdIndW: vmLdIndW, opLdIndH: vmLdIndH, opLdIndB: vmLdIndB,
	opLdLen: vmLdLen, opLdxLen: vmLdxLen, opLdImm: vmLdImm, opLdxImm: vmLdxImm,
	opLdxMsh: vmLdxMsh, opLdMem: vmLdMem, opLdxMem: vmLdxMem, opSt: vmSt, opStx: vmStx,
	opAddK: vmAddK, opSubK: vmSubK, opMulK: vmMulK, opDivK: vmDivK, opModK: vmModK,
	opAndK: vmAndK, opOrK: vmOrK, opXorK: vmXorK, opLshK: vmLshK, opRshK: vmRshK,
	opAddX: vmAddX, opSubX: vmSubX, opMulX: vmMulX, opDivX: vmDivX, opModX: vmModX,
	opAndX: vmAndX, opOrX: vmOrX, opXorX: vmXorX, opLshX: vmLshX, opRshX: vmRshX,
	opNeg: vmNeg, opJa: vmJa,
	opJeqK: vmJeqK, opJgtK: vmJgtK, opJgeK: vmJgeK, opJsetK: vmJsetK,
	opJeqX: vmJeqX, opJgtX: vmJgtX, opJgeX: vmJgeX, opJsetX: vmJsetX,
	opRetK: vmRetK, opRetA: vmRetA, opTax: vmTax, opTxa: vmTxa,
}

// fusedOps maps a load's decoded op and the following jump's opcode to the
// fused op.
var fusedOps = map[[2]uint16]vmOp{
	{opLdW, opJeqK}: vmLdWJeq, {opLdW, opJgtK}: vmLdWJgt, {opLdW, opJgeK}: vmLdWJge, {opLdW, opJsetK}: vmLdWJset,
	{opLdH, opJeqK}: vmLdHJeq, {opLdH, opJgtK}: vmLdHJgt, {opLdH, opJgeK}: vmLdHJge, {opLdH, opJsetK}: vmLdHJset,
	{opLdB, opJeqK}: vmLdBJeq, {opLdB, opJgtK}: vmLdBJgt, {opLdB, opJgeK}: vmLdBJge, {opLdB, opJsetK}: vmLdBJset,
}

// NewVM checks p as libpcap's bpf_validate does and decodes it for VM.Run.
// That is Validate without the kernel's own limits: backward jumps
// ("protochain"), programs longer than MaxInstructions, ancillary loads and
// scratch loads before stores are allowed, as tcpdump runs them on files.
func NewVM(p Program) (*VM, error) {
	if err := validate(p, userlandRules); err != nil {
		return nil, err
	}
	vm := &VM{prog: append(Program(nil), p...)}
	if len(p) > maxDecoded {
		return vm, nil // runs through Run
	}
	vm.code = decode(p)
	return vm, nil
}

// NewVMWithSets is NewVM for a program compiled with Config.SetLookups:
// its lookups look into sets, the map the program was compiled with.
func NewVMWithSets(p Program, sets map[string]*Set) (*VM, error) {
	if err := validate(p, userlandRules); err != nil {
		return nil, err
	}
	vm := &VM{prog: append(Program(nil), p...)}
	for _, name := range SetNames(sets) {
		vm.sets = append(vm.sets, sets[name])
	}
	for i, ins := range p {
		if l, ok := ins.AsLookup(); ok && l.Set >= len(vm.sets) {
			return nil, programError(i, "lookup in set %d, of %d given", l.Set, len(vm.sets))
		}
	}
	if !p.HasLookups() && len(p) <= maxDecoded {
		vm.code = decode(p)
	}
	return vm, nil
}

// decode translates a checked program.
func decode(p Program) []vmInsn {
	code := make([]vmInsn, len(p))
	for i, ins := range p {
		d := vmInsn{op: vmOps[ins.Op], k: ins.K}
		switch Class(ins.Op) {
		case ClassJmp:
			if ins.Op == opJa {
				d.jt = uint16(i + 1 + int(int32(ins.K)))
				if int32(ins.K) < 0 {
					d.op = vmJaBack
				}
			} else {
				d.jt = uint16(i + 1 + int(ins.Jt))
				d.jf = uint16(i + 1 + int(ins.Jf))
			}
		case ClassLd:
			if i+1 < len(p) {
				next := p[i+1]
				if f, ok := fusedOps[[2]uint16{ins.Op, next.Op}]; ok {
					// The jump keeps its own slot too, for jumps landing on it.
					d = vmInsn{op: f, k: ins.K, c: next.K,
						jt: uint16(i + 2 + int(next.Jt)), jf: uint16(i + 2 + int(next.Jf))}
				}
			}
		}
		code[i] = d
	}
	return code
}

// Run executes the program on a packet with the same semantics as the
// function Run, and returns what it returns.
func (vm *VM) Run(data []byte, wireLen int) uint32 {
	if bits.UintSize < 64 || vm.code == nil {
		// The offset arithmetic below relies on int holding any uint32
		// sum without overflow.
		return run(vm.prog, data, wireLen, vm.sets)
	}
	var a, x uint32
	var mem [MemWords]uint32
	var ok bool
	backJumps := 0
	code := vm.code
	pc := 0
	for {
		ins := &code[pc]
		pc++
		switch ins.op {
		case vmLdW:
			if a, ok = load32(data, int(ins.k)); !ok {
				return 0
			}
		case vmLdH:
			if a, ok = load16(data, int(ins.k)); !ok {
				return 0
			}
		case vmLdB:
			if a, ok = load8(data, int(ins.k)); !ok {
				return 0
			}
		case vmLdIndW:
			if a, ok = load32(data, int(x)+int(ins.k)); !ok {
				return 0
			}
		case vmLdIndH:
			if a, ok = load16(data, int(x)+int(ins.k)); !ok {
				return 0
			}
		case vmLdIndB:
			if a, ok = load8(data, int(x)+int(ins.k)); !ok {
				return 0
			}
		case vmLdLen:
			a = uint32(wireLen)
		case vmLdxLen:
			x = uint32(wireLen)
		case vmLdImm:
			a = ins.k
		case vmLdxImm:
			x = ins.k
		case vmLdxMsh:
			if x, ok = load8(data, int(ins.k)); !ok {
				return 0
			}
			x = (x & 0xf) << 2
		// NewVM keeps scratch indexes below MemWords; the mask spares a
		// bounds check.
		case vmLdMem:
			a = mem[ins.k&(MemWords-1)]
		case vmLdxMem:
			x = mem[ins.k&(MemWords-1)]
		case vmSt:
			mem[ins.k&(MemWords-1)] = a
		case vmStx:
			mem[ins.k&(MemWords-1)] = x

		case vmAddK:
			a += ins.k
		case vmSubK:
			a -= ins.k
		case vmMulK:
			a *= ins.k
		case vmDivK:
			a /= ins.k // NewVM refuses a zero constant
		case vmModK:
			a %= ins.k
		case vmAndK:
			a &= ins.k
		case vmOrK:
			a |= ins.k
		case vmXorK:
			a ^= ins.k
		case vmLshK:
			a <<= ins.k
		case vmRshK:
			a >>= ins.k
		case vmAddX:
			a += x
		case vmSubX:
			a -= x
		case vmMulX:
			a *= x
		case vmDivX:
			if x == 0 {
				return 0
			}
			a /= x
		case vmModX:
			if x == 0 {
				return 0
			}
			a %= x
		case vmAndX:
			a &= x
		case vmOrX:
			a |= x
		case vmXorX:
			a ^= x
		case vmLshX:
			a <<= x
		case vmRshX:
			a >>= x
		case vmNeg:
			a = -a

		case vmJa:
			pc = int(ins.jt)
		case vmJaBack:
			if backJumps++; backJumps > maxBackwardJumps {
				return 0
			}
			pc = int(ins.jt)
		case vmJeqK:
			pc = target(a == ins.k, ins)
		case vmJgtK:
			pc = target(a > ins.k, ins)
		case vmJgeK:
			pc = target(a >= ins.k, ins)
		case vmJsetK:
			pc = target(a&ins.k != 0, ins)
		case vmJeqX:
			pc = target(a == x, ins)
		case vmJgtX:
			pc = target(a > x, ins)
		case vmJgeX:
			pc = target(a >= x, ins)
		case vmJsetX:
			pc = target(a&x != 0, ins)

		case vmRetK:
			return ins.k
		case vmRetA:
			return a
		case vmTax:
			x = a
		case vmTxa:
			a = x

		case vmLdWJeq, vmLdWJgt, vmLdWJge, vmLdWJset:
			if a, ok = load32(data, int(ins.k)); !ok {
				return 0
			}
			pc = fusedTarget(ins, a)
		case vmLdHJeq:
			if a, ok = load16(data, int(ins.k)); !ok {
				return 0
			}
			pc = target(a == ins.c, ins)
		case vmLdHJgt, vmLdHJge, vmLdHJset:
			if a, ok = load16(data, int(ins.k)); !ok {
				return 0
			}
			pc = fusedTarget(ins, a)
		case vmLdBJeq:
			if a, ok = load8(data, int(ins.k)); !ok {
				return 0
			}
			pc = target(a == ins.c, ins)
		case vmLdBJgt, vmLdBJge, vmLdBJset:
			if a, ok = load8(data, int(ins.k)); !ok {
				return 0
			}
			pc = fusedTarget(ins, a)
		default:
			return 0
		}
	}
}

// load32, load16 and load8 read big-endian values at a non-negative
// offset, failing past the end of data. Written so the compiler drops its
// own bounds checks.
func load32(data []byte, off int) (uint32, bool) {
	if len(data) < 4 || off > len(data)-4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(data[off:]), true
}

func load16(data []byte, off int) (uint32, bool) {
	if len(data) < 2 || off > len(data)-2 {
		return 0, false
	}
	return uint32(binary.BigEndian.Uint16(data[off:])), true
}

func load8(data []byte, off int) (uint32, bool) {
	if off >= len(data) {
		return 0, false
	}
	return uint32(data[off]), true
}

// fusedTarget evaluates a fused op's test on the loaded value.
func fusedTarget(ins *vmInsn, a uint32) int {
	var cond bool
	switch (ins.op - vmLdWJeq) % 4 {
	case 0:
		cond = a == ins.c
	case 1:
		cond = a > ins.c
	case 2:
		cond = a >= ins.c
	default:
		cond = a&ins.c != 0
	}
	return target(cond, ins)
}

// target returns where a decoded conditional jump goes.
func target(cond bool, ins *vmInsn) int {
	if cond {
		return int(ins.jt)
	}
	return int(ins.jf)
}
