package bpf

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/cilium/ebpf/asm"
)

// interpret runs a fragment on a packet without the kernel, for the pure
// tests: a small eBPF machine for the instructions Lower emits, which
// tracks what each register holds (a number, or a pointer into the stack,
// the packet or the context) and fails on what the verifier would refuse
// to let happen (a packet read without its bounds check, a stack access
// outside the fragment's bytes, an unknown helper). Context fields read 0
// but for the packet's bounds and length.
func interpret(frag asm.Instructions, t Target, packet []byte) (uint32, error) {
	at := map[string]int{}
	for i, ins := range frag {
		if sym := ins.Symbol(); sym != "" {
			at[sym] = i
		}
	}
	m := machine{target: t, packet: packet}
	m.regs[asm.R1] = value{kind: ctxPointer}
	m.regs[asm.R10] = value{kind: stackPointer, n: stackSize}
	for pc, steps := 0, 0; ; steps++ {
		if steps > 1<<22 {
			return 0, fmt.Errorf("no end after %d steps", steps)
		}
		if pc == len(frag) {
			return 0, fmt.Errorf("ran off the fragment's end")
		}
		ins := frag[pc]
		next, err := m.step(ins)
		if err != nil {
			return 0, fmt.Errorf("instruction %d (%v): %w", pc, ins, err)
		}
		switch {
		case !next:
			pc++
		case ins.Reference() == FilterDone:
			return uint32(m.regs[asm.R0].n), nil
		default:
			to, ok := at[ins.Reference()]
			if !ok {
				return 0, fmt.Errorf("instruction %d: jump to undefined %q", pc, ins.Reference())
			}
			pc = to
		}
	}
}

// stackSize is the stack the machine has: the fragment may use StackBytes.
const stackSize = StackBytes

type valueKind int

const (
	scalar valueKind = iota
	ctxPointer
	stackPointer  // n is the offset from the stack's bottom
	packetPointer // n is the offset from data
	packetEnd
)

type value struct {
	kind valueKind
	n    uint64
}

type machine struct {
	target  Target
	packet  []byte
	regs    [11]value
	stack   [stackSize]byte
	checked int64 // packet bytes from data on that a bounds check proved present
}

// step runs one instruction; jump reports whether it jumps.
func (m *machine) step(ins asm.Instruction) (jump bool, err error) {
	op := ins.OpCode
	switch cls := op.Class(); {
	case cls.IsALU():
		return false, m.alu(ins)
	case cls.IsJump():
		return m.jump(ins)
	case cls == asm.LdXClass:
		v, err := m.load(m.regs[ins.Src], int64(ins.Offset), op.Size().Sizeof())
		m.regs[ins.Dst] = v
		return false, err
	case cls == asm.StXClass, cls == asm.StClass:
		v := uint64(ins.Constant)
		if cls == asm.StXClass {
			if m.regs[ins.Src].kind != scalar {
				return false, fmt.Errorf("stores a pointer")
			}
			v = m.regs[ins.Src].n
		}
		return false, m.store(m.regs[ins.Dst], int64(ins.Offset), op.Size().Sizeof(), v)
	case op.IsDWordLoad():
		m.regs[ins.Dst] = value{n: uint64(ins.Constant)}
		return false, nil
	}
	return false, fmt.Errorf("unknown instruction")
}

func (m *machine) alu(ins asm.Instruction) error {
	op := ins.OpCode
	narrow := op.Class() == asm.ALUClass
	dst := &m.regs[ins.Dst]
	src := value{n: uint64(ins.Constant)}
	if op.Source() == asm.RegSource {
		src = m.regs[ins.Src]
	}
	if op.ALUOp() == asm.Swap {
		// to_be on a little-endian host swaps; both truncate to the size.
		v, swap := dst.n, op.Endianness() == asm.BE
		switch ins.Constant {
		case 16:
			v = uint64(uint16(v))
			if swap {
				v = uint64(bits.ReverseBytes16(uint16(v)))
			}
		case 32:
			v = uint64(uint32(v))
			if swap {
				v = uint64(bits.ReverseBytes32(uint32(v)))
			}
		}
		*dst = value{n: v}
		return nil
	}
	if op.ALUOp() == asm.Mov {
		*dst = src
		if narrow {
			if src.kind != scalar {
				return fmt.Errorf("32-bit move of a pointer")
			}
			dst.n = uint64(uint32(src.n))
		}
		return nil
	}
	if dst.kind != scalar || src.kind != scalar {
		// Pointer arithmetic: add or subtract a number, on 64 bits.
		if narrow || src.kind != scalar || (op.ALUOp() != asm.Add && op.ALUOp() != asm.Sub) {
			return fmt.Errorf("arithmetic on pointers")
		}
		if op.ALUOp() == asm.Add {
			dst.n += src.n
		} else {
			dst.n -= src.n
		}
		return nil
	}
	a, b := dst.n, src.n
	if narrow {
		a, b = uint64(uint32(a)), uint64(uint32(b))
	}
	var r uint64
	switch op.ALUOp() {
	case asm.Add:
		r = a + b
	case asm.Sub:
		r = a - b
	case asm.Mul:
		r = a * b
	case asm.Div:
		if b != 0 {
			r = a / b
		}
	case asm.Mod:
		r = a
		if b != 0 {
			r = a % b
		}
	case asm.Or:
		r = a | b
	case asm.And:
		r = a & b
	case asm.Xor:
		r = a ^ b
	case asm.LSh, asm.RSh:
		shift := b & 63
		if narrow {
			shift = b & 31
		}
		if op.ALUOp() == asm.LSh {
			r = a << shift
		} else {
			r = a >> shift
		}
	case asm.Neg:
		r = -a
	default:
		return fmt.Errorf("unknown ALU operation")
	}
	if narrow {
		r = uint64(uint32(r))
	}
	*dst = value{n: r}
	return nil
}

