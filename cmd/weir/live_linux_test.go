package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// Live tests capture on the capture side of a veth pair (testutil.Veth)
// and inject frames from the peer. The frames go to a MAC address that is
// not the capture side's, so its stack drops them unanswered: the files
// must hold exactly the frames that match.

const (
	listening   = "listening on "
	liveTimeout = 10 * time.Second
)

// liveFrames is a mix with something for every expression of the table,
// including an 802.1Q frame whose tag the kernel takes out and weir must
// put back.
func liveFrames() [][]byte {
	vlanUDP := ethernetFrame(0x8100, append([]byte{0, 10, 8, 0}, ipv4Packet(protoUDP, udpDatagram(40000, 53, 12))...))
	broadcastARP := ethernetFrame(0x0806, arpPacket(1))
	copy(broadcastARP, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(broadcastARP[14+24:], []byte{198, 18, 0, 77}) // asks for nobody here
	return [][]byte{
		ethernetFrame(0x0800, tcpV4),
		ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(40000, 53, 20))),
		ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(5353, 5353, 40))),
		ethernetFrame(0x0800, ipv4Packet(1, icmpEcho(8, 7, 1, 32))),
		broadcastARP,
		ethernetFrame(0x86dd, pingV6),
		vlanUDP,
		ethernetFrame(0x0800, ipv4Packet(protoTCP, tcpSegment(51000, 80, 400))),
	}
}

// matching is what an expression keeps of frames in a live capture, as
// libpcap (checked against tcpdump on a veth): the kernel takes the outer
// VLAN tag out before the filter runs, so an expression that starts with
// "vlan" tests the tag kept aside and answers as offline on the frame as
// sent, while one without "vlan" sees the frame without its tag.
func matching(t *testing.T, expr string, frames [][]byte) [][]byte {
	t.Helper()
	prog, err := filter.Compile(expr, filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true, Savefile: true})
	if err != nil {
		t.Fatalf("compile %q: %v", expr, err)
	}
	vm, err := filter.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	seesTag := strings.HasPrefix(expr, "vlan")
	if !seesTag && strings.Contains(expr, "vlan") {
		t.Fatalf("%q: no simple model of its live verdict", expr)
	}
	var keep [][]byte
	for _, f := range frames {
		seen := f
		if !seesTag {
			seen = untagged(f)
		}
		if vm.Run(seen, len(seen)) != 0 {
			keep = append(keep, f)
		}
	}
	return keep
}

// untagged is a frame without its outer 802.1Q or 802.1ad tag.
func untagged(frame []byte) []byte {
	if tpid := binary.BigEndian.Uint16(frame[12:]); tpid != 0x8100 && tpid != 0x88a8 {
		return frame
	}
	return append(append([]byte(nil), frame[:12]...), frame[16:]...)
}

// liveRun is run() going on in the capture namespace.
type liveRun struct {
	cancel         context.CancelFunc
	stdout, stderr syncBuffer
	done           chan int
}

// quickRetireSystem is the machine with ring blocks handed over after
// 20 ms unless the command asks otherwise, as capture's live tests do:
// with the default second, every run waiting for -c would wait for it.
type quickRetireSystem struct{ hostSystem }

func (s quickRetireSystem) Open(cfg capture.Config) (liveSource, error) {
	if cfg.BlockTimeout == 0 {
		cfg.BlockTimeout = 20 * time.Millisecond
	}
	return s.hostSystem.Open(cfg)
}

