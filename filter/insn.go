package filter

// Instruction is one classic BPF instruction, laid out like the kernel's
// struct sock_filter.
type Instruction struct {
	Op uint16 // class | size/op | mode/source
	Jt uint8  // jump offset when the test holds
	Jf uint8  // jump offset when it does not
	K  uint32 // constant operand
}

// Program is a classic BPF program, ready for SO_ATTACH_FILTER or Run.
type Program []Instruction

// Instruction classes.
const (
	ClassLd   uint16 = 0x00
	ClassLdx  uint16 = 0x01
	ClassSt   uint16 = 0x02
	ClassStx  uint16 = 0x03
	ClassAlu  uint16 = 0x04
	ClassJmp  uint16 = 0x05
	ClassRet  uint16 = 0x06
	ClassMisc uint16 = 0x07
)

// Load sizes.
const (
	SizeW uint16 = 0x00 // 32 bits
	SizeH uint16 = 0x08 // 16 bits
	SizeB uint16 = 0x10 // 8 bits
)

// Addressing modes.
const (
	ModeImm uint16 = 0x00 // K
	ModeAbs uint16 = 0x20 // packet[K]
	ModeInd uint16 = 0x40 // packet[X+K]
	ModeMem uint16 = 0x60 // M[K]
	ModeLen uint16 = 0x80 // packet length
	ModeMsh uint16 = 0xa0 // 4*(packet[K]&0xf)
)

// ALU operations.
const (
	AluAdd uint16 = 0x00
	AluSub uint16 = 0x10
	AluMul uint16 = 0x20
	AluDiv uint16 = 0x30
	AluOr  uint16 = 0x40
	AluAnd uint16 = 0x50
	AluLsh uint16 = 0x60
	AluRsh uint16 = 0x70
	AluNeg uint16 = 0x80
	AluMod uint16 = 0x90
	AluXor uint16 = 0xa0
)

// Jump operations.
const (
	JmpJa   uint16 = 0x00
	JmpJeq  uint16 = 0x10
	JmpJgt  uint16 = 0x20
	JmpJge  uint16 = 0x30
	JmpJset uint16 = 0x40
)

// Operand sources for ALU and jumps, and return values.
const (
	SrcK uint16 = 0x00
	SrcX uint16 = 0x08
	SrcA uint16 = 0x10 // ret A
)

// Misc operations.
const (
	MiscTax uint16 = 0x00
	MiscTxa uint16 = 0x80
)

// MemWords is the number of scratch memory slots M[0..15].
const MemWords = 16

// MaxInstructions is the kernel's limit on a classic BPF program.
const MaxInstructions = 4096

// Class returns the instruction class bits of op.
func Class(op uint16) uint16 { return op & 0x07 }
