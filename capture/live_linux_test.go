package capture

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// Live tests run in two fresh network namespaces joined by a veth pair
// (testutil.Veth): frames are injected from the peer (or out of the
// capture side) and the captured bytes compared with them exactly. A
// "witness" capture without filter tells when every injected frame has
// reached the packet sockets, so a test never sleeps on a guess.

// witnessConfig captures everything with room for every test's burst.
var witnessConfig = Config{Interface: testutil.CaptureIf, BufferSize: 16 << 20}

const (
	testBlockTimeout = 5 * time.Millisecond
	testBuffer       = 256 << 10
	waitLimit        = 5 * time.Second
)

// openIn opens a capture in the fixture's capture namespace, compiling
// expr for the interface as a live capture does; Close runs at cleanup.
func openIn(t *testing.T, v *testutil.Veth, cfg Config, expr string) *Source {
	t.Helper()
	if cfg.BlockTimeout == 0 {
		cfg.BlockTimeout = testBlockTimeout
	}
	if cfg.BufferSize == 0 {
		cfg.BufferSize = testBuffer
	}
	var src *Source
	err := testutil.Do(v.Capture, func() error {
		if expr != "" {
			fc, err := FilterConfig(cfg.Interface)
			if err != nil {
				return err
			}
			fc.Snaplen = cfg.Snaplen
			if cfg.Filter, err = filter.Compile(expr, fc); err != nil {
				return err
			}
		}
		var err error
		src, err = Open(cfg)
		return err
	})
	if err != nil {
		t.Fatalf("open %s %q: %v", cfg.Interface, expr, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// packet is a captured packet, copied out of the ring.
type packet struct {
	data []byte
	info pcap.CaptureInfo
}

// collector reads a source in the background until io.EOF.
type collector struct {
	src  *Source
	mu   sync.Mutex
	pkts []packet
	err  error
	done chan struct{}
}

func collect(src *Source) *collector {
	c := &collector{src: src, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			data, info, err := src.ReadPacket()
			c.mu.Lock()
			if err != nil {
				if err != io.EOF {
					c.err = err
				}
				c.mu.Unlock()
				return
			}
			c.pkts = append(c.pkts, packet{append([]byte(nil), data...), info})
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pkts)
}

// waitCount waits until n packets have been read.
func (c *collector) waitCount(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for c.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d packets read after %v, want %d", c.count(), waitLimit, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// finish stops the source and returns everything it delivered.
func (c *collector) finish(t *testing.T) []packet {
	t.Helper()
	c.src.Stop()
	select {
	case <-c.done:
	case <-time.After(waitLimit):
		t.Fatal("ReadPacket did not return io.EOF after Stop")
	}
	if c.err != nil {
		t.Fatalf("ReadPacket: %v", c.err)
	}
	return c.pkts
}

// offlineMatch is libpcap's verdict on a frame read from a file.
func offlineMatch(t *testing.T, expr string, lt pcap.LinkType, frame []byte) bool {
	t.Helper()
	if expr == "" {
		return true
	}
	p, err := filter.Compile(expr, filter.Config{LinkType: lt, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	return filter.Run(p, frame, len(frame)) != 0
}

// liveMatch is libpcap's verdict on an Ethernet frame in a live capture.
// The kernel takes the outer VLAN tag out before the filter runs: an
// expression that starts with "vlan" tests the tag the kernel kept aside
// (filter.Config.KernelVLAN) and so answers as offline on the frame as
// sent, while one without "vlan" sees the frame without its outer tag.
func liveMatch(t *testing.T, expr string, frame []byte) bool {
	t.Helper()
	if strings.HasPrefix(expr, "vlan") || strings.HasPrefix(expr, "not vlan") {
		return offlineMatch(t, expr, pcap.LinkTypeEthernet, frame)
	}
	if strings.Contains(expr, "vlan") {
		t.Fatalf("%q: no simple model of its live verdict", expr)
	}
	return offlineMatch(t, expr, pcap.LinkTypeEthernet, untagged(frame))
}

// untagged is the frame without its outer VLAN tag, as the kernel passes
// it to the filter.
func untagged(frame []byte) []byte {
	if tpid := uint16(frame[12])<<8 | uint16(frame[13]); tpid == 0x8100 || tpid == 0x88a8 {
		return append(append([]byte(nil), frame[:12]...), frame[16:]...)
	}
	return frame
}

// comparePackets checks captured packets against the expected frames, in
// order, byte for byte.
func comparePackets(t *testing.T, label string, got []packet, want [][]byte, lt pcap.LinkType) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: captured %d packets, want %d", label, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !bytes.Equal(got[i].data, want[i]) {
			t.Errorf("%s: packet %d =\n%x\nwant\n%x", label, i, got[i].data, want[i])
		}
		if got[i].info.CaptureLength != len(got[i].data) || got[i].info.Length != len(want[i]) || got[i].info.LinkType != lt {
			t.Errorf("%s: packet %d info %+v, want length %d on %v", label, i, got[i].info, len(want[i]), lt)
		}
	}
}

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

// sll2Of is the LINUX_SLL2 frame "any" yields for an Ethernet frame
// received on ifindex: the kernel has taken out the outer VLAN tag (which
// libpcap does not put back on SLL2), the header carries the protocol,
// index, ARPHRD_ETHER, packet type and source address.
func sll2Of(frame []byte, ifindex int) []byte {
	frame = untagged(frame)
	pktType := byte(3) // PACKET_OTHERHOST
	if bytes.Equal(frame[:6], broadcast) {
		pktType = 1
	}
	h := []byte{frame[12], frame[13], 0, 0,
		byte(ifindex >> 24), byte(ifindex >> 16), byte(ifindex >> 8), byte(ifindex),
		0, 1, pktType, 6}
	h = append(h, frame[6:12]...)
	h = append(h, 0, 0)
	return append(h, frame[14:]...)
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
	exprs := []string{"", "udp", "ip6 or arp", "ifindex " + itoa(v.CaptureIndex), "ifindex 999",
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

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
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

func TestLiveStopWhileIdle(t *testing.T) {
	v := testutil.NewVeth(t)
	c := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, BlockTimeout: 200 * time.Millisecond}, ""))
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	if got := c.finish(t); len(got) != 0 {
		t.Fatalf("idle capture returned %d packets", len(got))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Stop took %v to end an idle ReadPacket", d)
	}
	c.src.Stop() // twice is harmless
}

func TestLiveInterfaceDown(t *testing.T) {
	v := testutil.NewVeth(t)
	frame := ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(1, 53, 8)))
	src := openIn(t, v, Config{Interface: testutil.CaptureIf}, "")
	v.Inject(t, frame)
	data, _, err := src.ReadPacket()
	if err != nil || !bytes.Equal(data, frame) {
		t.Fatalf("first packet %x, %v", data, err)
	}
	v.SetCaptureDown(t)
	done := make(chan error, 1)
	go func() {
		_, _, err := src.ReadPacket()
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), testutil.CaptureIf+": the interface went down") {
			t.Fatalf("ReadPacket after the interface went down: %v", err)
		}
	case <-time.After(waitLimit):
		src.Stop()
		t.Fatal("ReadPacket still waits after the interface went down")
	}
}

