package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

const ethernetListening = "weir: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n"

func statsLines(captured, received, dropped int) string {
	return fmt.Sprintf("%d packet%s captured\n%d packet%s received by filter\n%d packet%s dropped by kernel\n",
		captured, plural(captured), received, plural(received), dropped, plural(dropped))
}

func livePackets() [][]byte {
	return [][]byte{
		ethernetFrame(0x0800, tcpV4),
		ethernetFrame(0x0806, arpPacket(1)),
		ethernetFrame(0x0800, ipv4Packet(17, udpDatagram(5353, 5353, 4))),
	}
}

func TestLiveWritesFileUntilSignal(t *testing.T) {
	sys := newFakeSystem(livePackets()...)
	sys.stats = capture.Stats{Received: 3, Dropped: 1}
	out := filepath.Join(t.TempDir(), "out.pcap")
	r := runFake(t, sys, true, "-w", out)
	if want := ethernetListening + statsLines(3, 3, 1); r.code != 0 || r.stderr != want || r.stdout != "" {
		t.Fatalf("got %+v\nwant stderr\n%s", r, want)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := captureBytes(t, pcap.LinkTypeEthernet, false, livePackets()...); string(data) != string(want) {
		t.Errorf("file differs from the packets delivered:\n got %x\nwant %x", data, want)
	}
	if got := sys.events; !reflect.DeepEqual(got, []string{"open", "close"}) {
		t.Errorf("events %q", got)
	}
}

func TestLiveCountStopsWithoutSignal(t *testing.T) {
	sys := newFakeSystem(livePackets()...)
	sys.stats = capture.Stats{Received: 7}
	r := runFake(t, sys, false, "-c", "2", "-w", "-")
	if want := ethernetListening + statsLines(2, 7, 0); r.code != 0 || r.stderr != want {
		t.Fatalf("got %+v\nwant stderr\n%s", r, want)
	}
	_, got := readCapture(t, []byte(r.stdout))
	if len(got) != 2 || string(got[1]) != string(livePackets()[1]) {
		t.Errorf("wrote %d packets, want the first 2", len(got))
	}
}

func TestLivePrintsLinesAndBlankLineOnSignal(t *testing.T) {
	sys := newFakeSystem(livePackets()[:2]...)
	r := runFake(t, sys, true, "-n")
	want := clockAt(0, false) + " " + tcpText + "\n" +
		clockAt(1, false) + " ARP, Request who-has 198.18.0.2 tell 198.18.0.1, length 28\n\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("stdout\n%q\nwant\n%q", r.stdout, want)
	}
	if want := ethernetListening + statsLines(2, 2, 0); r.stderr != want {
		t.Errorf("stderr\n%s\nwant\n%s", r.stderr, want)
	}
	// Stopped by -c, tcpdump prints no blank line.
	sys = newFakeSystem(livePackets()[:1]...)
	if r := runFake(t, sys, false, "-c1"); r.stdout != clockAt(0, false)+" "+tcpText+"\n" {
		t.Errorf("-c1 stdout %q", r.stdout)
	}
}

func TestLiveNanosecondFile(t *testing.T) {
	sys := newFakeSystem(livePackets()...)
	r := runFake(t, sys, true, "--time-stamp-precision", "nano", "-w", "-")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if want := captureBytes(t, pcap.LinkTypeEthernet, true, livePackets()...); r.stdout != string(want) {
		t.Errorf("nanosecond file differs:\n got %x\nwant %x", r.stdout, want)
	}
	if !sys.opened[0].Nanoseconds {
		t.Error("capture not asked for nanosecond timestamps")
	}
}

