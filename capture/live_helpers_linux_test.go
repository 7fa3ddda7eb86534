package capture

import (
	"bytes"
	"io"
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
	src  capturing
	mu   sync.Mutex
	pkts []packet
	err  error
	done chan struct{}
}

// capturing is a live source the tests read: a Source or a HookSource.
type capturing interface {
	ReadPacket() ([]byte, pcap.CaptureInfo, error)
	Stats() (Stats, error)
	Stop()
	Close() error
}

func collect(src capturing) *collector {
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
		for i := len(want); i < len(got); i++ {
			t.Errorf("%s: extra packet %d: %x", label, i, got[i].data)
		}
		for i := len(got); i < len(want); i++ {
			t.Errorf("%s: missing packet %d: %x", label, i, want[i])
		}
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

// fanoutGroup is the socket's PACKET_FANOUT setting: group id and mode.
func fanoutGroup(fd int) (int, error) {
	return unix.GetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT)
}