func TestLiveReadPacketAllocatesNothing(t *testing.T) {
	v := testutil.NewVeth(t)
	const n = 400
	var frames [][]byte
	for i := range n {
		frames = append(frames, ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(uint16(i), 53, 32)), [2]uint16{0x8100, 5}))
	}
	src := openIn(t, v, Config{Interface: testutil.CaptureIf, BufferSize: 2 << 20}, "")
	witness := collect(openIn(t, v, witnessConfig, ""))
	v.Inject(t, frames...)
	witness.waitCount(t, n)
	witness.finish(t)
	src.ReadPacket() // the first batch arrives
	allocs := testing.AllocsPerRun(n-50, func() {
		if _, _, err := src.ReadPacket(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadPacket allocates %.1f times per packet", allocs)
	}
}

func TestLiveStopDrainsWithoutLoss(t *testing.T) {
	v := testutil.NewVeth(t)
	var frames [][]byte
	for i := range 600 {
		frames = append(frames, ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(uint16(i), 53, 64))))
	}
	witness := collect(openIn(t, v, witnessConfig, ""))
	// Not read while the frames arrive: the ring holds them all.
	idle := openIn(t, v, Config{Interface: testutil.CaptureIf, BufferSize: 2 << 20, BlockTimeout: 300 * time.Millisecond}, "udp")
	// Read all along, stopped as soon as the last frame is in.
	busy := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, BlockTimeout: 300 * time.Millisecond}, "udp"))
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	comparePackets(t, "busy", busy.finish(t), frames, pcap.LinkTypeEthernet)
	idle.Stop()
	comparePackets(t, "stopped before reading", collect(idle).finish(t), frames, pcap.LinkTypeEthernet)
	st, err := idle.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != uint64(len(frames)) || st.Dropped != 0 {
		t.Errorf("stats %+v, want %d received, none dropped", st, len(frames))
	}
	if _, _, err := idle.ReadPacket(); err != io.EOF {
		t.Errorf("ReadPacket after the end: %v, want io.EOF", err)
	}
}