func TestLiveCaptureConfig(t *testing.T) {
	tests := []struct {
		args []string
		want capture.Config
	}{
		{nil, capture.Config{Interface: "eth0", Snaplen: 262144, Promiscuous: true, BlockTimeout: printBlockTimeout}},
		{[]string{"-i", "eth1", "-p", "-s", "96", "-Q", "in", "-B", "8192", "-w", "-"},
			capture.Config{Interface: "eth1", Snaplen: 96, Direction: capture.DirectionIn, BufferSize: 8 << 20}},
		{[]string{"-i", "any", "--nano", "--fanout", "2", "-Q", "out", "--count"},
			capture.Config{Interface: "any", Snaplen: 262144, Promiscuous: true, Nanoseconds: true, Fanout: 2, Direction: capture.DirectionOut}},
		{[]string{"-U", "-w", "-"}, capture.Config{Interface: "eth0", Snaplen: 262144, Promiscuous: true, BlockTimeout: time.Millisecond}},
		{[]string{"--immediate-mode"}, capture.Config{Interface: "eth0", Snaplen: 262144, Promiscuous: true, BlockTimeout: time.Millisecond}},
		{[]string{"-i", "4"}, capture.Config{Interface: "eth1", Snaplen: 262144, Promiscuous: true, BlockTimeout: printBlockTimeout}},
	}
	for _, tt := range tests {
		sys := newFakeSystem()
		if r := runFake(t, sys, true, tt.args...); r.code != 0 {
			t.Errorf("%q: %+v", tt.args, r)
			continue
		}
		if len(sys.opened) != 1 || !reflect.DeepEqual(sys.opened[0], tt.want) {
			t.Errorf("%q: opened %+v\nwant %+v", tt.args, sys.opened, tt.want)
		}
	}
}

