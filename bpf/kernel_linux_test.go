package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/rlimit"

	"github.com/weircap/weir/internal/testutil"
)

// The kernel as the judge of lowered programs: each fragment is completed
// into a program, loaded (the verifier must accept it) and run on packets.
// XDP and tcx programs run through BPF_PROG_TEST_RUN and write their
// verdict into the packet's first four bytes (XDP return codes are not
// free-form); the socket filter is attached with SO_ATTACH_BPF to an
// AF_UNIX datagram pair (test runs of socket filters start the packet at
// the network header), where the bytes delivered are the verdict.

// Test runs of XDP and tc programs need an Ethernet header's worth of bytes
// and at most about a page (XDP: 4096 - 256 bytes of headroom - 320 of
// skb_shared_info).
const (
	minTestRun = 14
	maxTestRun = 3520
)

var programTypes = map[Target]ebpf.ProgramType{
	TargetSocketFilter: ebpf.SocketFilter,
	TargetXDP:          ebpf.XDP,
	TargetTCX:          ebpf.SchedCLS,
}

// requireBPF skips (fails under WEIR_STRICT=1) without the privilege to
// load programs.
func requireBPF(t testing.TB) {
	t.Helper()
	testutil.RequireRoot(t, "CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN)")
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Fatal(err)
	}
}

// completion ends a fragment: the socket filter returns the verdict; XDP
// and tcx store it (host order) in the packet's first four bytes when the
// packet has them, and pass the packet.
func completion(t Target) asm.Instructions {
	if t == TargetSocketFilter {
		return asm.Instructions{asm.Return().WithSymbol(FilterDone)}
	}
	data, dataEnd, pass := int16(xdpData), int16(xdpDataEnd), int32(2) // XDP_PASS
	if t == TargetTCX {
		data, dataEnd, pass = skbData, skbDataEnd, 0 // TC_ACT_OK
	}
	return asm.Instructions{
		asm.LoadMem(asm.R2, regCtx, data, asm.Word).WithSymbol(FilterDone),
		asm.LoadMem(asm.R3, regCtx, dataEnd, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 4),
		asm.JGT.Reg(asm.R4, asm.R3, "test_out"),
		asm.StoreMem(asm.R2, 0, asm.R0, asm.Word),
		asm.Mov.Imm(asm.R0, pass).WithSymbol("test_out"),
		asm.Return(),
	}
}

// loadFragment completes and loads a fragment; the error of a refusal
// carries the verifier's log.
func loadFragment(t Target, frag asm.Instructions) (*ebpf.Program, error) {
	insns := append(append(asm.Instructions{}, frag...), completion(t)...)
	spec := &ebpf.ProgramSpec{Type: programTypes[t], Instructions: insns, License: "GPL"}
	prog, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{})
	if err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return nil, fmt.Errorf("%w\n%+v", err, verr)
		}
		return nil, err
	}
	return prog, nil
}

// kernelRunner runs loaded programs of one target on packets.
type kernelRunner struct {
	target  Target
	socket  *testutil.KernelFilter
	out     []byte
	context []byte // the test run's context (__sk_buff or xdp_md), if not nil
}

func newKernelRunner(t Target) (*kernelRunner, error) {
	r := &kernelRunner{target: t, out: make([]byte, maxTestRun+512)}
	if t == TargetSocketFilter {
		k, err := testutil.NewKernelFilter()
		if err != nil {
			return nil, err
		}
		r.socket = k
	}
	return r, nil
}

func (r *kernelRunner) Close() error {
	if r.socket != nil {
		return r.socket.Close()
	}
	return nil
}

// use prepares prog for the next runs.
func (r *kernelRunner) use(prog *ebpf.Program) error {
	if r.socket != nil {
		return r.socket.AttachBPF(prog.FD())
	}
	return nil
}

// runnable reports whether a test run takes the packet: the socket pair
// takes any; XDP and tc test runs take 14 to maxTestRun bytes, and a tc
// test run refuses an Ethernet frame of type IPv4 or IPv6 cut inside the
// network header (EINVAL).
func (r *kernelRunner) runnable(data []byte) bool {
	n := len(data)
	switch {
	case r.socket != nil:
		return true
	case n < minTestRun || n > maxTestRun:
		return false
	case r.target != TargetTCX:
		return true
	}
	switch binary.BigEndian.Uint16(data[12:]) {
	case 0x0800:
		return n >= minTestRun+20
	case 0x86dd:
		return n >= minTestRun+40
	}
	return true
}

// matches runs the program on data and reports whether its verdict is
// want (for the socket filter: whether the kernel kept min(want, len)
// bytes, or dropped the packet for 0), with a description of what the
// kernel did.
func (r *kernelRunner) matches(prog *ebpf.Program, data []byte, want uint32) (bool, string, error) {
	if r.socket != nil {
		kept, delivered, err := r.socket.Run(data)
		if err != nil {
			return false, "", err
		}
		if !delivered {
			return want == 0, "dropped it", nil
		}
		return want != 0 && uint64(kept) == min(uint64(want), uint64(len(data))), fmt.Sprintf("kept %d bytes", kept), nil
	}
	if len(data) < minTestRun || len(data) > maxTestRun {
		return false, "", fmt.Errorf("%d bytes do not fit a test run", len(data))
	}
	opts := &ebpf.RunOptions{Data: data, DataOut: r.out}
	if r.context != nil {
		opts.Context = r.context
	}
	_, err := prog.Run(opts)
	if err != nil {
		return false, "", err
	}
	got := binary.NativeEndian.Uint32(r.out)
	return got == want, fmt.Sprintf("returned %d", got), nil
}