func TestLiveStatsCountDrops(t *testing.T) {
	v := testutil.NewVeth(t)
	var frames [][]byte
	for i := range 400 {
		frames = append(frames, ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(uint16(i), 53, 1000))))
	}
	// Two 64 KiB blocks, nobody reading: most frames cannot fit.
	small := openIn(t, v, Config{Interface: testutil.CaptureIf, BufferSize: 4096}, "udp")
	witness := collect(openIn(t, v, witnessConfig, ""))
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	small.Stop()
	got := collect(small).finish(t)
	st, err := small.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != uint64(len(frames)) || st.Dropped == 0 {
		t.Fatalf("stats %+v, want %d received with drops", st, len(frames))
	}
	if uint64(len(got)) != st.Received-st.Dropped {
		t.Errorf("read %d packets, stats say %d received and %d dropped", len(got), st.Received, st.Dropped)
	}
	if err := small.Close(); err != nil {
		t.Fatal(err)
	}
	if after, _ := small.Stats(); after != st {
		t.Errorf("stats after Close %+v, want %+v", after, st)
	}
}

func TestLiveFanout(t *testing.T) {
	v := testutil.NewVeth(t)
	var frames [][]byte
	for i := range 300 {
		src := hostA.As4()
		src[3] = byte(i)
		frames = append(frames, ether(foreignMAC, 0x0800,
			ipv4(netip.AddrFrom4(src), hostB, protoUDP, udp(uint16(1000+i), 53, 20))))
	}
	witness := collect(openIn(t, v, witnessConfig, ""))
	fan := openIn(t, v, Config{Interface: testutil.CaptureIf, Fanout: 3}, "udp port 53")
	if len(fan.rings) != 3 {
		t.Fatalf("%d sockets, want 3", len(fan.rings))
	}
	var group int
	for i, r := range fan.rings {
		g, err := fanoutGroup(r.fd)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && g != group {
			t.Fatalf("socket %d in fanout group %#x, socket 0 in %#x", i, g, group)
		}
		group = g
	}
	c := collect(fan)
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	c.waitCount(t, len(frames))
	got := c.finish(t)
	seen := map[string]int{}
	for _, p := range got {
		seen[string(p.data)]++
	}
	for i, f := range frames {
		if seen[string(f)] != 1 {
			t.Fatalf("frame %d captured %d times", i, seen[string(f)])
		}
	}
	if len(got) != len(frames) {
		t.Fatalf("%d packets, want %d", len(got), len(frames))
	}
	st, err := fan.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Received != uint64(len(frames)) {
		t.Errorf("stats %+v summed over the group, want %d received", st, len(frames))
	}
}

