package filter

import (
	"errors"
	"math/rand"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/internal/testutil"
)

func sockFilter(p Program) []unix.SockFilter {
	out := make([]unix.SockFilter, len(p))
	for i, ins := range p {
		out[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	return out
}

// kernelAgrees attaches p and fails the test unless the kernel and
// Validate give the same verdict.
func kernelAgrees(t *testing.T, name string, p Program) (accepted bool) {
	t.Helper()
	kerr := testutil.KernelAccepts(sockFilter(p))
	if kerr != nil && !errors.Is(kerr, unix.EINVAL) {
		t.Fatalf("%s: attaching: %v", name, kerr)
	}
	verr := Validate(p)
	if (kerr == nil) != (verr == nil) {
		t.Errorf("%s: kernel says %v, Validate says %v\n%s", name, kerr, verr, Dump(p, DumpAssembly))
	}
	return kerr == nil
}

// kernelOnlyRefusal reports whether p holds what the kernel refuses but
// tcpdump runs itself: a backward jump ("protochain") or a load at an
// offset the kernel reserves (from SKF_AD_OFF, "ether[-1]").
func kernelOnlyRefusal(p Program) bool {
	for _, ins := range p {
		if ins.Op == opJa && int32(ins.K) < 0 {
			return true
		}
		if (ins.Op == opLdW || ins.Op == opLdH || ins.Op == opLdB) && ins.K >= ancillaryBase {
			return true
		}
	}
	return false
}

// TestKernelAcceptsGoldenPrograms attaches every tcpdump program of the
// dump golden. All must pass but those kernelOnlyRefusal explains.
func TestKernelAcceptsGoldenPrograms(t *testing.T) {
	refused := 0
	for _, e := range readDumpGolden(t) {
		p, err := e.program()
		if err != nil {
			t.Fatal(err)
		}
		if !kernelAgrees(t, e.name(), p) {
			refused++
			if !kernelOnlyRefusal(p) {
				t.Errorf("%s: the kernel refuses a tcpdump program", e.name())
			}
		}
	}
	t.Logf("%d programs refused, for backward jumps or reserved offsets", refused)
}

func TestKernelAgreesWithValidate(t *testing.T) {
	for _, tt := range validateCases {
		kernelAgrees(t, tt.name, tt.p)
	}
}

// TestKernelAgreesOnRandomPrograms attaches random programs built to sit
// near the edges the checker draws: jumps near the end, scratch slots
// loaded on some paths only, odd opcodes and constants.
func TestKernelAgreesOnRandomPrograms(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	accepted := 0
	const n = 3000
	for i := 0; i < n; i++ {
		p := randomEdgeProgram(rng)
		if kernelAgrees(t, "random program", p) {
			accepted++
		}
	}
	// Both verdicts must be well represented for the comparison to mean much.
	if accepted < n/5 || accepted > n*4/5 {
		t.Errorf("%d of %d random programs accepted: the generator lost its balance", accepted, n)
	}
}

func randomEdgeProgram(rng *rand.Rand) Program {
	n := 1 + rng.Intn(12)
	p := make(Program, n)
	ops := validOpcodesSorted()
	for i := range p {
		ins := Instruction{Op: ops[rng.Intn(len(ops))], Jt: uint8(rng.Intn(4)), Jf: uint8(rng.Intn(4)), K: uint32(rng.Intn(4))}
		switch rng.Intn(12) {
		case 0:
			ins.Op = uint16(rng.Intn(256))
		case 1:
			ins.K = []uint32{16, 31, 32, 0xffffffff, 0xfffffffe, ancillaryBase, ancillaryBase + 4, ancillaryBase + 62, ancillaryBase + 64}[rng.Intn(9)]
		case 2:
			ins.Op = []uint16{opSt, opStx, opLdMem, opLdxMem}[rng.Intn(4)]
		}
		p[i] = ins
	}
	if rng.Intn(5) > 0 {
		p[n-1] = Instruction{Op: []uint16{opRetK, opRetA}[rng.Intn(2)]}
	}
	return p
}
