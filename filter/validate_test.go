package filter

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// validateCase is a program with Validate's verdict: wantIndex and
// wantErr locate and describe the refusal; wantErr "" means valid. The
// kernel test attaches every case and demands the kernel agrees.
type validateCase struct {
	name      string
	p         Program
	wantIndex int
	wantErr   string
}

func repeat(ins Instruction, n int) Program {
	p := make(Program, n)
	for i := range p {
		p[i] = ins
	}
	return p
}

var validateCases = []validateCase{
	{name: "ret k", p: Program{ret(0)}},
	{name: "ret a", p: Program{retA}},
	{name: "store then load", p: Program{stmt(opLdImm, 1), stmt(opSt, 0), stmt(opLdxMem, 0), stmt(opLdMem, 0), retA}},
	{name: "store on both paths", p: Program{
		jump(opJeqK, 0, 0, 2), stmt(opSt, 4), stmt(opJa, 1), stmt(opStx, 4), stmt(opLdMem, 4), retA}},
	{name: "every opcode", p: everyOpcode()},
	{name: "ancillary protocol load", p: Program{stmt(opLdH, ancillaryBase), retA}},
	{name: "ancillary vlan tpid load", p: Program{stmt(opLdB, ancillaryBase+60), retA}},
	{name: "negative network offset", p: Program{stmt(opLdB, 0xfff00000), retA}},
	{name: "jumps to the last instruction", p: Program{jump(opJeqK, 0, 1, 1), stmt(opJa, 0), ret(1)}},
	{name: "4096 instructions", p: append(repeat(stmt(opLdImm, 1), MaxInstructions-1), ret(1))},
	{name: "unreachable code after return", p: Program{ret(1), stmt(opLdImm, 5), retA}},
	{name: "shift by 31", p: Program{stmt(opLdImm, 1), stmt(opLshK, 31), stmt(opRshK, 31), retA}},

	{name: "empty", p: Program{}, wantIndex: -1, wantErr: "empty program"},
	{name: "4097 instructions", p: append(repeat(stmt(opLdImm, 1), MaxInstructions), ret(1)),
		wantIndex: -1, wantErr: "4097 instructions, more than the kernel's limit of 4096"},
	{name: "ret x", p: Program{stmt(ClassRet|SrcX, 0)}, wantErr: "unknown opcode 0xe"},
	{name: "ld h imm", p: Program{stmt(ClassLd|SizeH|ModeImm, 1), retA}, wantErr: "unknown opcode 0x8"},
	{name: "ldx w abs", p: Program{stmt(ClassLdx|SizeW|ModeAbs, 1), retA}, wantErr: "unknown opcode 0x21"},
	{name: "neg x", p: Program{stmt(opNeg|SrcX, 0), retA}, wantErr: "unknown opcode 0x8c"},
	{name: "ja x", p: Program{stmt(opJa|SrcX, 0), retA}, wantErr: "unknown opcode 0xd"},
	{name: "opcode 0xffff", p: Program{stmt(0xffff, 0), retA}, wantErr: "unknown opcode 0xffff"},
	{name: "jt beyond the end", p: Program{stmt(opLdImm, 0), jump(opJeqK, 0, 1, 0), ret(1)}, wantIndex: 1,
		wantErr: "jump target 3 beyond end of program (3 instructions)"},
	{name: "jf beyond the end", p: Program{jump(opJsetX, 0, 0, 200), ret(1)},
		wantErr: "jump target 201 beyond end of program (2 instructions)"},
	{name: "ja beyond the end", p: Program{stmt(opJa, 1), ret(1)},
		wantErr: "jump target 2 beyond end of program (2 instructions)"},
	{name: "ja far beyond the end", p: Program{stmt(opJa, 0x7fffffff), ret(1)},
		wantErr: "jump target 2147483648 beyond end of program"},
	{name: "backward ja", p: Program{stmt(opLdImm, 0), stmt(opJa, 0xfffffffe), ret(1)}, wantIndex: 1,
		wantErr: "backward jump to instruction 0 (the kernel allows only forward jumps)"},
	{name: "last is not a return", p: Program{ret(0), stmt(opLdImm, 0)}, wantIndex: 1,
		wantErr: "program must end with a return, found opcode 0x0"},
	{name: "conditional jump last", p: Program{ret(0), jump(opJeqK, 0, 0, 0)}, wantIndex: 1,
		wantErr: "jump target 2 beyond end"},
	{name: "div by constant zero", p: Program{stmt(opLdImm, 1), stmt(opDivK, 0), retA}, wantIndex: 1,
		wantErr: "division by constant zero"},
	{name: "mod by constant zero", p: Program{stmt(opModK, 0), retA}, wantErr: "division by constant zero"},
	{name: "lsh by 32", p: Program{stmt(opLshK, 32), retA}, wantErr: "shift by 32, 32 or more"},
	{name: "rsh by 33", p: Program{stmt(opRshK, 33), retA}, wantErr: "shift by 33, 32 or more"},
	{name: "st M[16]", p: Program{stmt(opSt, 16), retA}, wantErr: "scratch memory index 16 out of range (M[0] to M[15])"},
	{name: "stx M[16]", p: Program{stmt(opStx, 16), retA}, wantErr: "scratch memory index 16 out of range"},
	{name: "ld M[16]", p: Program{stmt(opLdMem, 16), retA}, wantErr: "scratch memory index 16 out of range"},
	{name: "ldx M[255]", p: Program{stmt(opLdxMem, 255), retA}, wantErr: "scratch memory index 255 out of range"},
	{name: "unknown ancillary offset", p: Program{stmt(opLdW, ancillaryBase+2), retA},
		wantErr: "unknown ancillary load offset 0xfffff002"},
	{name: "ancillary offset past the last", p: Program{stmt(opLdB, ancillaryBase+64), retA},
		wantErr: "unknown ancillary load offset 0xfffff040"},
	{name: "load before any store", p: Program{stmt(opLdMem, 3), retA}, wantErr: "M[3] loaded before a store on some path"},
	{name: "ldx before any store", p: Program{stmt(opSt, 1), stmt(opLdxMem, 2), retA}, wantIndex: 1,
		wantErr: "M[2] loaded before a store on some path"},
	{name: "store on one path only", p: Program{
		jump(opJeqK, 0, 0, 1), stmt(opSt, 4), stmt(opLdMem, 4), retA}, wantIndex: 2,
		wantErr: "M[4] loaded before a store on some path"},
	{name: "unreachable load before store", p: Program{ret(1), stmt(opLdMem, 0), retA}, wantIndex: 1,
		wantErr: "M[0] loaded before a store on some path"},
	// Every path to instruction 5 stores M[0], but the kernel carries the
	// state of the path that fell into the return at 3 on to 4 and 5.
	{name: "kernel quirk: state kept across a return", p: Program{
		jump(opJeqK, 0, 0, 3), stmt(opSt, 0), jump(opJeqK, 0, 0, 2), ret(0), ret(0), stmt(opLdMem, 0), retA},
		wantIndex: 5, wantErr: "M[0] loaded before a store on some path"},
}