// startLive runs the command in v's capture namespace until -c is
// reached or stop is called, and waits until it listens.
func startLive(t *testing.T, v *testutil.Veth, args ...string) *liveRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &liveRun{cancel: cancel, done: make(chan int, 1)}
	go func() {
		code := -1
		err := testutil.Do(v.Capture, func() error {
			code = run(ctx, args, nil, &r.stdout, &r.stderr, quickRetireSystem{})
			return nil
		})
		if err != nil {
			fmt.Fprintf(&r.stderr, "namespace: %v\n", err)
		}
		r.done <- code
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(liveTimeout):
		}
	})
	deadline := time.Now().Add(liveTimeout)
	for !strings.Contains(r.stderr.String(), listening) {
		select {
		case code := <-r.done:
			t.Fatalf("weir %q exited (%d) before listening:\n%s", args, code, r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("weir %q did not listen in %v:\n%s", args, liveTimeout, r.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return r
}

// wait returns the exit status once the command ends by itself (-c).
func (r *liveRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(liveTimeout):
		t.Fatalf("weir did not stop in %v:\n%s", liveTimeout, r.stderr.String())
		return -1
	}
}

// stop is the signal: cancel, and wait for the ring to be drained.
func (r *liveRun) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	return r.wait(t)
}

// readPackets reads a pcap file's packets and checks that Wireshark's
// reader takes it without complaint: capinfos, quick to start (tsharkReads
// runs the whole dissector on a file of each test).
func readPackets(t *testing.T, path string) (*pcap.Reader, [][]byte, []pcap.CaptureInfo) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, packets := readCapture(t, data)
	rr, _ := pcap.NewReader(bytes.NewReader(data))
	var infos []pcap.CaptureInfo
	for {
		_, ci, err := rr.ReadPacket()
		if err != nil {
			break
		}
		infos = append(infos, ci)
	}
	capinfos := testutil.RequireTool(t, "capinfos", "tshark")
	out, err := exec.Command(capinfos, "-c", path).CombinedOutput()
	if want := fmt.Sprintf("Number of packets:   %d", len(packets)); err != nil || !strings.Contains(string(out), want) {
		t.Errorf("capinfos -c %s: %v, want %q\n%s", path, err, want, out)
	}
	return r, packets, infos
}

// tsharkReads checks that tshark reads and dissects a file with no error.
func tsharkReads(t *testing.T, path string) {
	t.Helper()
	tshark := testutil.RequireTool(t, "tshark", "tshark")
	out, err := exec.Command(tshark, "-r", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "appears to have been cut short") {
		t.Errorf("tshark -r %s: %v\n%s", path, err, out)
	}
}

var liveTable = []string{
	"",
	"tcp",
	"udp port 53",
	"icmp or arp",
	"ip6",
	"vlan 10",
	"vlan and udp port 53",
	"not udp",
	"ether broadcast",
	"greater 200",
	"tcp port 80 or udp port 5353",
}

// Every expression of the table captures, byte for byte, the frames the
// offline VM says match. The captures run side by side; a witness without
// a filter and with -c stops once every frame has arrived.
func TestLiveFileHoldsExactlyTheMatchingFrames(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := liveFrames()
	dir := t.TempDir()
	witness := filepath.Join(dir, "witness.pcap")
	wrun := startLive(t, v, "-i", testutil.CaptureIf, "-c", strconv.Itoa(len(frames)), "-w", witness)
	runs := make([]*liveRun, len(liveTable))
	for i, expr := range liveTable {
		runs[i] = startLive(t, v, "-i", testutil.CaptureIf, "-w", filepath.Join(dir, fmt.Sprintf("%d.pcap", i)), expr)
	}
	v.Inject(t, frames...)
	if code := wrun.wait(t); code != 0 {
		t.Fatalf("witness exit %d:\n%s", code, wrun.stderr.String())
	}
	_, got, _ := readPackets(t, witness)
	samePackets(t, "witness", got, frames)
	tsharkReads(t, witness)
	for i, expr := range liveTable {
		if code := runs[i].stop(t); code != 0 {
			t.Errorf("%q: exit %d:\n%s", expr, code, runs[i].stderr.String())
			continue
		}
		want := matching(t, expr, frames)
		r, got, _ := readPackets(t, filepath.Join(dir, fmt.Sprintf("%d.pcap", i)))
		samePackets(t, fmt.Sprintf("%q", expr), got, want)
		if r.LinkType() != pcap.LinkTypeEthernet || r.Nanoseconds() {
			t.Errorf("%q: file link type %v, nanoseconds %v", expr, r.LinkType(), r.Nanoseconds())
		}
		wantErr := listening + testutil.CaptureIf + ", link-type EN10MB (Ethernet), snapshot length 262144 bytes\n" +
			fmt.Sprintf("%d packet%s captured\n", len(want), plural(len(want)))
		if stderr := runs[i].stderr.String(); !strings.HasPrefix(stderr, "weir: "+wantErr) ||
			!strings.Contains(stderr, fmt.Sprintf("\n%d packet%s received by filter\n0 packets dropped by kernel\n", len(want), plural(len(want)))) {
			t.Errorf("%q: stderr\n%s", expr, stderr)
		}
	}
}