func (m *machine) jump(ins asm.Instruction) (bool, error) {
	op := ins.OpCode
	switch op.JumpOp() {
	case asm.Ja:
		return true, nil
	case asm.Exit:
		return false, fmt.Errorf("exit in a fragment")
	case asm.Call:
		return false, m.call(asm.BuiltinFunc(ins.Constant))
	}
	a, b := m.regs[ins.Dst], value{n: uint64(ins.Constant)}
	if op.Source() == asm.RegSource {
		b = m.regs[ins.Src]
	}
	if a.kind != scalar || b.kind != scalar {
		// Only data + n against data_end: the bounds check.
		if a.kind != packetPointer || b.kind != packetEnd || op.JumpOp() != asm.JGT || op.Class() != asm.JumpClass {
			return false, fmt.Errorf("compares pointers other than data + n > data_end")
		}
		if a.n > uint64(len(m.packet)) {
			return true, nil
		}
		m.checked = max(m.checked, int64(a.n))
		return false, nil
	}
	x, y := a.n, b.n
	if op.Class() == asm.Jump32Class {
		x, y = uint64(uint32(x)), uint64(uint32(y))
	}
	switch op.JumpOp() {
	case asm.JEq:
		return x == y, nil
	case asm.JNE:
		return x != y, nil
	case asm.JGT:
		return x > y, nil
	case asm.JGE:
		return x >= y, nil
	case asm.JLT:
		return x < y, nil
	case asm.JLE:
		return x <= y, nil
	case asm.JSet:
		return x&y != 0, nil
	}
	return false, fmt.Errorf("unknown jump")
}

func (m *machine) call(fn asm.BuiltinFunc) error {
	allowed := false
	for _, f := range helpersAllowed[m.target] {
		allowed = allowed || f == fn
	}
	if !allowed {
		return fmt.Errorf("calls %v", fn)
	}
	switch fn {
	case asm.FnSkbLoadBytes:
		off, to, n := m.regs[asm.R2], m.regs[asm.R3], m.regs[asm.R4]
		if m.regs[asm.R1].kind != ctxPointer || off.kind != scalar || to.kind != stackPointer || n.kind != scalar {
			return fmt.Errorf("bpf_skb_load_bytes with wrong arguments")
		}
		if off.n > 1<<31-1 || off.n+n.n > uint64(len(m.packet)) {
			m.regs[asm.R0] = value{n: ^uint64(13)} // -EFAULT
		} else {
			for i := uint64(0); i < n.n; i++ {
				if err := m.store(to, int64(i), 1, uint64(m.packet[off.n+i])); err != nil {
					return err
				}
			}
			m.regs[asm.R0] = value{}
		}
	case asm.FnXdpGetBuffLen:
		m.regs[asm.R0] = value{n: uint64(len(m.packet))}
	default:
		m.regs[asm.R0] = value{}
	}
	for r := asm.R1; r <= asm.R5; r++ {
		m.regs[r] = value{kind: scalar, n: 0xdeadbeef} // clobbered
	}
	return nil
}

// load reads size bytes at base + off.
func (m *machine) load(base value, off int64, size int) (value, error) {
	switch base.kind {
	case stackPointer:
		at := int64(base.n) + off
		if at < 0 || at+int64(size) > stackSize {
			return value{}, fmt.Errorf("stack read at %d", at-stackSize)
		}
		return value{n: littleEndian(m.stack[at : at+int64(size)])}, nil
	case packetPointer:
		at := int64(base.n) + off
		if at < 0 || at+int64(size) > m.checked {
			return value{}, fmt.Errorf("packet read at %d without its bounds check", at)
		}
		return value{n: littleEndian(m.packet[at : at+int64(size)])}, nil
	case ctxPointer:
		data, dataEnd, length := int64(skbData), int64(skbDataEnd), int64(skbLen)
		if m.target == TargetXDP {
			data, dataEnd, length = xdpData, xdpDataEnd, -1
		}
		switch off {
		case data:
			m.checked = 0
			return value{kind: packetPointer}, nil
		case dataEnd:
			return value{kind: packetEnd, n: uint64(len(m.packet))}, nil
		case length:
			return value{n: uint64(len(m.packet))}, nil
		}
		return value{}, nil
	}
	return value{}, fmt.Errorf("read through a number")
}

func (m *machine) store(base value, off int64, size int, v uint64) error {
	at := int64(base.n) + off
	if base.kind != stackPointer || at < 0 || at+int64(size) > stackSize {
		return fmt.Errorf("store outside the stack's %d bytes", stackSize)
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	copy(m.stack[at:at+int64(size)], b[:size])
	return nil
}

// littleEndian reads memory as an x86 or arm64 host does, so that the
// fragment's byte swaps (to_be) give big-endian values.
func littleEndian(b []byte) uint64 {
	var v [8]byte
	copy(v[:], b)
	return binary.LittleEndian.Uint64(v[:])
}