// everyOpcode is a valid program using each opcode the kernel accepts.
func everyOpcode() Program {
	return Program{
		stmt(opLdImm, 1), stmt(opSt, 0), stmt(opLdxImm, 2), stmt(opStx, 1),
		stmt(opLdMem, 0), stmt(opLdxMem, 1), stmt(opLdLen, 0), stmt(opLdxLen, 0),
		stmt(opLdW, 0), stmt(opLdH, 0), stmt(opLdB, 0),
		stmt(opLdIndW, 0), stmt(opLdIndH, 0), stmt(opLdIndB, 0), stmt(opLdxMsh, 0),
		stmt(opAddK, 1), stmt(opSubK, 1), stmt(opMulK, 1), stmt(opDivK, 1), stmt(opModK, 1),
		stmt(opAndK, 1), stmt(opOrK, 1), stmt(opXorK, 1), stmt(opLshK, 1), stmt(opRshK, 1),
		stmt(opAddX, 0), stmt(opSubX, 0), stmt(opMulX, 0), stmt(opDivX, 0), stmt(opModX, 0),
		stmt(opAndX, 0), stmt(opOrX, 0), stmt(opXorX, 0), stmt(opLshX, 0), stmt(opRshX, 0),
		stmt(opNeg, 0), stmt(opTax, 0), stmt(opTxa, 0), stmt(opJa, 0),
		jump(opJeqK, 1, 0, 0), jump(opJgtK, 1, 0, 0), jump(opJgeK, 1, 0, 0), jump(opJsetK, 1, 0, 0),
		jump(opJeqX, 0, 0, 0), jump(opJgtX, 0, 0, 0), jump(opJgeX, 0, 0, 0), jump(opJsetX, 0, 0, 0),
		jump(opJeqK, 0, 1, 0), ret(1), retA,
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range validateCases {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.p)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var pe *ProgramError
			if !errors.As(err, &pe) {
				t.Fatalf("Validate = %v, want a *ProgramError", err)
			}
			if pe.Index != tt.wantIndex || !strings.Contains(pe.Problem, tt.wantErr) {
				t.Errorf("Validate = %q (index %d), want index %d and %q", err, pe.Index, tt.wantIndex, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "filter: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestProgramErrorMessage(t *testing.T) {
	p := append(repeat(stmt(opLdImm, 0), 12), jump(opJeqK, 0, 255, 0))
	p = append(p, repeat(ret(0), 7)...)
	want := "filter: instruction 12: jump target 268 beyond end of program (20 instructions)"
	if err := Validate(p); err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %q", err, want)
	}
}

// TestNewVMRules checks what the VM accepts beyond the kernel: tcpdump's
// own programs run from files ("protochain" loops, long programs).
func TestNewVMRules(t *testing.T) {
	accepted := []Program{
		{stmt(opLdImm, 0), stmt(opJa, 0xfffffffe), ret(1)},
		append(repeat(stmt(opLdImm, 1), MaxInstructions+10), ret(1)),
		{stmt(opLdMem, 3), retA},
		{stmt(opLdW, ancillaryBase+2), retA},
		append(repeat(stmt(opLdImm, 1), maxDecoded+1), ret(7)),
	}
	for i, p := range accepted {
		vm, err := NewVM(p)
		if err != nil {
			t.Errorf("program %d: NewVM = %v", i, err)
			continue
		}
		if got, want := vm.Run([]byte{1}, 1), Run(p, []byte{1}, 1); got != want {
			t.Errorf("program %d: VM.Run = %d, Run = %d", i, got, want)
		}
	}
	refused := []Program{
		{},
		{stmt(opJa, 0xffffffff), ret(1)}, // jump to itself
		{ret(1), stmt(opJa, 0xfffffffd)}, // before the start
		{stmt(opDivK, 0), retA},
		{stmt(opSt, 16), retA},
		{stmt(opLdImm, 0)},
		{stmt(0x0e, 0), retA},
	}
	for i, p := range refused {
		if _, err := NewVM(p); err == nil {
			t.Errorf("refused program %d: NewVM accepted %v", i, p)
		}
	}
}

// validOpcodesSorted lists the opcodes the kernel knows, in a reproducible
// order for random program generators.
func validOpcodesSorted() []uint16 {
	var ops []uint16
	for op := range vmOps {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}
