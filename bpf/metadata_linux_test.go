package bpf

import (
	"encoding/binary"
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// metadataExpressions read socket metadata in their live form on Ethernet:
// the packet type ("inbound", "outbound") and, with filter.Config's
// KernelVLAN, the VLAN tag the kernel takes out of the frame.
var metadataExpressions = []string{
	"inbound", "outbound", "not inbound", "inbound and tcp", "outbound or udp",
	"vlan", "vlan 100", "not vlan", "vlan and tcp port 80", "vlan 200 or vlan 300", "vlan 100 or arp",
}

// TestSocketFilterMetadataEqualsClassicKernel: where filter.Run cannot
// judge (it has no socket metadata), the kernel's own classic BPF can. The
// live-form program runs as classic BPF (SO_ATTACH_FILTER) and lowered as
// an eBPF socket filter (SO_ATTACH_BPF) on the same datagrams, whose
// socket buffers carry the metadata (packet type PACKET_HOST, no VLAN tag
// taken out): the kernel must keep the same bytes. (SKF_AD_IFINDEX is
// left out: a datagram's buffer has no device, which makes the classic
// program drop the packet where __sk_buff.ifindex reads 0.)
func TestSocketFilterMetadataEqualsClassicKernel(t *testing.T) {
	requireBPF(t)
	var packets [][]byte
	for _, c := range readCaptures(t, captureDir) {
		if c.linkType == pcap.LinkTypeEthernet {
			packets = c.packets
		}
	}
	if len(packets) == 0 {
		t.Fatal("no Ethernet capture")
	}
	classic, err := testutil.NewKernelFilter()
	if err != nil {
		t.Fatal(err)
	}
	defer classic.Close()
	lowered, err := testutil.NewKernelFilter()
	if err != nil {
		t.Fatal(err)
	}
	defer lowered.Close()
	compared, kept := 0, 0
	for _, e := range metadataExpressions {
		for _, kernelVLAN := range []bool{false, true} {
			prog, err := filter.Compile(e, filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true, KernelVLAN: kernelVLAN})
			if err != nil {
				t.Fatal(err)
			}
			if !readsAncillary(prog) {
				continue
			}
			frag, err := Lower(prog, TargetSocketFilter)
			if err != nil {
				t.Fatal(err)
			}
			loaded, err := loadFragment(TargetSocketFilter, frag)
			if err != nil {
				t.Fatalf("%q: %v", e, err)
			}
			if err := lowered.AttachBPF(loaded.FD()); err != nil {
				t.Fatal(err)
			}
			if err := classic.Attach(sockFilter(prog)); err != nil {
				t.Fatalf("%q: the kernel refuses the classic program: %v", e, err)
			}
			for i, data := range packets {
				wantKept, wantDelivered, err := classic.Run(data)
				if err != nil {
					t.Fatal(err)
				}
				gotKept, gotDelivered, err := lowered.Run(data)
				if err != nil {
					t.Fatal(err)
				}
				if gotKept != wantKept || gotDelivered != wantDelivered {
					t.Errorf("%q (kernel VLAN %v), packet %d: eBPF kept %d (delivered %v), classic BPF %d (delivered %v)\n%s",
						e, kernelVLAN, i+1, gotKept, gotDelivered, wantKept, wantDelivered, Format(frag))
					break
				}
				compared++
				if wantDelivered {
					kept++
				}
			}
			loaded.Close()
		}
	}
	t.Logf("%d verdicts compared, %d packets kept", compared, kept)
	if kept == 0 || kept == compared {
		t.Errorf("%d of %d packets kept: the expressions do not tell packets apart", kept, compared)
	}
}

func sockFilter(p filter.Program) []unix.SockFilter {
	out := make([]unix.SockFilter, len(p))
	for i, ins := range p {
		out[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	return out
}

// TestTestRunMetadata reads metadata that test runs set from the frame:
// the tc test run gives the socket buffer the loopback device and runs
// eth_type_trans, so the packet type follows the destination MAC and the
// protocol the EtherType (host order, as SKF_AD_PROTOCOL); the XDP test
// run's frame arrives on the loopback device. The tc test run's buffer is
// at ingress when its context gives the loopback device as input device
// (skb_iif), at egress otherwise: the packet type is then
// PACKET_OUTGOING, as AF_PACKET sees it.
func TestTestRunMetadata(t *testing.T) {
	requireBPF(t)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	frame := func(dst []byte, etherType uint16) []byte {
		f := make([]byte, 60)
		copy(f, dst)
		copy(f[6:], []byte{0x02, 0, 0, 0, 0, 1})
		binary.BigEndian.PutUint16(f[12:], etherType)
		f[14] = 0x45 // an IPv4 header's first byte, for the tc test run's check
		return f
	}
	broadcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	multicast := []byte{0x01, 0x00, 0x5e, 0, 0, 0xfb}
	unicast := []byte{0x02, 0, 0, 0, 0, 2}
	const (
		packetType = 0xfffff000 + 4
		protocol   = 0xfffff000 + 0
		ifindex    = 0xfffff000 + 8
		vlanp      = 0xfffff000 + 48
	)
	type direction bool
	const ingress, egress direction = true, false
	for _, tt := range []struct {
		target Target
		at     direction
		load   uint32
		frame  []byte
		want   uint32
	}{
		// The loopback device's broadcast address is all zeros: to it,
		// ff:ff:ff:ff:ff:ff is one more multicast address.
		{TargetTCX, ingress, packetType, frame(broadcast, 0x0800), unix.PACKET_MULTICAST},
		{TargetTCX, ingress, packetType, frame(multicast, 0x0800), unix.PACKET_MULTICAST},
		{TargetTCX, ingress, packetType, frame(unicast, 0x0800), unix.PACKET_OTHERHOST},
		{TargetTCX, egress, packetType, frame(unicast, 0x0800), unix.PACKET_OUTGOING},
		{TargetTCX, egress, packetType, frame(broadcast, 0x0800), unix.PACKET_OUTGOING},
		{TargetTCX, ingress, protocol, frame(unicast, 0x0800), 0x0800},
		{TargetTCX, ingress, protocol, frame(unicast, 0x88cc), 0x88cc},
		{TargetTCX, ingress, ifindex, frame(unicast, 0x0800), uint32(lo.Index)},
		{TargetTCX, egress, vlanp, frame(unicast, 0x0800), 0},
		{TargetXDP, ingress, ifindex, frame(unicast, 0x0800), uint32(lo.Index)},
	} {
		// ld [metadata]; add #1 (a verdict of 0 would hide a wrong 0); ret a
		prog := filter.Program{stmt(ldAbsW, tt.load), stmt(filter.ClassAlu|filter.AluAdd, 1), stmt(retA, 0)}
		frag, err := Lower(prog, tt.target)
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := loadFragment(tt.target, frag)
		if err != nil {
			t.Fatal(err)
		}
		r, err := newKernelRunner(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		if tt.target == TargetTCX && tt.at == ingress {
			r.context = make([]byte, 44) // __sk_buff up to ifindex
			binary.NativeEndian.PutUint32(r.context[skbInputIfindex:], uint32(lo.Index))
		}
		ok, what, err := r.matches(loaded, tt.frame, tt.want+1)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Errorf("%v (ingress %v), %s: the kernel %s, want %d + 1", tt.target, tt.at, filter.Image(prog[0], 0), what, tt.want)
		}
		loaded.Close()
		r.Close()
	}
}
