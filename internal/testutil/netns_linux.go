package testutil

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Addresses of the veth fixture, from the benchmarking ranges
// 198.18.0.0/15 and fd00:beef::/64. IPv6 is off on the veths so that the
// kernel sends nothing by itself (no router solicitation, MLD or DAD);
// the IPv6 addresses are for the frames tests inject.
var (
	CaptureAddr4 = netip.MustParseAddr("198.18.0.1")
	PeerAddr4    = netip.MustParseAddr("198.18.0.2")
	CaptureAddr6 = netip.MustParseAddr("fd00:beef::1")
	PeerAddr6    = netip.MustParseAddr("fd00:beef::2")
)

// Interface names of the fixture, one in each namespace.
const (
	CaptureIf = "wcap0"
	PeerIf    = "wpeer0"
)

// Veth is a pair of fresh network namespaces joined by a veth pair: the
// capture side and the peer that injects frames. The namespaces are not
// named in /run/netns; they vanish with their last reference, and Cleanup
// removes the link and closes every handle even when the test fails.
type Veth struct {
	Capture, Peer           netns.NsHandle
	CaptureIndex, PeerIndex int
	CaptureMAC, PeerMAC     net.HardwareAddr

	captureNL, peerNL *netlink.Handle
	peerSock, capSock int
}

// NewVeth builds the fixture, skipping (failing under WEIR_STRICT=1)
// without CAP_NET_ADMIN.
func NewVeth(t testing.TB) *Veth {
	t.Helper()
	RequireRoot(t, "CAP_NET_ADMIN")
	v := &Veth{Capture: -1, Peer: -1, peerSock: -1, capSock: -1}
	t.Cleanup(v.close)
	var err error
	if v.Capture, err = newNamespace(); err != nil {
		t.Fatalf("testutil: capture namespace: %v", err)
	}
	if v.Peer, err = newNamespace(); err != nil {
		t.Fatalf("testutil: peer namespace: %v", err)
	}
	if v.captureNL, err = netlink.NewHandleAt(v.Capture); err != nil {
		t.Fatalf("testutil: netlink in capture namespace: %v", err)
	}
	if v.peerNL, err = netlink.NewHandleAt(v.Peer); err != nil {
		t.Fatalf("testutil: netlink in peer namespace: %v", err)
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: CaptureIf, TxQLen: 1000},
		PeerName:      PeerIf,
		PeerNamespace: netlink.NsFd(v.Peer),
	}
	if err := v.captureNL.LinkAdd(veth); err != nil {
		t.Fatalf("testutil: creating veth pair: %v", err)
	}
	v.CaptureIndex, v.CaptureMAC = v.setUp(t, v.Capture, v.captureNL, CaptureIf, CaptureAddr4, PeerAddr4)
	v.PeerIndex, v.PeerMAC = v.setUp(t, v.Peer, v.peerNL, PeerIf, PeerAddr4, CaptureAddr4)
	v.addNeighbor(t, v.captureNL, v.CaptureIndex, PeerAddr4, v.PeerMAC)
	v.addNeighbor(t, v.peerNL, v.PeerIndex, CaptureAddr4, v.CaptureMAC)
	v.waitRunning(t, v.captureNL, CaptureIf)
	v.waitRunning(t, v.peerNL, PeerIf)
	v.peerSock = v.injector(t, v.Peer)
	v.capSock = v.injector(t, v.Capture)
	return v
}

// newNamespace creates a network namespace and returns a handle to it,
// leaving the calling thread where it was.
func newNamespace() (netns.NsHandle, error) {
	var h netns.NsHandle
	err := onLockedThread(func() error {
		orig, err := netns.Get()
		if err != nil {
			return err
		}
		defer orig.Close()
		h, err = netns.New() // moves this thread into it
		if err != nil {
			return err
		}
		if err := netns.Set(orig); err != nil {
			runtime.Goexit() // leaves the thread locked: Go discards it
		}
		return nil
	})
	return h, err
}

