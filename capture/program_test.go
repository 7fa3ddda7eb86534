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
			progs, err := buildPrograms(compileFor(t, c.expr, c.lt), modeFor(c.lt), 262144, DirectionInOut)
			if err != nil {
				t.Fatal(err)
			}
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
	progs, err := buildPrograms(p, modeFor(pcap.LinkTypeLinuxSLL2), 100, DirectionInOut)
	if err != nil {
		t.Fatal(err)
	}
	if progs.User == nil {
		t.Fatal("a load of an SLL2 address byte was sent to the kernel")
	}
	if len(progs.Kernel) != 1 || progs.Kernel[0].K != 100 {
		t.Fatalf("kernel program %v, want ret #100", progs.Kernel)
	}
}

func TestDirectionPrefix(t *testing.T) {
	p := compileFor(t, "udp", pcap.LinkTypeEthernet)
	for _, c := range []struct {
		dir               Direction
		outgoing, inbound bool
	}{{DirectionOut, true, false}, {DirectionIn, false, true}} {
		got := withDirection(p, c.dir)
		if len(got) != len(p)+4 || got[0].K != skfAdOff+skfAdPktType {
			t.Fatalf("direction %d: no packet-type test in front:\n%v", c.dir, got)
		}
		// Follow the test for each packet type: kept means reaching the
		// accumulator reset at 3, then the original program.
		for _, pkttype := range []uint32{0, packetOutgoing} {
			next := 2 + int(got[1].Jf)
			if pkttype == got[1].K {
				next = 2 + int(got[1].Jt)
			}
			kept := next == 3
			want := c.inbound
			if pkttype == packetOutgoing {
				want = c.outgoing
			}
			if kept != want {
				t.Errorf("direction %d, packet type %d: kept=%v", c.dir, pkttype, kept)
			}
		}
	}
	if got := withDirection(p, DirectionInOut); len(got) != len(p) {
		t.Error("both directions changed the program")
	}
}

func TestEmptyFilterCutsAtSnaplen(t *testing.T) {
	progs, err := buildPrograms(nil, modeFor(pcap.LinkTypeEthernet), 96, DirectionInOut)
	if err != nil {
		t.Fatal(err)
	}
	if len(progs.Kernel) != 1 || progs.Kernel[0].Op != filter.ClassRet || progs.Kernel[0].K != 96 {
		t.Fatalf("program %v, want ret #96", progs.Kernel)
	}
}

func TestMergerOrdersByTimestamp(t *testing.T) {
	m := newMerger(3, 1)
	mk := func(ring int, secs ...uint32) *batch {
		b := &batch{ring: ring}
		for _, s := range secs {
			b.refs = append(b.refs, packetRef{sec: s})
		}
		return b
	}
	m.add(mk(0, 1, 4, 6))
	m.add(mk(1, 2, 3, 7))
	m.add(mk(2, 5))
	m.add(mk(2, 8)) // grows the queue past its first size
	var got []uint32
	exhaustedCount := 0
	for {
		b, ref, exhausted := m.next()
		if b == nil {
			break
		}
		if exhausted {
			exhaustedCount++
		}
		got = append(got, ref.sec)
	}
	for i, s := range got {
		if s != uint32(i+1) {
			t.Fatalf("order %v, want 1..8", got)
		}
	}
	if exhaustedCount != 4 {
		t.Errorf("%d batches reported exhausted, want 4", exhaustedCount)
	}
	if m.done() {
		t.Error("done before any ring ended")
	}
	for i := range 3 {
		m.add(&batch{ring: i, end: true})
	}
	if !m.done() {
		t.Error("not done after every ring ended")
	}
}
