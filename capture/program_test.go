package capture

import (
	"testing"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

func compileFor(t *testing.T, expr string, lt pcap.LinkType) filter.Program {
	t.Helper()
	p, err := filter.Compile(expr, filter.Config{LinkType: lt, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// loads lists the K of every packet load.
func loads(p filter.Program) []uint32 {
	var ks []uint32
	for _, ins := range p {
		class, mode := ins.Op&0x07, ins.Op&0xe0
		if (class == filter.ClassLd || class == filter.ClassLdx) &&
			(mode == filter.ModeAbs || mode == filter.ModeInd || mode == filter.ModeMsh) {
			ks = append(ks, ins.K)
		}
	}
	return ks
}

func TestCookedProgramsMoveOffsets(t *testing.T) {
	cases := []struct {
		expr  string
		lt    pcap.LinkType
		loads []uint32
	}{
		// SLL2: protocol at 0, ifindex at 4, packet type at 10.
		{"ip", pcap.LinkTypeLinuxSLL2, []uint32{skfAdOff + skfAdProtocol}},
		{"ifindex 3", pcap.LinkTypeLinuxSLL2, []uint32{skfAdOff + skfAdIfindex}},
		{"inbound", pcap.LinkTypeLinuxSLL2, []uint32{skfAdOff + skfAdPktType}},
		{"ip and udp port 53", pcap.LinkTypeLinuxSLL2, []uint32{skfAdOff, 9, 6, 0, 0, 2}},
		// SLL: packet type at 0, protocol at 14.
		{"ip", pcap.LinkTypeLinuxSLL, []uint32{skfAdOff + skfAdProtocol}},
		{"outbound", pcap.LinkTypeLinuxSLL, []uint32{skfAdOff + skfAdPktType}},
	}
	for _, c := range cases {
		t.Run(c.lt.Name()+" "+c.expr, func(t *testing.T) {
			progs := buildPrograms(compileFor(t, c.expr, c.lt), modeFor(c.lt), 262144, DirectionInOut, loopbackNone)
			if progs.User != nil {
				t.Fatalf("program left to user space:\n%s", filter.Dump(progs.Kernel, filter.DumpAssembly))
			}
			got := map[uint32]bool{}
			for _, k := range loads(progs.Kernel) {
				got[k] = true
			}
			want := map[uint32]bool{}
			for _, k := range c.loads {
				want[k] = true
			}
			if len(got) != len(want) {
				t.Fatalf("load offsets %v, want %v", got, want)
			}
			for k := range want {
				if !got[k] {
					t.Fatalf("load offsets %v, want %v", got, want)
				}
			}
		})
	}
}

func TestCookedProgramsKernelCannotRunGoToUserSpace(t *testing.T) {
	p := compileFor(t, "link[1] = 0", pcap.LinkTypeLinuxSLL2)
	progs := buildPrograms(p, modeFor(pcap.LinkTypeLinuxSLL2), 100, DirectionInOut, loopbackNone)
	if progs.User == nil {
		t.Fatal("a load of an SLL2 address byte was sent to the kernel")
	}
	if len(progs.Kernel) != 1 || progs.Kernel[0].K != 100 {
		t.Fatalf("kernel program %v, want ret #100", progs.Kernel)
	}
}

// prefixKeeps runs the instructions withDirection put in front of a
// program of n instructions for a packet of the given type and interface:
// kept means reaching the program with the accumulator zero.
func prefixKeeps(t *testing.T, prog filter.Program, n int, pktType, ifindex uint32) bool {
	t.Helper()
	start := len(prog) - n
	var a uint32
	for pc, steps := 0, 0; steps < 20; steps++ {
		if pc == start {
			return a == 0
		}
		ins := prog[pc]
		switch {
		case ins.Op == filter.ClassRet|filter.SrcK:
			return false
		case ins.Op&0x07 == filter.ClassLd && ins.Op&0xe0 == filter.ModeImm:
			a = ins.K
		case ins.K == skfAdOff+skfAdPktType:
			a = pktType
		case ins.K == skfAdOff+skfAdIfindex:
			a = ifindex
		case ins.Op == filter.ClassJmp|filter.JmpJa:
			pc += int(ins.K)
		case ins.Op == filter.ClassJmp|filter.JmpJeq|filter.SrcK:
			if a == ins.K {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		default:
			t.Fatalf("unexpected instruction %+v in the prefix", ins)
		}
		pc++
	}
	t.Fatal("prefix loops")
	return false
}

func TestDirectionPrefix(t *testing.T) {
	p := compileFor(t, "udp", pcap.LinkTypeEthernet)
	const eth0, host = 2, 0
	cases := []struct {
		dir  Direction
		lo   loopbackRule
		keep [4]bool // in on eth0, out on eth0, in on lo, out on lo
	}{
		{DirectionInOut, loopbackNone, [4]bool{true, true, true, true}},
		{DirectionIn, loopbackNone, [4]bool{true, false, true, false}},
		{DirectionOut, loopbackNone, [4]bool{false, true, false, true}},
		{DirectionInOut, loopbackAny, [4]bool{true, true, true, false}},
		{DirectionIn, loopbackAny, [4]bool{true, false, true, false}},
		{DirectionOut, loopbackAny, [4]bool{false, true, false, false}},
		{DirectionInOut, loopbackDevice, [4]bool{true, false, true, false}},
		{DirectionOut, loopbackDevice, [4]bool{false, false, false, false}},
	}
	for _, c := range cases {
		got := withDirection(p, c.dir, c.lo)
		if c.dir == DirectionInOut && c.lo == loopbackNone {
			if len(got) != len(p) {
				t.Error("both directions without loopback rule changed the program")
			}
			continue
		}
		for i, pkt := range [][2]uint32{{host, eth0}, {packetOutgoing, eth0}, {host, loopbackIndex}, {packetOutgoing, loopbackIndex}} {
			if kept := prefixKeeps(t, got, len(p), pkt[0], pkt[1]); kept != c.keep[i] {
				t.Errorf("direction %d loopback rule %d, packet type %d on %d: kept=%v", c.dir, c.lo, pkt[0], pkt[1], kept)
			}
		}
	}
}

func TestEmptyFilterCutsAtSnaplen(t *testing.T) {
	progs := buildPrograms(nil, modeFor(pcap.LinkTypeEthernet), 96, DirectionInOut, loopbackNone)
	if len(progs.Kernel) != 1 || progs.Kernel[0].Op != filter.ClassRet || progs.Kernel[0].K != 96 {
		t.Fatalf("program %v, want ret #96", progs.Kernel)
	}
}