func TestLiveNoUnfilteredPacketDuringOpen(t *testing.T) {
	v := testutil.NewVeth(t)
	match := ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(1, 53, 8)))
	other := ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoTCP, tcpSYN(1, 80)))
	stop := make(chan struct{})
	sent := make(chan int)
	go func() {
		n := 0
		defer func() { sent <- n }()
		for n < 20000 {
			select {
			case <-stop:
				return
			default:
			}
			v.Inject(t, other, other, other, match)
			n += 4
			if n%64 == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	matched := 0
	for range 8 {
		c := collect(openIn(t, v, Config{Interface: testutil.CaptureIf}, "udp port 53"))
		time.Sleep(10 * time.Millisecond)
		for i, p := range c.finish(t) {
			if !bytes.Equal(p.data, match) {
				t.Fatalf("packet %d does not match the filter: %x", i, p.data)
			}
			matched++
		}
		c.src.Close()
	}
	close(stop)
	if n := <-sent; n == 0 {
		t.Fatal("no traffic was sent during the test")
	}
	if matched == 0 {
		t.Fatal("no matching packet captured: the test proves nothing")
	}
}

func TestLiveTunIsRawIP(t *testing.T) {
	v := testutil.NewVeth(t)
	tun := v.AddTun(t)
	packets := [][]byte{
		ipv4(hostA, hostB, protoUDP, udp(5, 53, 10)),
		ipv4(hostA, hostB, protoTCP, tcpSYN(5, 80)),
		ipv6(hostA6, hostB6, protoUDP, udp(5, 53, 10)),
	}
	all := openIn(t, v, Config{Interface: testutil.TunIf}, "")
	if all.LinkType() != pcap.LinkTypeRaw {
		t.Fatalf("tun link type %v, want RAW", all.LinkType())
	}
	allC := collect(all)
	udpC := collect(openIn(t, v, Config{Interface: testutil.TunIf}, "udp"))
	tun.Write(t, packets...)
	allC.waitCount(t, len(packets))
	comparePackets(t, "tun", allC.finish(t), packets, pcap.LinkTypeRaw)
	comparePackets(t, "tun udp", udpC.finish(t), [][]byte{packets[0], packets[2]}, pcap.LinkTypeRaw)
}

func TestLiveLoopbackIsEthernet(t *testing.T) {
	v := testutil.NewVeth(t)
	v.LoopbackUp(t)
	src := openIn(t, v, Config{Interface: "lo"}, "udp port 9999")
	if src.LinkType() != pcap.LinkTypeEthernet {
		t.Fatalf("lo link type %v, want EN10MB", src.LinkType())
	}
	c := collect(src)
	payload := []byte("loopback datagram")
	sendLoopback(t, v, payload, 3)
	c.waitCount(t, 3)
	got := c.finish(t)
	if len(got) != 3 {
		// libpcap drops the outgoing copy: each packet shows once.
		t.Fatalf("%d packets for 3 datagrams on lo", len(got))
	}
	for i, p := range got {
		if !bytes.Equal(p.data[:14], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0}) ||
			!bytes.HasSuffix(p.data, payload) || p.data[14+9] != protoUDP {
			t.Errorf("packet %d = %x, want a zero-address Ethernet frame around the datagram", i, p.data)
		}
	}
}