// setUp turns IPv6 off, brings the link up with its IPv4 address and
// returns its index and MAC address.
func (v *Veth) setUp(t testing.TB, ns netns.NsHandle, nl *netlink.Handle, name string, addr, peer netip.Addr) (int, net.HardwareAddr) {
	t.Helper()
	err := Do(ns, func() error {
		return os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/disable_ipv6", []byte("1"), 0)
	})
	if err != nil {
		t.Fatalf("testutil: disabling IPv6 on %s: %v", name, err)
	}
	link, err := nl.LinkByName(name)
	if err != nil {
		t.Fatalf("testutil: %s: %v", name, err)
	}
	ipnet := &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(24, 32)}
	if err := nl.AddrAdd(link, &netlink.Addr{IPNet: ipnet}); err != nil {
		t.Fatalf("testutil: address on %s: %v", name, err)
	}
	if err := nl.LinkSetUp(link); err != nil {
		t.Fatalf("testutil: bringing %s up: %v", name, err)
	}
	return link.Attrs().Index, link.Attrs().HardwareAddr
}

// waitRunning waits (up to two seconds) for the link's carrier, which a
// veth gets just after both ends are up.
func (v *Veth) waitRunning(t testing.TB, nl *netlink.Handle, name string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		link, err := nl.LinkByName(name)
		if err != nil {
			t.Fatalf("testutil: %s: %v", name, err)
		}
		if link.Attrs().RawFlags&unix.IFF_RUNNING != 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testutil: %s not running after 2s", name)
		}
		time.Sleep(time.Millisecond)
	}
}

// addNeighbor fixes the peer's MAC address so no ARP ever crosses the link.
func (v *Veth) addNeighbor(t testing.TB, nl *netlink.Handle, index int, ip netip.Addr, mac net.HardwareAddr) {
	t.Helper()
	n := &netlink.Neigh{LinkIndex: index, Family: unix.AF_INET, State: netlink.NUD_PERMANENT,
		IP: ip.AsSlice(), HardwareAddr: mac}
	if err := nl.NeighAdd(n); err != nil {
		t.Fatalf("testutil: neighbor %s: %v", ip, err)
	}
}

// injector opens a raw packet socket in ns for sending frames.
func (v *Veth) injector(t testing.TB, ns netns.NsHandle) int {
	t.Helper()
	var fd int
	err := Do(ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		return err
	})
	if err != nil {
		t.Fatalf("testutil: packet socket: %v", err)
	}
	return fd
}

// Inject sends frames from the peer: they arrive on the capture side as
// received packets.
func (v *Veth) Inject(t testing.TB, frames ...[]byte) {
	t.Helper()
	send(t, v.peerSock, v.PeerIndex, frames)
}

// InjectOut sends frames out of the capture side's interface: a capture
// there sees them as outgoing.
func (v *Veth) InjectOut(t testing.TB, frames ...[]byte) {
	t.Helper()
	send(t, v.capSock, v.CaptureIndex, frames)
}

// send writes each frame, exactly as given, to the interface.
func send(t testing.TB, fd, index int, frames [][]byte) {
	t.Helper()
	sa := &unix.SockaddrLinklayer{Ifindex: index}
	for i, f := range frames {
		if err := unix.Sendto(fd, f, 0, sa); err != nil {
			t.Fatalf("testutil: sending frame %d: %v", i, err)
		}
	}
}

// Promiscuity is how many holders keep the capture side's interface in
// promiscuous mode (IFLA_PROMISCUITY; packet sockets set IFF_PROMISC
// through it, which the interface flags do not show).
func (v *Veth) Promiscuity(t testing.TB) int {
	t.Helper()
	link, err := v.captureNL.LinkByName(CaptureIf)
	if err != nil {
		t.Fatalf("testutil: %s: %v", CaptureIf, err)
	}
	return link.Attrs().Promisc
}