// sll2Payload checks a LINUX_SLL2 record of a frame received on ifindex
// and returns what follows the header.
func sll2Payload(t *testing.T, rec []byte, ifindex int) []byte {
	t.Helper()
	if len(rec) < 20 {
		t.Fatalf("record of %d bytes", len(rec))
	}
	if got := int(binary.BigEndian.Uint32(rec[4:])); got != ifindex {
		t.Errorf("interface index %d, want %d", got, ifindex)
	}
	if rec[10] == 4 {
		t.Errorf("received frame marked outgoing")
	}
	return rec[20:]
}

func TestLiveAnyInterface(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := liveFrames()[:4]
	out := filepath.Join(t.TempDir(), "any.pcap")
	r := startLive(t, v, "-i", "any", "-c", "4", "-w", out, "ip")
	v.Inject(t, frames...)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	if !strings.HasPrefix(r.stderr.String(), "weir: data link type LINUX_SLL2\nweir: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n") {
		t.Errorf("stderr\n%s", r.stderr.String())
	}
	tsharkReads(t, out)
	rd, got, _ := readPackets(t, out)
	if rd.LinkType() != pcap.LinkTypeLinuxSLL2 {
		t.Fatalf("file link type %v", rd.LinkType())
	}
	if len(got) != len(frames) {
		t.Fatalf("%d packets, want %d", len(got), len(frames))
	}
	for i, rec := range got {
		if p := sll2Payload(t, rec, v.CaptureIndex); !bytes.Equal(p, frames[i][14:]) {
			t.Errorf("packet %d payload\n got %x\nwant %x", i, p, frames[i][14:])
		}
	}
}

func TestLiveDirection(t *testing.T) {
	v := testutil.NewVeth(t)
	in := [][]byte{ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(1000, 1001, 8)))}
	out := [][]byte{ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(2000, 2001, 8)))}
	dir := t.TempDir()
	runs := map[string]*liveRun{}
	for _, q := range []string{"in", "out", "inout"} {
		runs[q] = startLive(t, v, "-i", testutil.CaptureIf, "-Q", q, "-w", filepath.Join(dir, q+".pcap"), "udp")
	}
	witness := startLive(t, v, "-i", testutil.CaptureIf, "-c", "2", "-w", filepath.Join(dir, "all.pcap"), "udp")
	v.Inject(t, in...)
	v.InjectOut(t, out...)
	witness.wait(t)
	want := map[string][][]byte{"in": in, "out": out, "inout": {in[0], out[0]}}
	for q, r := range runs {
		if code := r.stop(t); code != 0 {
			t.Fatalf("-Q %s: exit %d:\n%s", q, code, r.stderr.String())
		}
		_, got, _ := readPackets(t, filepath.Join(dir, q+".pcap"))
		samePackets(t, "-Q "+q, got, want[q])
	}
}

func TestLiveSnaplenCountAndNanoseconds(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := [][]byte{
		ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(7, 7, 300))),
		ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(7, 7, 10))),
		ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(7, 7, 500))),
	}
	out := filepath.Join(t.TempDir(), "s.pcap")
	before := time.Now()
	r := startLive(t, v, "-i", testutil.CaptureIf, "-s", "64", "-c", "2", "--nano", "-w", out, "udp")
	if !strings.Contains(r.stderr.String(), "snapshot length 64 bytes") {
		t.Errorf("stderr\n%s", r.stderr.String())
	}
	v.Inject(t, frames...)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	if !strings.Contains(r.stderr.String(), "\n2 packets captured\n") {
		t.Errorf("stderr\n%s", r.stderr.String())
	}
	tsharkReads(t, out)
	rd, got, infos := readPackets(t, out)
	if !rd.Nanoseconds() || rd.Snaplen() != 64 {
		t.Errorf("file nanoseconds %v, snaplen %d", rd.Nanoseconds(), rd.Snaplen())
	}
	samePackets(t, "-s 64 -c 2", got, [][]byte{frames[0][:64], frames[1]})
	for i, ci := range infos {
		if ci.Length != len(frames[i]) {
			t.Errorf("packet %d original length %d, want %d", i, ci.Length, len(frames[i]))
		}
		if ci.Timestamp.Before(before.Add(-time.Second)) || ci.Timestamp.After(time.Now().Add(time.Second)) {
			t.Errorf("packet %d timestamp %v is not now", i, ci.Timestamp)
		}
	}
}

// Without -w the packets are printed, in the offline printer's words.
func TestLivePrintsPackets(t *testing.T) {
	v := testutil.NewVeth(t)
	r := startLive(t, v, "-n", "-i", testutil.CaptureIf, "-c", "2", "tcp or arp")
	v.Inject(t, liveFrames()[:5]...)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " "+tcpText) ||
		!strings.HasSuffix(lines[1], " ARP, Request who-has 198.18.0.77 tell 198.18.0.1, length 28") {
		t.Errorf("stdout\n%s", r.stdout.String())
	}
}

