package testutil

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
)

// AttachedXDPID is the id of the XDP program on the capture side's
// interface, 0 for none (netlink's IFLA_XDP).
func (v *Veth) AttachedXDPID(t testing.TB) uint32 {
	t.Helper()
	var id uint32
	err := Do(v.Capture, func() error {
		l, err := netlink.LinkByIndex(v.CaptureIndex)
		if err != nil {
			return err
		}
		if x := l.Attrs().Xdp; x != nil {
			id = x.ProgId
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	return id
}

// TCXPrograms counts the tcx programs on the capture side's interface,
// ingress and egress.
func (v *Veth) TCXPrograms(t testing.TB) int {
	t.Helper()
	n := 0
	err := Do(v.Capture, func() error {
		for _, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
			res, err := link.QueryPrograms(link.QueryOptions{Target: v.CaptureIndex, Attach: at})
			if err != nil {
				return err
			}
			n += len(res.Programs)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	return n
}

// AttachOtherXDP attaches a pass-everything XDP program named "other_xdp"
// to the capture side's interface the old way, through netlink in generic
// mode, as `ip link set ... xdpgeneric` does, and returns its id. It goes
// with the program when the test ends.
func (v *Veth) AttachOtherXDP(t testing.TB) uint32 {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "other_xdp", Type: ebpf.XDP, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}, // XDP_PASS
	})
	if err != nil {
		t.Fatalf("testutil: loading an XDP program: %v", err)
	}
	t.Cleanup(func() { prog.Close() })
	err = Do(v.Capture, func() error {
		l, err := netlink.LinkByIndex(v.CaptureIndex)
		if err != nil {
			return err
		}
		return netlink.LinkSetXdpFdWithFlags(l, prog.FD(), xdpFlagsSKBMode)
	})
	if err != nil {
		t.Fatalf("testutil: attaching an XDP program: %v", err)
	}
	info, err := prog.Info()
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	id, _ := info.ID()
	return uint32(id)
}

// xdpFlagsSKBMode is XDP_FLAGS_SKB_MODE: generic XDP.
const xdpFlagsSKBMode = 1 << 1
