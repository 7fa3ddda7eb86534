package filter

import "fmt"

// ProgramError is a reason Validate refuses a program.
type ProgramError struct {
	Index   int    // offending instruction, -1 for the program as a whole
	Problem string // what is wrong with it
}

func (e *ProgramError) Error() string {
	if e.Index < 0 {
		return "filter: " + e.Problem
	}
	return fmt.Sprintf("filter: instruction %d: %s", e.Index, e.Problem)
}

func programError(index int, format string, args ...any) *ProgramError {
	return &ProgramError{Index: index, Problem: fmt.Sprintf(format, args...)}
}

// ancillaryBase is the kernel's SKF_AD_OFF: absolute loads from here on
// read socket metadata rather than packet bytes.
const ancillaryBase uint32 = 0xfffff000

// ancillaryNames are the kernel's SKF_AD_* offsets from ancillaryBase (up
// to SKF_AD_VLAN_TPID), named as libpcap's bpf_image prints them.
var ancillaryNames = map[uint32]string{
	0: "proto", 4: "type", 8: "ifidx", 12: "nla", 16: "nlan", 20: "mark",
	24: "queue", 28: "hatype", 32: "rxhash", 36: "cpu", 40: "xor_x",
	44: "vlan_tci", 48: "vlanp", 52: "poff", 56: "random", 60: "vlan_tpid",
}

// Validate checks p as Linux's bpf_check_classic does before
// SO_ATTACH_FILTER accepts it: 1 to MaxInstructions instructions, known
// opcodes only, both targets of every jump inside the program and forward,
// scratch indexes below MemWords, no division or modulo by constant zero,
// no constant shift of 32 or more, only the ancillary loads the kernel
// knows, a return last, and no scratch load that some path reaches before a
// store (the kernel's check_load_and_stores, quirks included). The error is
// a *ProgramError naming the first offending instruction.
//
// The kernel refuses what tcpdump compiles for "protochain" (a backward
// jump); NewVM accepts it.
func Validate(p Program) error { return validate(p, kernelRules) }

// rules selects between the kernel's checks and libpcap's bpf_validate,
// which tcpdump applies to programs it runs itself.
type rules int

const (
	kernelRules rules = iota
	userlandRules
)

func validate(p Program, r rules) error {
	if len(p) == 0 {
		return programError(-1, "empty program")
	}
	if r == kernelRules && len(p) > MaxInstructions {
		return programError(-1, "%d instructions, more than the kernel's limit of %d", len(p), MaxInstructions)
	}
	for i := range p {
		if err := checkInstruction(p, i, r); err != nil {
			return err
		}
	}
	if last := len(p) - 1; p[last].Op != opRetK && p[last].Op != opRetA {
		return programError(last, "program must end with a return, found opcode %#x", p[last].Op)
	}
	if r == kernelRules {
		return checkScratchInit(p)
	}
	return nil
}

// checkInstruction applies the checks that need only one instruction and
// the program length.
func checkInstruction(p Program, i int, r rules) error {
	ins := p[i]
	if _, ok := ins.AsLookup(); ok {
		if r == kernelRules {
			return programError(i, "a set lookup: the kernel's classic BPF has none (eBPF backends and weir's VM run them)")
		}
		for _, off := range [2]uint8{ins.Jt, ins.Jf} {
			if i+1+int(off) >= len(p) {
				return jumpError(p, i, int64(i)+1+int64(off))
			}
		}
		return nil
	}
	if _, ok := vmOps[ins.Op]; !ok {
		return programError(i, "unknown opcode %#x", ins.Op)
	}
	switch ins.Op {
	case opDivK, opModK:
		if ins.K == 0 {
			return programError(i, "division by constant zero")
		}
	case opLshK, opRshK:
		if ins.K >= 32 {
			return programError(i, "shift by %d, 32 or more", ins.K)
		}
	case opLdMem, opLdxMem, opSt, opStx:
		if ins.K >= MemWords {
			return programError(i, "scratch memory index %d out of range (M[0] to M[%d])", ins.K, MemWords-1)
		}
	case opJa:
		return checkJa(p, i, r)
	case opJeqK, opJgtK, opJgeK, opJsetK, opJeqX, opJgtX, opJgeX, opJsetX:
		for _, off := range [2]uint8{ins.Jt, ins.Jf} {
			if i+1+int(off) >= len(p) {
				return jumpError(p, i, int64(i)+1+int64(off))
			}
		}
	case opLdW, opLdH, opLdB:
		if r == kernelRules && ins.K >= ancillaryBase {
			if _, ok := ancillaryNames[ins.K-ancillaryBase]; !ok {
				return programError(i, "unknown ancillary load offset %#x", ins.K)
			}
		}
	}
	return nil
}

// checkJa checks an unconditional jump: the kernel takes its offset as
// unsigned, libpcap as signed to run "protochain" loops (but not a jump to
// itself).
func checkJa(p Program, i int, r rules) error {
	k := p[i].K
	if off := int64(int32(k)); off < 0 {
		if r == kernelRules {
			return programError(i, "backward jump to instruction %d (the kernel allows only forward jumps)", int64(i)+1+off)
		}
		if to := int64(i) + 1 + off; to < 0 || to == int64(i) {
			return programError(i, "backward jump to instruction %d", to)
		}
		return nil
	}
	if uint64(k) >= uint64(len(p)-i-1) {
		return jumpError(p, i, int64(i)+1+int64(k))
	}
	return nil
}

func jumpError(p Program, i int, target int64) error {
	return programError(i, "jump target %d beyond end of program (%d instructions)", target, len(p))
}

// checkScratchInit rejects a load from a scratch slot not stored on every
// path to it, as the kernel's check_load_and_stores: one forward pass where
// each jump narrows its targets' set of valid slots. Like the kernel, it
// does not reset the set after a return, so code after a return that only
// jumps reach inherits the slots of the path that fell into the return.
func checkScratchInit(p Program) error {
	valid := make([]uint16, len(p))
	for i := range valid {
		valid[i] = 0xffff
	}
	var now uint16
	for i, ins := range p {
		now &= valid[i]
		switch ins.Op {
		case opSt, opStx:
			now |= 1 << ins.K
		case opLdMem, opLdxMem:
			if now&(1<<ins.K) == 0 {
				return programError(i, "M[%d] loaded before a store on some path", ins.K)
			}
		case opJa:
			valid[i+1+int(ins.K)] &= now
			now = 0xffff
		case opJeqK, opJgtK, opJgeK, opJsetK, opJeqX, opJgtX, opJgeX, opJsetX:
			valid[i+1+int(ins.Jt)] &= now
			valid[i+1+int(ins.Jf)] &= now
			now = 0xffff
		}
	}
	return nil
}