// --fanout 2 reads two sockets of one fanout group into one file: every
// frame once. (The order across the sockets is the capture's merge's.)
func TestLiveFanout(t *testing.T) {
	v := testutil.NewVeth(t)
	var frames [][]byte
	for port := uint16(1000); port < 1016; port++ { // flows hash to both sockets
		frames = append(frames, ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(port, 53, 8))))
	}
	out := filepath.Join(t.TempDir(), "fanout.pcap")
	r := startLive(t, v, "--fanout", "2", "-i", testutil.CaptureIf, "-c", strconv.Itoa(len(frames)), "-w", out, "udp")
	v.Inject(t, frames...)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	_, got, _ := readPackets(t, out)
	sortFrames := func(f [][]byte) [][]byte {
		f = slices.Clone(f)
		slices.SortFunc(f, bytes.Compare)
		return f
	}
	samePackets(t, "--fanout 2", sortFrames(got), sortFrames(frames))
}

func TestLivePromiscuousMode(t *testing.T) {
	v := testutil.NewVeth(t)
	base := v.Promiscuity(t)
	r := startLive(t, v, "-i", testutil.CaptureIf, "-w", os.DevNull)
	if got := v.Promiscuity(t); got != base+1 {
		t.Errorf("promiscuity %d while capturing, want %d", got, base+1)
	}
	r.stop(t)
	r = startLive(t, v, "-p", "-i", testutil.CaptureIf, "-w", os.DevNull)
	if got := v.Promiscuity(t); got != base {
		t.Errorf("promiscuity %d with -p, want %d", got, base)
	}
	r.stop(t)
}

func TestLiveRawIPInterface(t *testing.T) {
	v := testutil.NewVeth(t)
	tun := v.AddTun(t)
	out := filepath.Join(t.TempDir(), "tun.pcap")
	r := startLive(t, v, "-i", testutil.TunIf, "-c", "1", "-w", out, "udp port 53")
	if !strings.Contains(r.stderr.String(), "link-type RAW (Raw IP)") {
		t.Errorf("stderr\n%s", r.stderr.String())
	}
	packets := [][]byte{tcpV4, ipv4Packet(protoUDP, udpDatagram(40000, 53, 20))}
	tun.Write(t, packets...)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	_, got, _ := readPackets(t, out)
	samePackets(t, "tun", got, packets[1:])
}

// nsPrefix runs a child process in the capture namespace.
func nsPrefix(v *testutil.Veth) []string {
	return []string{"nsenter", fmt.Sprintf("--net=/proc/%d/fd/%d", os.Getpid(), int(v.Capture)), "--"}
}

func startChild(t *testing.T, v *testutil.Veth, stdoutPipe bool, args ...string) (*weirChild, io.Reader) {
	t.Helper()
	testutil.RequireTool(t, "nsenter", "util-linux")
	c, out := startWeir(t, nsPrefix(v), stdoutPipe, args...)
	c.waitStderr(listening, liveTimeout)
	return c, out
}

// SIGINT, SIGTERM and SIGHUP stop a capture cleanly: the ring is drained,
// the file complete, the statistics printed.
func TestLiveSignalsStopCleanly(t *testing.T) {
	v := testutil.NewVeth(t)
	frames := liveFrames()[:3]
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		out := filepath.Join(t.TempDir(), "sig.pcap")
		c, _ := startChild(t, v, false, "-i", testutil.CaptureIf, "-w", out)
		v.Inject(t, frames...)
		// Give the frames time to reach the ring, not to be handed over:
		// the capture must drain the block the kernel still holds.
		time.Sleep(100 * time.Millisecond)
		c.signal(sig)
		if code := c.wait(liveTimeout); code != 0 {
			t.Errorf("%v: exit %d:\n%s", sig, code, c.stderr.String())
		}
		if !strings.HasSuffix(c.stderr.String(), "3 packets captured\n3 packets received by filter\n0 packets dropped by kernel\n") {
			t.Errorf("%v: stderr\n%s", sig, c.stderr.String())
		}
		_, got, _ := readPackets(t, out)
		samePackets(t, sig.String(), got, frames)
	}
}

// procIDs reads the real, effective, saved and filesystem IDs of a
// process from /proc: "Uid:" or "Gid:".
func procIDs(t *testing.T, pid int, field string) string {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			return strings.Join(strings.Fields(rest), " ")
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return ""
}

