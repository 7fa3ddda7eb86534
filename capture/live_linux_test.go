package capture

import (
	"bytes"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

var liveExpressions = []string{
	"",
	"udp",
	"tcp port 80",
	"host 198.18.1.10",
	"ip6",
	"arp",
	"udp port 53 or icmp",
	"not tcp",
	"ether broadcast",
	"vlan 100",
	"vlan and udp",
	"vlan 300 and vlan 400 and udp port 53",
	"greater 200",
	"vlan 200 or ip6",
	"tcp[tcpflags] & tcp-syn != 0",
}

func TestLiveFiltersCaptureExactlyTheMatchingFrames(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := mixedFrames()
	witness := collect(openIn(t, v, witnessConfig, ""))
	collectors := make([]*collector, len(liveExpressions))
	for i, expr := range liveExpressions {
		src := openIn(t, v, Config{Interface: testutil.CaptureIf}, expr)
		if src.LinkType() != pcap.LinkTypeEthernet {
			t.Fatalf("veth link type %v, want EN10MB", src.LinkType())
		}
		collectors[i] = collect(src)
	}
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	comparePackets(t, "witness", witness.finish(t), frames, pcap.LinkTypeEthernet)
	for i, expr := range liveExpressions {
		var want [][]byte
		for _, f := range frames {
			if liveMatch(t, expr, f) {
				want = append(want, f)
			}
		}
		comparePackets(t, "filter "+expr, collectors[i].finish(t), want, pcap.LinkTypeEthernet)
	}
}

func TestLiveAnyInterfaceBuildsSLL2(t *testing.T) {
	v := testutil.NewVeth(t)
	// Not the double-tagged frame: for it the kernel's sll_protocol
	// changed across versions (the inner tag's type, or since 6.x the
	// protocol behind it).
	frames := mixedFrames()[:9]
	var cooked [][]byte
	for _, f := range frames {
		cooked = append(cooked, sll2Of(f, v.CaptureIndex))
	}
	witness := collect(openIn(t, v, witnessConfig, ""))
	exprs := []string{"", "udp", "ip6 or arp", "ifindex " + strconv.Itoa(v.CaptureIndex), "ifindex 999",
		"inbound and tcp", "outbound"}
	collectors := make([]*collector, len(exprs))
	for i, expr := range exprs {
		src := openIn(t, v, Config{Interface: AnyInterface}, expr)
		if src.LinkType() != pcap.LinkTypeLinuxSLL2 {
			t.Fatalf("any: link type %v, want LINUX_SLL2", src.LinkType())
		}
		collectors[i] = collect(src)
	}
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	for i, expr := range exprs {
		var want [][]byte
		for _, f := range cooked {
			if offlineMatch(t, expr, pcap.LinkTypeLinuxSLL2, f) {
				want = append(want, f)
			}
		}
		comparePackets(t, "any "+expr, collectors[i].finish(t), want, pcap.LinkTypeLinuxSLL2)
	}
}

func TestLiveDirection(t *testing.T) {
	v := testutil.NewVeth(t)
	in := mixedFrames()[:4]
	out := [][]byte{
		ether(foreignMAC, 0x0800, ipv4(hostB, hostA, protoUDP, udp(7, 7, 5))),
		ether(foreignMAC, 0x0800, ipv4(hostB, hostA, protoUDP, udp(8, 8, 5))),
	}
	witness := collect(openIn(t, v, witnessConfig, ""))
	inC := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, Direction: DirectionIn}, ""))
	outC := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, Direction: DirectionOut}, ""))
	outUDP := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, Direction: DirectionOut}, "udp port 8"))
	bothC := collect(openIn(t, v, Config{Interface: testutil.CaptureIf}, "udp"))
	anyOut := collect(openIn(t, v, Config{Interface: AnyInterface, Direction: DirectionOut}, ""))
	v.Inject(t, in...)
	v.InjectOut(t, out...)
	witness.waitCount(t, len(in)+len(out))
	witness.finish(t)
	comparePackets(t, "-Q in", inC.finish(t), in, pcap.LinkTypeEthernet)
	comparePackets(t, "-Q out", outC.finish(t), out, pcap.LinkTypeEthernet)
	comparePackets(t, "-Q out udp port 8", outUDP.finish(t), out[1:], pcap.LinkTypeEthernet)
	both := bothC.finish(t)
	sort.Slice(both, func(i, j int) bool { return bytes.Compare(both[i].data, both[j].data) < 0 })
	wantBoth := [][]byte{out[0], out[1], in[0]}
	sort.Slice(wantBoth, func(i, j int) bool { return bytes.Compare(wantBoth[i], wantBoth[j]) < 0 })
	comparePackets(t, "-Q inout udp", both, wantBoth, pcap.LinkTypeEthernet)
	anyGot := anyOut.finish(t)
	if len(anyGot) != len(out) {
		t.Fatalf("any -Q out: %d packets, want %d", len(anyGot), len(out))
	}
	for i, p := range anyGot {
		if p.data[10] != packetOutgoing || !bytes.Equal(p.data[20:], out[i][14:]) {
			t.Errorf("any -Q out packet %d = %x", i, p.data)
		}
	}
}