// sendLoopback sends n UDP datagrams to 127.0.0.1:9999 in the capture
// namespace, whose lo must be up.
func sendLoopback(t *testing.T, v *testutil.Veth, payload []byte, n int) {
	t.Helper()
	err := testutil.Do(v.Capture, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		to := &unix.SockaddrInet4{Port: 9999, Addr: [4]byte{127, 0, 0, 1}}
		for range n {
			if err := unix.Sendto(fd, payload, 0, to); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLiveInterfaces(t *testing.T) {
	v := testutil.NewVeth(t)
	err := testutil.Do(v.Capture, func() error {
		list, err := Interfaces()
		if err != nil {
			return err
		}
		names := map[string]Interface{}
		for _, i := range list {
			names[i.Name] = i
		}
		if c := names[testutil.CaptureIf]; !c.Up || c.Loopback || c.Index != v.CaptureIndex {
			t.Errorf("%s listed as %+v", testutil.CaptureIf, c)
		}
		if lo := names["lo"]; !lo.Loopback {
			t.Errorf("lo listed as %+v", lo)
		}
		if a, ok := names[AnyInterface]; !ok || a.Description == "" {
			t.Errorf("any listed as %+v", a)
		}
		if list[0].Name != testutil.CaptureIf {
			t.Errorf("first interface %q, want the up one", list[0].Name)
		}
		def, err := DefaultInterface()
		if err != nil {
			return err
		}
		if def != testutil.CaptureIf {
			t.Errorf("default interface %q, want %q", def, testutil.CaptureIf)
		}
		fc, err := FilterConfig("lo")
		if err != nil {
			return err
		}
		if fc.LinkType != pcap.LinkTypeEthernet || !fc.KernelVLAN {
			t.Errorf("lo filter config %+v, want Ethernet with kernel VLAN", fc)
		}
		fc, err = FilterConfig(testutil.CaptureIf)
		if err != nil {
			return err
		}
		if fc.Netmask != 0xffffff00 {
			t.Errorf("netmask %#x, want the /24 of the fixture", fc.Netmask)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLiveMissingInterface(t *testing.T) {
	v := testutil.NewVeth(t)
	err := testutil.Do(v.Capture, func() error {
		for _, name := range []string{"eth9", "a-name-far-too-long-for-linux"} {
			_, err := Open(Config{Interface: name})
			if !errors.Is(err, ErrNoSuchInterface) || err.Error() != name+": no such interface" {
				t.Errorf("Open(%q): %v", name, err)
			}
			if _, err := FilterConfig(name); !errors.Is(err, ErrNoSuchInterface) {
				t.Errorf("FilterConfig(%q): %v", name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fanoutGroup is the socket's PACKET_FANOUT setting: group id and mode.
func fanoutGroup(fd int) (int, error) {
	return unix.GetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT)
}

// tcpdumpRun is tcpdump capturing live in the capture namespace.
type tcpdumpRun struct {
	expr string
	file string
	cmd  *exec.Cmd
	ln   chan struct{} // closed once tcpdump says it is listening
}

// startTcpdump runs tcpdump on iface in the capture namespace, writing
// what expr matches to a file, and waits until it listens.
func startTcpdump(t *testing.T, v *testutil.Veth, tcpdump, iface, expr string) *tcpdumpRun {
	t.Helper()
	// A duplicate: the os.File closes its descriptor when collected.
	nsFd, err := unix.Dup(int(v.Capture))
	if err != nil {
		t.Fatal(err)
	}
	ns := os.NewFile(uintptr(nsFd), "netns")
	defer ns.Close()
	run := &tcpdumpRun{expr: expr, file: filepath.Join(t.TempDir(), "out.pcap"), ln: make(chan struct{})}
	run.cmd = exec.Command("nsenter", "--net=/proc/self/fd/3", tcpdump,
		"-i", iface, "--immediate-mode", "-U", "-Z", "root", "-w", run.file, expr)
	run.cmd.ExtraFiles = []*os.File{ns}
	stderr, err := run.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := run.cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	t.Cleanup(func() {
		if run.cmd.ProcessState == nil {
			run.cmd.Process.Kill()
			run.cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(run.ln)
				io.Copy(io.Discard, stderr)
				return
			}
		}
	}()
	select {
	case <-run.ln:
	case <-time.After(waitLimit):
		t.Fatalf("tcpdump %q never started listening", expr)
	}
	return run
}

// stop interrupts tcpdump and returns the frames it wrote.
func (r *tcpdumpRun) stop(t *testing.T) [][]byte {
	t.Helper()
	r.cmd.Process.Signal(os.Interrupt)
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("tcpdump %q: %v", r.expr, err)
	}
	f, err := os.Open(r.file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := pcap.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		data, _, err := rd.ReadPacket()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, append([]byte(nil), data...))
	}
}

// TestLiveMatchesTcpdump runs tcpdump beside weir on the same interface
// and frames: libpcap's live captures are the reference, VLAN tags and
// LINUX_SLL2 headers included.
func TestLiveMatchesTcpdump(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	v := testutil.NewVeth(t)
	frames := mixedFrames()
	cases := []struct{ iface, expr string }{
		{testutil.CaptureIf, ""},
		{testutil.CaptureIf, "udp"},
		{testutil.CaptureIf, "not vlan"},
		{testutil.CaptureIf, "vlan and udp port 53"},
		{testutil.CaptureIf, "ip6 or vlan 200"},
		{testutil.CaptureIf, "vlan 300 and vlan 400"},
		{testutil.CaptureIf, "tcp port 80 or arp"},
		{AnyInterface, "udp or arp"},
		{AnyInterface, "inbound and ip6"},
		{AnyInterface, "udp port 9999"},
		{"lo", "udp port 9999"},
	}
	v.LoopbackUp(t)
	witness := collect(openIn(t, v, witnessConfig, ""))
	runs := make([]*tcpdumpRun, len(cases))
	ours := make([]*collector, len(cases))
	for i, c := range cases {
		runs[i] = startTcpdump(t, v, tcpdump, c.iface, c.expr)
		ours[i] = collect(openIn(t, v, Config{Interface: c.iface, Promiscuous: true}, c.expr))
	}
	v.Inject(t, frames...)
	sendLoopback(t, v, []byte("to tcpdump and weir"), 2)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	ours[len(ours)-1].waitCount(t, 2)
	time.Sleep(200 * time.Millisecond) // tcpdump writes at its own pace
	for i, c := range cases {
		want := runs[i].stop(t)
		got := ours[i].finish(t)
		label := c.iface + " " + c.expr
		if c.iface == AnyInterface {
			// libpcap copies the address bytes past its length as the
			// kernel left them; weir zeroes them.
			for _, w := range want {
				clear(w[12+int(w[11]) : 20])
			}
		}
		if len(want) == 0 {
			t.Errorf("%s: tcpdump captured nothing: the case proves nothing", label)
		}
		comparePackets(t, label, got, want, map[bool]pcap.LinkType{true: pcap.LinkTypeLinuxSLL2, false: pcap.LinkTypeEthernet}[c.iface == AnyInterface])
	}
}