// -Z nobody: the capture runs as nobody, the file (created by root before)
// is complete.
func TestLiveRelinquishPrivileges(t *testing.T) {
	v := testutil.NewVeth(t)
	out := filepath.Join(t.TempDir(), "z.pcap")
	c, _ := startChild(t, v, false, "-Z", "nobody", "-i", testutil.CaptureIf, "-w", out, "udp")
	pid := c.cmd.Process.Pid
	if got := procIDs(t, pid, "Uid:"); got != "65534 65534 65534 65534" {
		t.Errorf("uids %q, want nobody's", got)
	}
	if got := procIDs(t, pid, "Gid:"); got != "65534 65534 65534 65534" {
		t.Errorf("gids %q, want nogroup's", got)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatalf("output file not created before the privilege drop: %v", err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 0 {
		t.Errorf("file owned by %d, want root (created before the drop)", uid)
	}
	frames := liveFrames()[1:3]
	v.Inject(t, frames...)
	time.Sleep(100 * time.Millisecond)
	c.signal(syscall.SIGINT)
	if code := c.wait(liveTimeout); code != 0 {
		t.Fatalf("exit %d:\n%s", code, c.stderr.String())
	}
	_, got, _ := readPackets(t, out)
	samePackets(t, "-Z nobody", got, frames)
	tsharkReads(t, out)
}

// -U -w -: a reader of the pipe sees each packet while the capture goes
// on, in pcap and in pcapng.
func TestLivePacketBufferedStreams(t *testing.T) {
	v := testutil.NewVeth(t)
	for _, format := range []string{"pcap", "pcapng"} {
		t.Run(format, func(t *testing.T) { packetBufferedStream(t, v, format) })
	}
}

func packetBufferedStream(t *testing.T, v *testutil.Veth, format string) {
	c, stdout := startChild(t, v, true, "-U", "-i", testutil.CaptureIf, "--format", format, "-w", "-", "udp")
	type read struct {
		data []byte
		err  error
	}
	reads := make(chan read, 4)
	go func() {
		r, err := pcap.NewReader(stdout)
		if err == nil && r.Format() != format {
			err = fmt.Errorf("the stream is %s", r.Format())
		}
		if err != nil {
			reads <- read{err: err}
			return
		}
		for {
			p, _, err := r.ReadPacket()
			reads <- read{bytes.Clone(p), err}
			if err != nil {
				return
			}
		}
	}()
	for i, f := range liveFrames()[1:3] {
		v.Inject(t, f)
		select {
		case got := <-reads:
			if got.err != nil || !bytes.Equal(got.data, f) {
				t.Fatalf("packet %d: %x, %v", i, got.data, got.err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("packet %d not on the pipe 2 s after it was sent", i)
		}
	}
	c.signal(syscall.SIGINT)
	if code := c.wait(liveTimeout); code != 0 {
		t.Fatalf("exit %d:\n%s", code, c.stderr.String())
	}
	if got := <-reads; got.err != io.EOF {
		t.Errorf("after the end: %x, %v", got.data, got.err)
	}
}

func TestLiveNoSuchInterface(t *testing.T) {
	v := testutil.NewVeth(t)
	var stdout, stderr bytes.Buffer
	code := -1
	testutil.Do(v.Capture, func() error {
		code = run(t.Context(), []string{"-i", "eth9"}, nil, &stdout, &stderr, hostSystem{})
		return nil
	})
	if code != 1 || stderr.String() != "weir: eth9: no such interface\n" {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestLiveFileWrittenWhileWaiting: without -U, the packets gathered reach
// the file whenever the capture waits for the next ones, not only once a
// buffer fills or the capture ends.
func TestLiveFileWrittenWhileWaiting(t *testing.T) {
	v := testutil.NewVeth(t)
	out := filepath.Join(t.TempDir(), "w.pcap")
	r := startLive(t, v, "-i", testutil.CaptureIf, "-w", out, "udp")
	var frames [][]byte
	for i := range 5 {
		frames = append(frames, ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(uint16(3000+i), 53, 100))))
	}
	v.Inject(t, frames...)
	deadline := time.Now().Add(liveTimeout)
	for {
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := readCapture(t, data); len(got) == len(frames) {
			samePackets(t, "while waiting", got, frames)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file holds %d bytes %v after the packets came, not the %d packets", len(data), liveTimeout, len(frames))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
}
