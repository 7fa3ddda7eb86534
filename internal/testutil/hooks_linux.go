package testutil

import (
	"testing"

	"github.com/cilium/ebpf"
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
