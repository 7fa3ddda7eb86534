package capture

import (
	"bytes"
	"io"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

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

func TestLiveStopReadsTheBlockInTheMaking(t *testing.T) {
	if err := packetsLanded(); err != nil {
		t.Skipf("membarrier(MEMBARRIER_CMD_GLOBAL): %v: Stop waits for the retire timer", err)
	}
	v := testutil.NewVeth(t)
	var frames [][]byte
	for i := range 30 {
		frames = append(frames, ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(uint16(i), 53, 64))))
	}
	witness := collect(openIn(t, v, witnessConfig, ""))
	// The retire timer never fires during the test: the frames stay in
	// the block the kernel fills until Stop.
	c := collect(openIn(t, v, Config{Interface: testutil.CaptureIf, BlockTimeout: time.Hour}, "udp"))
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	if n := c.count(); n != 0 {
		t.Fatalf("%d packets read before the block was handed over", n)
	}
	start := time.Now()
	comparePackets(t, "stopped", c.finish(t), frames, pcap.LinkTypeEthernet)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Stop took %v", d)
	}
}

func TestLiveOnWaitBeforeEachWait(t *testing.T) {
	v := testutil.NewVeth(t)
	src := openIn(t, v, Config{Interface: testutil.CaptureIf}, "udp")
	var waits atomic.Int32
	src.OnWait(func() { waits.Add(1) })
	c := collect(src)
	deadline := time.Now().Add(waitLimit)
	for waits.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("ReadPacket waits without calling OnWait's function")
		}
		time.Sleep(time.Millisecond)
	}
	var frames [][]byte
	for i := range 20 {
		frames = append(frames, ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(uint16(i), 53, 64))))
	}
	before := waits.Load()
	v.Inject(t, frames...)
	c.waitCount(t, len(frames))
	for waits.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("no OnWait call once the packets were read")
		}
		time.Sleep(time.Millisecond)
	}
	if n := waits.Load() - before; n > int32(len(frames)) {
		t.Errorf("%d waits for %d packets in one block", n, len(frames))
	}
	comparePackets(t, "with OnWait", c.finish(t), frames, pcap.LinkTypeEthernet)
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

func TestLiveFanoutGroupIDTaken(t *testing.T) {
	v := testutil.NewVeth(t)
	const taken = 0x4242
	// Another program holds the id in load-balancing mode.
	err := testutil.Do(v.Capture, func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		t.Cleanup(func() { unix.Close(fd) })
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: v.CaptureIndex}); err != nil {
			return err
		}
		return unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, taken|unix.PACKET_FANOUT_LB<<16)
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{taken, 0x4343}
	newFanoutID = func() int {
		id := ids[0]
		ids = ids[1:]
		return id
	}
	t.Cleanup(func() { newFanoutID = fanoutID })
	src := openIn(t, v, Config{Interface: testutil.CaptureIf, Fanout: 2}, "")
	g, err := fanoutGroup(src.rings[0].fd)
	if err != nil {
		t.Fatal(err)
	}
	if g&0xffff != 0x4343 {
		t.Fatalf("fanout group %#x, want the second id 0x4343", g&0xffff)
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