func TestLiveSnaplen(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := mixedFrames()
	witness := collect(openIn(t, v, witnessConfig, ""))
	plain := openIn(t, v, Config{Interface: testutil.CaptureIf, Snaplen: 64}, "")
	if plain.Snaplen() != 64 {
		t.Fatalf("Snaplen() = %d, want 64", plain.Snaplen())
	}
	plainC := collect(plain)
	filtered := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, Snaplen: 50}, "udp"))
	unfiltered := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, Snaplen: 40, Filter: nil}, ""))
	anyC := collect(openIn(t, v, Config{Interface: AnyInterface, Snaplen: 64}, "udp"))
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	check := func(label string, got []packet, snap int, pick func([]byte) bool, conv func([]byte) []byte) {
		t.Helper()
		var want [][]byte
		for _, f := range frames {
			if pick(f) {
				want = append(want, conv(f))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d packets, want %d", label, len(got), len(want))
		}
		for i, p := range got {
			w := want[i][:min(snap, len(want[i]))]
			if !bytes.Equal(p.data, w) || p.info.Length != len(want[i]) {
				t.Errorf("%s: packet %d = %x (length %d), want %x (length %d)", label, i, p.data, p.info.Length, w, len(want[i]))
			}
		}
	}
	all := func([]byte) bool { return true }
	isUDP := func(f []byte) bool { return liveMatch(t, "udp", f) }
	same := func(f []byte) []byte { return f }
	check("-s 64", plainC.finish(t), 64, all, same)
	check("-s 50 udp", filtered.finish(t), 50, isUDP, same)
	check("-s 40", unfiltered.finish(t), 40, all, same)
	check("any -s 64 udp", anyC.finish(t), 64, func(f []byte) bool {
		return offlineMatch(t, "udp", pcap.LinkTypeLinuxSLL2, sll2Of(f, v.CaptureIndex))
	}, func(f []byte) []byte { return sll2Of(f, v.CaptureIndex) })
}

func TestLiveVLANTagsRestored(t *testing.T) {
	v := testutil.NewVeth(t)
	tagged := [][]byte{
		ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(1, 2, 3)), [2]uint16{0x8100, 100}),
		ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(1, 2, 3)), [2]uint16{0x8100, 0xe000 | 100}),
		ether(foreignMAC, 0x86dd, ipv6(hostA6, hostB6, protoUDP, udp(1, 2, 3)), [2]uint16{0x8100, 101}),
		ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(1, 2, 3)), [2]uint16{0x88a8, 100}, [2]uint16{0x8100, 7}),
		ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(1, 2, 3))),
	}
	witness := collect(openIn(t, v, witnessConfig, ""))
	exprs := []string{"vlan 100", "vlan 101 and ip6", "not vlan", "vlan and vlan 7", "vlan 100 and udp port 2", "udp", "ip"}
	var cs []*collector
	for _, e := range exprs {
		cs = append(cs, collect(openIn(t, v, Config{Interface: testutil.CaptureIf}, e)))
	}
	v.Inject(t, tagged...)
	witness.waitCount(t, len(tagged))
	comparePackets(t, "all tags", witness.finish(t), tagged, pcap.LinkTypeEthernet)
	for i, e := range exprs {
		var want [][]byte
		for _, f := range tagged {
			if liveMatch(t, e, f) {
				want = append(want, f)
			}
		}
		if len(want) == 0 {
			t.Fatalf("%q matches no test frame offline", e)
		}
		comparePackets(t, e, cs[i].finish(t), want, pcap.LinkTypeEthernet)
	}
}

func TestLivePromiscuousMode(t *testing.T) {
	v := testutil.NewVeth(t)
	if n := v.Promiscuity(t); n != 0 {
		t.Fatalf("promiscuity %d before capturing", n)
	}
	off := openIn(t, v, Config{Interface: testutil.CaptureIf}, "")
	if n := v.Promiscuity(t); n != 0 {
		t.Fatalf("promiscuity %d while capturing with -p", n)
	}
	on := openIn(t, v, Config{Interface: testutil.CaptureIf, Promiscuous: true}, "")
	if n := v.Promiscuity(t); n != 1 {
		t.Fatalf("promiscuity %d while capturing promiscuously, want 1", n)
	}
	on.Close()
	if n := v.Promiscuity(t); n != 0 {
		t.Fatalf("promiscuity %d after the capture closed", n)
	}
	off.Close()
	anyOn := openIn(t, v, Config{Interface: AnyInterface, Promiscuous: true}, "")
	if n := v.Promiscuity(t); n != 0 {
		t.Errorf("promiscuity %d with \"any\", which libpcap never makes promiscuous", n)
	}
	anyOn.Close()
}

func TestLiveTimestamps(t *testing.T) {
	v := testutil.NewVeth(t)
	var frames [][]byte
	for i := range 40 {
		frames = append(frames, ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(uint16(i), 9, 10))))
	}
	nano := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, Nanoseconds: true}, ""))
	micro := collect(openIn(t, v, Config{Interface: testutil.CaptureIf}, ""))
	before := time.Now()
	v.Inject(t, frames...)
	nano.waitCount(t, len(frames))
	micro.waitCount(t, len(frames))
	after := time.Now()
	nanoPkts, microPkts := nano.finish(t), micro.finish(t)
	subMicro := 0
	for i, p := range nanoPkts {
		ts := p.info.Timestamp
		if ts.Before(before.Add(-time.Second)) || ts.After(after.Add(time.Second)) {
			t.Fatalf("packet %d stamped %v, outside [%v, %v]", i, ts, before, after)
		}
		if i > 0 && ts.Before(nanoPkts[i-1].info.Timestamp) {
			t.Errorf("packet %d goes back in time", i)
		}
		if ts.Nanosecond()%1000 != 0 {
			subMicro++
		}
	}
	if subMicro == 0 {
		t.Error("no nanosecond timestamp has digits below the microsecond")
	}
	for i, p := range microPkts {
		if p.info.Timestamp.Nanosecond()%1000 != 0 {
			t.Fatalf("microsecond capture: packet %d stamped %v", i, p.info.Timestamp)
		}
	}
}
