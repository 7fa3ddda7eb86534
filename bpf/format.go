package bpf

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// Format renders instructions readably, one per line in the kernel
// verifier's C-like syntax ("w7 = *(u16 *)(r1 +0)"), numbered by offset,
// with symbols as "name:" lines, jump targets by name and the classic
// instruction each group comes from as a "; " comment line.
func Format(insns asm.Instructions) string {
	var b strings.Builder
	iter := insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		if sym := ins.Symbol(); sym != "" {
			fmt.Fprintf(&b, "%s:\n", sym)
		}
		if src := ins.Source(); src != nil {
			if line := strings.TrimSpace(src.String()); line != "" {
				fmt.Fprintf(&b, "\t; %s\n", line)
			}
		}
		fmt.Fprintf(&b, "\t%4d: %s\n", iter.Offset, formatInstruction(*ins))
	}
	return b.String()
}

// formatInstruction renders one instruction; what it does not know falls
// back to cilium/ebpf's own notation.
func formatInstruction(ins asm.Instruction) string {
	op := ins.OpCode
	switch cls := op.Class(); {
	case cls.IsALU():
		return formatALU(ins)
	case cls.IsJump():
		return formatJump(ins)
	case cls == asm.LdXClass && op.Mode() == asm.MemMode:
		return fmt.Sprintf("%s = *(%s *)(%s %+d)", regName(ins.Dst, false), sizeName(op.Size()), regName(ins.Src, false), ins.Offset)
	case cls == asm.StXClass && op.Mode() == asm.MemMode:
		return fmt.Sprintf("*(%s *)(%s %+d) = %s", sizeName(op.Size()), regName(ins.Dst, false), ins.Offset, regName(ins.Src, false))
	case cls == asm.StClass && op.Mode() == asm.MemMode:
		return fmt.Sprintf("*(%s *)(%s %+d) = %d", sizeName(op.Size()), regName(ins.Dst, false), ins.Offset, ins.Constant)
	case op.IsDWordLoad() && !ins.IsLoadFromMap():
		return fmt.Sprintf("%s = %#x ll", regName(ins.Dst, false), uint64(ins.Constant))
	}
	return fmt.Sprintf("%v", ins)
}

var aluSymbols = map[asm.ALUOp]string{
	asm.Add: "+=", asm.Sub: "-=", asm.Mul: "*=", asm.Div: "/=", asm.Mod: "%=",
	asm.Or: "|=", asm.And: "&=", asm.Xor: "^=", asm.LSh: "<<=", asm.RSh: ">>=",
	asm.ArSh: "s>>=", asm.Mov: "=",
}

func formatALU(ins asm.Instruction) string {
	op := ins.OpCode
	dst := regName(ins.Dst, op.Class() == asm.ALUClass)
	switch op.ALUOp() {
	case asm.Swap:
		if op.Endianness() == asm.BE {
			return fmt.Sprintf("%s = be%d %[1]s", regName(ins.Dst, false), ins.Constant)
		}
		return fmt.Sprintf("%s = le%d %[1]s", regName(ins.Dst, false), ins.Constant)
	case asm.Neg:
		return fmt.Sprintf("%s = -%s", dst, dst)
	}
	sym, ok := aluSymbols[op.ALUOp()]
	if !ok {
		return fmt.Sprintf("%v", ins)
	}
	if op.Source() == asm.RegSource {
		return fmt.Sprintf("%s %s %s", dst, sym, regName(ins.Src, op.Class() == asm.ALUClass))
	}
	return fmt.Sprintf("%s %s %s", dst, sym, constant(ins.Constant, op.Class() == asm.ALUClass))
}

var jumpSymbols = map[asm.JumpOp]string{
	asm.JEq: "==", asm.JNE: "!=", asm.JGT: ">", asm.JGE: ">=", asm.JLT: "<",
	asm.JLE: "<=", asm.JSet: "&", asm.JSGT: "s>", asm.JSGE: "s>=",
	asm.JSLT: "s<", asm.JSLE: "s<=",
}

func formatJump(ins asm.Instruction) string {
	op := ins.OpCode
	target := ins.Reference()
	if target == "" {
		target = fmt.Sprintf("%+d", ins.Offset)
	}
	narrow := op.Class() == asm.Jump32Class
	switch jop := op.JumpOp(); jop {
	case asm.Ja:
		return "goto " + target
	case asm.Exit:
		return "exit"
	case asm.Call:
		if ins.IsBuiltinCall() {
			return "call " + helperName(asm.BuiltinFunc(ins.Constant))
		}
		return fmt.Sprintf("%v", ins)
	default:
		sym, ok := jumpSymbols[jop]
		if !ok {
			return fmt.Sprintf("%v", ins)
		}
		right := constant(ins.Constant, narrow)
		if op.Source() == asm.RegSource {
			right = regName(ins.Src, narrow)
		}
		return fmt.Sprintf("if %s %s %s goto %s", regName(ins.Dst, narrow), sym, right, target)
	}
}

// regName is "rN", or "wN" for a 32-bit operand.
func regName(r asm.Register, narrow bool) string {
	if narrow {
		return fmt.Sprintf("w%d", uint8(r))
	}
	return fmt.Sprintf("r%d", uint8(r))
}

// constant shows a 32-bit operation's immediate as unsigned hex, a 64-bit
// one's as signed decimal (it is sign-extended).
func constant(c int64, narrow bool) string {
	if narrow {
		return fmt.Sprintf("%#x", uint32(c))
	}
	return fmt.Sprint(c)
}

func sizeName(s asm.Size) string {
	switch s {
	case asm.Byte:
		return "u8"
	case asm.Half:
		return "u16"
	case asm.Word:
		return "u32"
	}
	return "u64"
}

// helperName is a helper's C name: FnSkbLoadBytes is bpf_skb_load_bytes.
func helperName(fn asm.BuiltinFunc) string {
	name, ok := strings.CutPrefix(fn.String(), "Fn")
	if !ok {
		return fn.String()
	}
	var b strings.Builder
	b.WriteString("bpf")
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			b.WriteByte('_')
			c += 'a' - 'A'
		} else if i == 0 {
			b.WriteByte('_')
		}
		b.WriteRune(c)
	}
	return b.String()
}