// LoopbackUp brings up lo in the capture namespace.
func (v *Veth) LoopbackUp(t testing.TB) {
	t.Helper()
	link, err := v.captureNL.LinkByName("lo")
	if err == nil {
		err = v.captureNL.LinkSetUp(link)
	}
	if err != nil {
		t.Fatalf("testutil: bringing lo up: %v", err)
	}
}

// SetCaptureDown takes the capture side's interface down.
func (v *Veth) SetCaptureDown(t testing.TB) {
	t.Helper()
	link, err := v.captureNL.LinkByName(CaptureIf)
	if err == nil {
		err = v.captureNL.LinkSetDown(link)
	}
	if err != nil {
		t.Fatalf("testutil: taking %s down: %v", CaptureIf, err)
	}
}

// close removes the link and releases the namespaces.
func (v *Veth) close() {
	for _, fd := range []int{v.peerSock, v.capSock} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	if v.captureNL != nil {
		if link, err := v.captureNL.LinkByName(CaptureIf); err == nil {
			_ = v.captureNL.LinkDel(link)
		}
		v.captureNL.Close()
	}
	if v.peerNL != nil {
		v.peerNL.Close()
	}
	for _, ns := range []netns.NsHandle{v.Capture, v.Peer} {
		if ns.IsOpen() {
			ns.Close()
		}
	}
}

// Do runs fn on a thread moved into namespace ns, and moves it back. A
// thread that cannot be moved back is retired with its goroutine.
func Do(ns netns.NsHandle, fn func() error) error {
	return onLockedThread(func() error {
		orig, err := netns.Get()
		if err != nil {
			return err
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("testutil: entering namespace: %w", err)
		}
		fnErr := fn()
		if err := netns.Set(orig); err != nil {
			runtime.Goexit() // leaves the thread locked: Go discards it
		}
		return fnErr
	})
}

// onLockedThread runs fn in a new goroutine locked to its thread, so that
// namespace changes never leak to other goroutines.
func onLockedThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		done := false
		defer func() {
			if !done {
				errc <- fmt.Errorf("testutil: namespace thread could not return home")
			}
		}()
		err := fn()
		done = true
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// TunIf is the name of the tun device AddTun creates.
const TunIf = "wtun0"

// Tun is a tun device (ARPHRD_NONE, raw IP) in the capture namespace.
// Packets written to it arrive on it as received.
type Tun struct {
	Index int
	file  *os.File
}

// AddTun creates a tun device in the capture namespace, up, IPv6 off; it
// disappears when the test ends.
func (v *Veth) AddTun(t testing.TB) *Tun {
	t.Helper()
	var f *os.File
	err := Do(v.Capture, func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(TunIf)
		if err != nil {
			unix.Close(fd)
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return err
		}
		f = os.NewFile(uintptr(fd), "/dev/net/tun")
		return os.WriteFile("/proc/sys/net/ipv6/conf/"+TunIf+"/disable_ipv6", []byte("1"), 0)
	})
	if f != nil {
		t.Cleanup(func() { f.Close() })
	}
	if err != nil {
		t.Fatalf("testutil: creating %s: %v", TunIf, err)
	}
	link, err := v.captureNL.LinkByName(TunIf)
	if err != nil {
		t.Fatalf("testutil: %s: %v", TunIf, err)
	}
	if err := v.captureNL.LinkSetUp(link); err != nil {
		t.Fatalf("testutil: bringing %s up: %v", TunIf, err)
	}
	return &Tun{Index: link.Attrs().Index, file: f}
}

// Write sends IP packets into the tun device.
func (tun *Tun) Write(t testing.TB, packets ...[]byte) {
	t.Helper()
	for i, p := range packets {
		if _, err := tun.file.Write(p); err != nil {
			t.Fatalf("testutil: writing packet %d to %s: %v", i, TunIf, err)
		}
	}
}
