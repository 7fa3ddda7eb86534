package capture

import (
	"testing"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

func TestUserProgramReadsMetadata(t *testing.T) {
	plain := compileFor(t, "udp port 53", pcap.LinkTypeEthernet)
	if got, metadata := userProgram(plain); metadata || &got[0] != &plain[0] {
		t.Fatal("a program without ancillary loads was rewritten")
	}
	p := filter.Program{
		{Op: filter.ClassLd | filter.SizeB | filter.ModeAbs, K: skfAdOff + skfAdVLANTagPresent},
		{Op: filter.ClassLd | filter.SizeH | filter.ModeAbs, K: skfAdOff + skfAdPktType},
		{Op: filter.ClassLd | filter.SizeW | filter.ModeAbs, K: 26},
		{Op: filter.ClassLd | filter.SizeB | filter.ModeInd, K: 14},
		{Op: filter.ClassLdx | filter.SizeB | filter.ModeMsh, K: 14},
		{Op: filter.ClassLd | filter.SizeW | filter.ModeAbs, K: skfAdOff + 56}, // SKF_AD_RANDOM: not offered
		{Op: filter.ClassLd | filter.SizeW | filter.ModeLen},
		{Op: filter.ClassRet | filter.SrcA},
	}
	got, metadata := userProgram(p)
	if !metadata {
		t.Fatal("ancillary loads not seen")
	}
	want := filter.Program{
		{Op: filter.ClassLd | filter.SizeW | filter.ModeAbs, K: 20},
		{Op: filter.ClassLd | filter.SizeW | filter.ModeAbs, K: 4},
		{Op: filter.ClassLd | filter.SizeW | filter.ModeAbs, K: 26 + metadataLen},
		{Op: filter.ClassLd | filter.SizeB | filter.ModeInd, K: 14 + metadataLen},
		{Op: filter.ClassLdx | filter.SizeB | filter.ModeMsh, K: 14 + metadataLen},
		p[5], p[6], p[7],
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("instruction %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if p[0].K != skfAdOff+skfAdVLANTagPresent {
		t.Error("the caller's program was changed")
	}
}

// A live program (KernelVLAN) run in user space before the tag is put
// back, with the metadata, answers as the kernel does.
func TestUserFilterSeesTheKernelsVLANTag(t *testing.T) {
	pkt := synthPacket{data: mustHex(ethAddrs + "0800" + ipv4Rest), macLen: 14, status: statusVLANValid, tci: 0x2064,
		reserve: vlanTagLen + metadataLen, addr: linkAddr{Protocol: 0x0800, PktType: 3, Ifindex: 7}}
	for _, c := range []struct {
		expr string
		keep bool
	}{
		{"vlan 100 and udp port 53", true},
		{"vlan 101", false},
		{"not vlan", false},
		{"udp port 53", true}, // the kernel's view: the tag is out of the frame
		{"ifindex 7 and vlan", true},
		{"ifindex 8", false},
	} {
		p, err := filter.Compile(c.expr, filter.Config{LinkType: pcap.LinkTypeEthernet, KernelVLAN: true, Optimize: true})
		if err != nil {
			t.Fatal(err)
		}
		user, metadata := userProgram(p)
		vm, err := filter.NewVM(user)
		if err != nil {
			t.Fatal(err)
		}
		opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 262144, filter: vm.Run, metadata: metadata}
		block := buildBlock(4096, []synthPacket{pkt})
		refs, err := readBlock(block, &opt, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if kept := len(refs) == 1; kept != c.keep {
			t.Errorf("%s: kept %v, want %v", c.expr, kept, c.keep)
			continue
		}
		if c.keep {
			r := refs[0]
			want := mustHex(ethAddrs + "8100" + "2064" + "0800" + ipv4Rest)
			if got := block[r.start : r.start+r.caplen]; string(got) != string(want) {
				t.Errorf("%s: frame %x, want the tag put back: %x", c.expr, got, want)
			}
		}
	}
}