func TestLiveFilterCompiledForTheSocket(t *testing.T) {
	sys := newFakeSystem()
	if r := runFake(t, sys, true, "-s", "128", "vlan", "10"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	want, err := filter.Compile("vlan 10", filter.Config{LinkType: pcap.LinkTypeEthernet, Snaplen: 128, Optimize: true, KernelVLAN: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := sys.opened[0].Filter; !reflect.DeepEqual(got, want) {
		t.Errorf("filter\n%s\nwant the kernel-VLAN program\n%s", filter.Dump(got, filter.DumpAssembly), filter.Dump(want, filter.DumpAssembly))
	}
}

func TestLiveAnyUsesCookedLinkType(t *testing.T) {
	sys := newFakeSystem(sll2Frame(0x0800, 2, 0, tcpV4))
	r := runFake(t, sys, true, "-i", "any", "-w", "-", "tcp")
	want := "weir: data link type LINUX_SLL2\n" +
		"weir: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n" + statsLines(1, 1, 0)
	if r.code != 0 || r.stderr != want {
		t.Fatalf("got %+v\nwant stderr\n%s", r, want)
	}
	prog, err := filter.Compile("tcp", filter.Config{LinkType: pcap.LinkTypeLinuxSLL2, Snaplen: 262144, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sys.opened[0].Filter, prog) {
		t.Errorf("filter not compiled for LINUX_SLL2:\n%s", filter.Dump(sys.opened[0].Filter, filter.DumpAssembly))
	}
	if r, _ := readCapture(t, []byte(r.stdout)); r.LinkType() != pcap.LinkTypeLinuxSLL2 {
		t.Errorf("file link type %v", r.LinkType())
	}
}

// A raw-IP interface (a tun device) gets a filter compiled for RAW.
func TestLiveCompilesForTheInterfaceLinkType(t *testing.T) {
	sys := newFakeSystem()
	sys.linkType = pcap.LinkTypeRaw
	r := runFake(t, sys, true, "-i", "eth1", "udp port 53")
	if r.code != 0 || !strings.Contains(r.stderr, "link-type RAW (Raw IP)") {
		t.Fatalf("%+v", r)
	}
	want, err := filter.Compile("udp port 53", filter.Config{LinkType: pcap.LinkTypeRaw, Snaplen: 262144, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(sys.opened) != 1 || !reflect.DeepEqual(sys.opened[0].Filter, want) {
		t.Errorf("filter is not the RAW program: %d opens", len(sys.opened))
	}
	// -O reaches the compiler.
	sys = newFakeSystem()
	if r := runFake(t, sys, true, "-O", "udp port 53"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	want, err = filter.Compile("udp port 53", filter.Config{LinkType: pcap.LinkTypeEthernet, Snaplen: 262144, KernelVLAN: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sys.opened[0].Filter, want) {
		t.Errorf("-O: the filter is not the unoptimized program")
	}
}

func TestLiveLinkTypeOption(t *testing.T) {
	sys := newFakeSystem()
	r := runFake(t, sys, true, "-y", "EN10MB")
	if r.code != 0 || !strings.HasPrefix(r.stderr, "weir: data link type EN10MB\n"+ethernetListening) {
		t.Errorf("-y EN10MB: %+v", r)
	}
	sys = newFakeSystem()
	r = runFake(t, sys, true, "-y", "RAW", "ip")
	if r.code != 1 || r.stderr != "weir: RAW is not one of the DLTs supported by this device\n" {
		t.Errorf("-y RAW on Ethernet: %+v", r)
	}
	if len(sys.events) != 0 {
		t.Errorf("events %q, want none", sys.events)
	}
}

func TestLiveErrors(t *testing.T) {
	sys := newFakeSystem()
	if r := runFake(t, sys, true, "-i", "eth9"); r.code != 1 || r.stderr != "weir: eth9: no such interface\n" {
		t.Errorf("missing interface: %+v", r)
	}
	if len(sys.opened) != 0 {
		t.Error("opened a capture on a missing interface")
	}
	for _, index := range []string{"0", "6"} {
		if r := runFake(t, sys, true, "-i", index); r.code != 1 || r.stderr != "weir: invalid adapter index\n" {
			t.Errorf("-i %s: %+v", index, r)
		}
	}

	sys = newFakeSystem()
	sys.openErr = fmt.Errorf("capture: eth0: socket: %w", os.ErrPermission)
	r := runFake(t, sys, true, "tcp")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "weir: eth0: socket: permission denied\nweir: capturing needs CAP_NET_RAW: run as root or grant it with setcap cap_net_raw,cap_net_admin=eip ") {
		t.Errorf("no privilege: %+v", r)
	}
	sys = newFakeSystem()
	sys.openErr = &capture.PermissionError{Interface: "eth0", Op: "socket", Err: syscall.EPERM}
	r = runFake(t, sys, true, "tcp")
	if r.code != 1 || strings.Count(r.stderr, "CAP_NET_RAW") != 1 || !strings.HasPrefix(r.stderr, "weir: eth0: socket: operation not permitted: capturing needs CAP_NET_RAW") {
		t.Errorf("capture's permission error: %+v", r)
	}

	sys = newFakeSystem()
	sys.openErr = fmt.Errorf("wrapped: %w", capture.ErrNotSupported)
	if r := runFake(t, sys, true); r.code != 1 || !strings.Contains(r.stderr, "live capture is not supported on this system") {
		t.Errorf("unsupported: %+v", r)
	}

	sys = newFakeSystem()
	sys.openErr = errors.New("capture: setsockopt PACKET_RX_RING: cannot allocate memory")
	if r := runFake(t, sys, true); r.stderr != "weir: eth0: setsockopt PACKET_RX_RING: cannot allocate memory\n" {
		t.Errorf("other error: %+v", r)
	}

	sys = newFakeSystem()
	if r := runFake(t, sys, true, "tcp port"); r.code != 1 || !strings.Contains(r.stderr, "weir: filter: ") || len(sys.opened) != 0 {
		t.Errorf("bad filter: %+v, %d opens", r, len(sys.opened))
	}

	sys = newFakeSystem()
	sys.statsErr = errors.New("capture: getsockopt PACKET_STATISTICS: bad file descriptor")
	if r := runFake(t, sys, true); r.code != 1 || !strings.HasSuffix(r.stderr, "0 packets captured\nweir: pcap_stats: getsockopt PACKET_STATISTICS: bad file descriptor\n") {
		t.Errorf("stats error: %+v", r)
	}
}

func TestLiveDropsPrivilegesAfterOpeningTheFile(t *testing.T) {
	sys := newFakeSystem(livePackets()...)
	out := filepath.Join(t.TempDir(), "out.pcap")
	var fileAtDrop error = errors.New("not dropped")
	sys.beforeRead = func(n int) {
		if n == 0 {
			_, fileAtDrop = os.Stat(out)
		}
	}
	r := runFake(t, sys, true, "-Z", "nobody", "-w", out)
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if got := sys.events; !reflect.DeepEqual(got, []string{"open", "drop nobody", "close"}) {
		t.Errorf("events %q", got)
	}
	if fileAtDrop != nil {
		t.Errorf("output file not created before packets flowed: %v", fileAtDrop)
	}

	sys = newFakeSystem()
	sys.dropErr = errors.New("couldn't find user 'nosuchuser'")
	if r := runFake(t, sys, true, "-Z", "nosuchuser"); r.code != 1 || r.stderr != "weir: couldn't find user 'nosuchuser'\n" {
		t.Errorf("unknown user: %+v", r)
	}
}

// With -U every packet is in the file before the next one is read.
func TestLivePacketBufferedFlushesEachPacket(t *testing.T) {
	packets := livePackets()
	out := filepath.Join(t.TempDir(), "out.pcap")
	sizes := map[int]int64{}
	sys := newFakeSystem(packets...)
	sys.beforeRead = func(n int) {
		if fi, err := os.Stat(out); err == nil {
			sizes[n] = fi.Size()
		}
	}
	if r := runFake(t, sys, true, "-U", "-w", out); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	want := int64(24)
	for n := range packets {
		if sizes[n] != want {
			t.Errorf("before packet %d the file had %d bytes, want %d", n, sizes[n], want)
		}
		want += 16 + int64(len(packets[n]))
	}
	// Without -U the records wait in the buffer; the header goes out at
	// once, so a reader of a pipe starts.
	sizes = map[int]int64{}
	sys = newFakeSystem(packets...)
	sys.beforeRead = func(n int) {
		if fi, err := os.Stat(out); err == nil {
			sizes[n] = fi.Size()
		}
	}
	if r := runFake(t, sys, true, "-w", out); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if sizes[2] != 24 {
		t.Errorf("without -U the file had %d bytes before the last packet, want the header's 24", sizes[2])
	}
}

func TestListDevices(t *testing.T) {
	sys := newFakeSystem()
	sys.interfaces = append(sys.interfaces,
		capture.Interface{Index: 4, Name: "veth0", Description: "test pair"},
		capture.Interface{Index: 5, Name: "eth2", Up: true, Running: true})
	r := runFake(t, sys, false, "-D")
	want := "1.eth0 [Up, Running, Connected]\n" +
		"2.eth2 [Up, Running, Connected]\n" +
		"3.any (Pseudo-device that captures on all interfaces) [Up, Running]\n" +
		"4.lo [Up, Running, Loopback]\n" +
		"5.eth1 [Up, Disconnected]\n" +
		"6.veth0 (test pair) [none]\n"
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("got %+v\nwant stdout\n%s", r, want)
	}
	if r := runFake(t, sys, true, "-i", "2"); !strings.Contains(r.stderr, "listening on eth2,") {
		t.Errorf("-i 2: %+v", r)
	}
}

func TestDumpForInterface(t *testing.T) {
	r := runFake(t, newFakeSystem(), false, "-d", "-i", "any", "udp")
	want, err := filter.Compile("udp", filter.Config{LinkType: pcap.LinkTypeLinuxSLL2, Snaplen: 262144, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 || r.stderr != "weir: data link type LINUX_SLL2\n" || r.stdout != filter.Dump(want, filter.DumpAssembly) {
		t.Errorf("-d -i any: %+v", r)
	}
	r = runFake(t, newFakeSystem(), false, "-d", "-i", "eth0", "vlan")
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, " ldb      [vlanp]\n") {
		t.Errorf("-d -i eth0 vlan: %+v", r)
	}
}

// Several -i go into one pcapng file: an interface description each, with
// the expression as filter, their packets, and statistics per interface.
func TestLiveSeveralInterfacesInOnePcapng(t *testing.T) {
	sys := newFakeSystem(livePackets()...)
	sys.interfaces[2].Description = "second port"
	sys.stats = capture.Stats{Received: 5, Dropped: 2}
	out := filepath.Join(t.TempDir(), "out.pcapng")
	r := runFake(t, sys, true, "-i", "eth0", "-i", "eth1", "-w", out, "not", "icmp")
	wantErr := ethernetListening + strings.ReplaceAll(ethernetListening, "eth0", "eth1") + statsLines(6, 10, 4)
	if r.code != 0 || r.stderr != wantErr {
		t.Fatalf("got %+v\nwant stderr\n%s", r, wantErr)
	}
	if len(sys.opened) != 2 || sys.opened[0].Interface != "eth0" || sys.opened[1].Interface != "eth1" || !sys.opened[0].Nanoseconds {
		t.Errorf("opened %+v, want eth0 and eth1 in nanoseconds", sys.opened)
	}
	rd, packets, infos := readFile(t, out)
	perInterface := map[int]int{}
	for i, ci := range infos {
		perInterface[ci.InterfaceIndex]++
		if !slices.ContainsFunc(livePackets(), func(p []byte) bool { return bytes.Equal(p, packets[i]) }) {
			t.Errorf("packet %d never sent", i)
		}
	}
	if perInterface[0] != 3 || perInterface[1] != 3 {
		t.Errorf("packets per interface %v, want 3 on each", perInterface)
	}
	ifaces := rd.Interfaces()
	if len(ifaces) != 2 || ifaces[0].Name != "eth0" || ifaces[1].Name != "eth1" || ifaces[1].Description != "second port" ||
		ifaces[0].Filter != "not icmp" || ifaces[0].TimestampResolution != 1e9 || ifaces[0].OS == "" {
		t.Fatalf("interfaces %+v", ifaces)
	}
	for i := range ifaces {
		st, ok := rd.Stats(i)
		if !ok || st.FilterAccepted != 5 || st.OSDropped != 2 || st.InterfaceDropped != 2 || st.Delivered != 3 || st.Start.IsZero() || st.End.Before(st.Start) {
			t.Errorf("interface %d statistics %+v (%v), want 5 accepted, 2 dropped, 3 delivered", i, st, ok)
		}
	}
}

// The pcap format takes several interfaces of one link type; their
// packets share the file.
func TestLiveSeveralInterfacesInOnePcap(t *testing.T) {
	sys := newFakeSystem(livePackets()...)
	out := filepath.Join(t.TempDir(), "out.pcap")
	if r := runFake(t, sys, true, "-i", "eth0", "-i", "lo", "-w", out); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	rd, packets, _ := readFile(t, out)
	if rd.Format() != "pcap" || len(packets) != 6 || rd.Nanoseconds() {
		t.Errorf("%s file with %d packets (nanoseconds %v), want pcap with 6 in microseconds", rd.Format(), len(packets), rd.Nanoseconds())
	}
}

// -c counts packets of every interface together.
func TestLiveSeveralInterfacesCount(t *testing.T) {
	sys := newFakeSystem(livePackets()...)
	r := runFake(t, sys, false, "-i", "eth0", "-i", "eth1", "-c", "4", "--count")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "4 packets captured\n") {
		t.Errorf("%+v", r)
	}
}

// An interface that cannot be opened stops the command before any file
// is written, and closes those already open.
func TestLiveSeveralInterfacesOneMissing(t *testing.T) {
	sys := newFakeSystem(livePackets()...)
	out := filepath.Join(t.TempDir(), "out.pcapng")
	r := runFake(t, sys, false, "-i", "eth0", "-i", "eth9", "-w", out)
	if r.code != 1 || !strings.Contains(r.stderr, "eth9") {
		t.Errorf("%+v", r)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("the file was created")
	}
	if got := sys.events; !slices.Equal(got, []string{"open", "close"}) {
		t.Errorf("events %q, want eth0 opened and closed", got)
	}
}
