package filter

import (
	"fmt"
	"strings"
)

// DumpFormat selects one of tcpdump's program dumps.
type DumpFormat int

// Dump formats, as tcpdump -d, -dd and -ddd.
const (
	DumpAssembly DumpFormat = 1 // -d: "(000) ldh      [12]"
	DumpC        DumpFormat = 2 // -dd: "{ 0x28, 0, 0, 0x0000000c },"
	DumpDecimal  DumpFormat = 3 // -ddd: count line, then "40 0 0 12"
)

// Dump renders p exactly as tcpdump 4.99 (libpcap 1.10's bpf_dump) prints
// it in the given format, one line per instruction, each ending in a
// newline. Like bpf_dump's option count, formats above DumpDecimal dump as
// DumpDecimal and those below DumpC as DumpAssembly.
func Dump(p Program, f DumpFormat) string {
	var b strings.Builder
	switch {
	case f >= DumpDecimal:
		fmt.Fprintf(&b, "%d\n", len(p))
		for _, ins := range p {
			fmt.Fprintf(&b, "%d %d %d %d\n", ins.Op, ins.Jt, ins.Jf, ins.K)
		}
	case f == DumpC:
		for _, ins := range p {
			fmt.Fprintf(&b, "{ 0x%x, %d, %d, 0x%08x },\n", ins.Op, ins.Jt, ins.Jf, ins.K)
		}
	default:
		for i, ins := range p {
			b.WriteString(Image(ins, i))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Image renders one instruction at index i as libpcap's bpf_image does:
// "(000) ldh      [12]", jumps with absolute targets.
func Image(ins Instruction, i int) string {
	op, operand := mnemonic(ins, i)
	if Class(ins.Op) == ClassJmp && ins.Op&0xf0 != JmpJa {
		return fmt.Sprintf("(%03d) %-8s %-16s jt %d\tjf %d", i, op, operand, i+1+int(ins.Jt), i+1+int(ins.Jf))
	}
	return fmt.Sprintf("(%03d) %-8s %s", i, op, operand)
}

// signed renders K as C's "%d" does with the unsigned field.
func signed(k uint32) int32 { return int32(k) }

// mnemonic returns bpf_image's operation and operand texts.
func mnemonic(ins Instruction, i int) (op, operand string) {
	k := ins.K
	switch ins.Op {
	case opRetK:
		return "ret", fmt.Sprintf("#%d", signed(k))
	case opRetA:
		return "ret", ""
	case opLdW:
		return "ld", absOperand(k)
	case opLdH:
		return "ldh", absOperand(k)
	case opLdB:
		return "ldb", absOperand(k)
	case opLdLen:
		return "ld", "#pktlen"
	case opLdIndW:
		return "ld", fmt.Sprintf("[x + %d]", signed(k))
	case opLdIndH:
		return "ldh", fmt.Sprintf("[x + %d]", signed(k))
	case opLdIndB:
		return "ldb", fmt.Sprintf("[x + %d]", signed(k))
	case opLdImm:
		return "ld", fmt.Sprintf("#0x%x", k)
	case opLdxImm:
		return "ldx", fmt.Sprintf("#0x%x", k)
	case opLdxMsh:
		return "ldxb", fmt.Sprintf("4*([%d]&0xf)", signed(k))
	case opLdMem:
		return "ld", fmt.Sprintf("M[%d]", signed(k))
	case opLdxMem:
		return "ldx", fmt.Sprintf("M[%d]", signed(k))
	case opSt:
		return "st", fmt.Sprintf("M[%d]", signed(k))
	case opStx:
		return "stx", fmt.Sprintf("M[%d]", signed(k))
	case opJa:
		// C adds the unsigned K to the int index and prints it with %d.
		return "ja", fmt.Sprintf("%d", int32(uint32(i)+1+k))
	case opNeg:
		return "neg", ""
	case opTax:
		return "tax", ""
	case opTxa:
		return "txa", ""
	}
	if l, ok := ins.AsLookup(); ok {
		at := fmt.Sprintf("[%d]", l.Offset)
		if l.Indexed {
			at = fmt.Sprintf("[x + %d]", l.Offset)
		}
		return "lookup", fmt.Sprintf("%s @%d %s", l.Kind, l.Set, at)
	}
	if name, ok := aluNames[ins.Op&^SrcX]; ok {
		return name, aluOperand(ins)
	}
	if name, ok := jumpNames[ins.Op&^SrcX]; ok {
		if ins.Op&SrcX != 0 {
			return name, "x"
		}
		return name, fmt.Sprintf("#0x%x", k)
	}
	// ldx len is accepted by the kernel but libpcap 1.10 has no name for it.
	return "unimp", fmt.Sprintf("0x%x", ins.Op)
}

var aluNames = map[uint16]string{
	opAddK: "add", opSubK: "sub", opMulK: "mul", opDivK: "div", opModK: "mod",
	opAndK: "and", opOrK: "or", opXorK: "xor", opLshK: "lsh", opRshK: "rsh",
}

var jumpNames = map[uint16]string{
	opJeqK: "jeq", opJgtK: "jgt", opJgeK: "jge", opJsetK: "jset",
}

// aluOperand prints bitwise constants in hex and arithmetic ones signed in
// decimal, as bpf_image.
func aluOperand(ins Instruction) string {
	if ins.Op&SrcX != 0 {
		return "x"
	}
	switch ins.Op {
	case opAndK, opOrK, opXorK:
		return fmt.Sprintf("#0x%x", ins.K)
	}
	return fmt.Sprintf("#%d", signed(ins.K))
}

// absOperand names the kernel's ancillary offsets, as libpcap on Linux.
func absOperand(k uint32) string {
	if k >= ancillaryBase {
		if name, ok := ancillaryNames[k-ancillaryBase]; ok {
			return "[" + name + "]"
		}
	}
	return fmt.Sprintf("[%d]", signed(k))
}
