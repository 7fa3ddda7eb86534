package filter

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand"
	"testing"

	xbpf "golang.org/x/net/bpf"
)

// xbpfComparable reports whether x/net/bpf runs p with our semantics. Its
// VM has no "neg", loads "ldx len" into A, reads ancillary offsets as
// extensions and decodes unknown opcodes loosely (ignoring bits), so
// programs with those are left out.
func xbpfComparable(p Program) bool {
	for _, ins := range p {
		if _, known := vmOps[ins.Op]; !known {
			return false
		}
		switch ins.Op {
		case opNeg, opLdxLen:
			return false
		case opLdW, opLdH, opLdB:
			if ins.K >= ancillaryBase {
				return false
			}
		}
	}
	return true
}

func newXbpfVM(p Program) (*xbpf.VM, error) {
	raw := make([]xbpf.Instruction, len(p))
	for i, ins := range p {
		raw[i] = xbpf.RawInstruction{Op: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}.Disassemble()
		if _, undecoded := raw[i].(xbpf.RawInstruction); undecoded {
			return nil, fmt.Errorf("instruction %d: x/net/bpf cannot decode %+v", i, ins)
		}
	}
	return xbpf.NewVM(raw)
}

// compareWithXbpf runs p on data through Run, the decoded VM and x/net's
// VM; the length on the wire is len(data), the only one x/net knows.
func compareWithXbpf(t *testing.T, p Program, data []byte) {
	t.Helper()
	if bits.UintSize < 64 {
		t.Skip("x/net/bpf computes X+K in int, which overflows on 32-bit platforms")
	}
	xvm, err := newXbpfVM(p)
	if err != nil {
		t.Fatalf("x/net/bpf refuses %v: %v", p, err)
	}
	want, err := xvm.Run(data)
	if err != nil {
		t.Fatalf("x/net/bpf: %v", err)
	}
	if got := Run(p, data, len(data)); got != uint32(want) {
		t.Fatalf("Run = %d, x/net/bpf = %d\npacket % x\n%s", got, want, data, Dump(p, DumpAssembly))
	}
	if vm, err := NewVM(p); err == nil {
		if got := vm.Run(data, len(data)); got != uint32(want) {
			t.Fatalf("VM.Run = %d, x/net/bpf = %d\npacket % x\n%s", got, want, data, Dump(p, DumpAssembly))
		}
	}
}

// randomProgram builds a program x/net/bpf accepts: known opcodes, forward
// jumps inside the program, no constant division by zero, a return last.
// Offsets stay small so loads often land inside the packet.
func randomProgram(rng *rand.Rand, ops []uint16) Program {
	n := 2 + rng.Intn(24)
	p := make(Program, n)
	for i := 0; i < n-1; i++ {
		ins := Instruction{Op: ops[rng.Intn(len(ops))]}
		left := n - i - 1 // instructions after this one
		switch Class(ins.Op) {
		case ClassLd, ClassLdx:
			ins.K = uint32(rng.Intn(72))
			if ins.Op == opLdImm || ins.Op == opLdxImm {
				ins.K = randomValue(rng)
			}
		case ClassSt, ClassStx:
			ins.K = uint32(rng.Intn(MemWords))
		case ClassAlu:
			ins.K = randomValue(rng)
			if (ins.Op == opDivK || ins.Op == opModK) && ins.K == 0 {
				ins.K = 3
			}
			if ins.Op == opLshK || ins.Op == opRshK {
				ins.K = uint32(rng.Intn(40))
			}
		case ClassJmp:
			ins.K = randomValue(rng)
			if ins.Op == opJa {
				ins.K = uint32(rng.Intn(left))
			}
			ins.Jt, ins.Jf = uint8(rng.Intn(min(left, 256))), uint8(rng.Intn(min(left, 256)))
		}
		if ins.Op == opLdMem || ins.Op == opLdxMem {
			ins.K = uint32(rng.Intn(MemWords))
		}
		p[i] = ins
	}
	p[n-1] = Instruction{Op: opRetA}
	if rng.Intn(2) == 0 {
		p[n-1] = ret(randomValue(rng))
	}
	return p
}

// randomValue favours the small numbers packets and shifts care about.
func randomValue(rng *rand.Rand) uint32 {
	switch rng.Intn(4) {
	case 0:
		return uint32(rng.Intn(8))
	case 1:
		return uint32(rng.Intn(256))
	case 2:
		return uint32(rng.Intn(40))
	}
	return rng.Uint32()
}

func randomPacket(rng *rand.Rand) []byte {
	data := make([]byte, rng.Intn(80))
	for i := range data {
		data[i] = byte(rng.Intn(8)) // small bytes make equal compares likely
		if rng.Intn(3) == 0 {
			data[i] = byte(rng.Intn(256))
		}
	}
	return data
}

func comparableOpcodes() []uint16 {
	var ops []uint16
	for _, op := range validOpcodesSorted() {
		if op != opNeg && op != opLdxLen && Class(op) != ClassRet {
			ops = append(ops, op)
		}
	}
	return ops
}

func TestRunMatchesXbpf(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	ops := comparableOpcodes()
	nonzero := 0
	for i := 0; i < 4000; i++ {
		p := randomProgram(rng, ops)
		for j := 0; j < 4; j++ {
			data := randomPacket(rng)
			compareWithXbpf(t, p, data)
			if Run(p, data, len(data)) != 0 {
				nonzero++
			}
		}
	}
	// Most random programs fail a load; enough must run to a return.
	if nonzero < 2000 {
		t.Errorf("only %d of 16000 runs returned non-zero", nonzero)
	}
}

// FuzzRun decodes a program from the input, 8 bytes per instruction as in
// struct sock_filter, followed by the packet, and demands Run, the decoded
// VM and x/net/bpf agree on every program x/net/bpf accepts.
func FuzzRun(f *testing.F) {
	f.Add(byte(2), encodeProgram(benchProgram[:2]), benchPacket())
	f.Add(byte(3), encodeProgram(Program{stmt(opLdxMsh, 0), stmt(opLdIndH, 2), retA}), []byte{0x45, 0, 1, 2, 3, 4})
	f.Add(byte(3), encodeProgram(Program{stmt(opLdLen, 0), stmt(opModX, 0), retA}), []byte{1})
	f.Fuzz(func(t *testing.T, n byte, code, data []byte) {
		p := decodeProgram(code, int(n)%64)
		if len(p) == 0 || !xbpfComparable(p) {
			return
		}
		if _, err := newXbpfVM(p); err != nil {
			return
		}
		compareWithXbpf(t, p, data)
	})
}

func encodeProgram(p Program) []byte {
	b := make([]byte, 8*len(p))
	for i, ins := range p {
		binary.LittleEndian.PutUint16(b[8*i:], ins.Op)
		b[8*i+2], b[8*i+3] = ins.Jt, ins.Jf
		binary.LittleEndian.PutUint32(b[8*i+4:], ins.K)
	}
	return b
}

func decodeProgram(b []byte, n int) Program {
	n = min(n, len(b)/8)
	p := make(Program, n)
	for i := range p {
		p[i] = Instruction{
			Op: binary.LittleEndian.Uint16(b[8*i:]),
			Jt: b[8*i+2], Jf: b[8*i+3],
			K: binary.LittleEndian.Uint32(b[8*i+4:]),
		}
	}
	return p
}
