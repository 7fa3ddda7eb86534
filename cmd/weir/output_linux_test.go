package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// sendLoopbackUDP sends one datagram to 127.0.0.1 inside the capture
// namespace.
func sendLoopbackUDP(t *testing.T, v *testutil.Veth, port int, payload string) {
	t.Helper()
	err := testutil.Do(v.Capture, func() error {
		conn, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = conn.Write([]byte(payload))
		return err
	})
	if err != nil {
		t.Fatalf("sending on lo: %v", err)
	}
}

// Two interfaces into one pcapng file, as Wireshark shows it: interface
// names, the filter, directions and each interface's statistics.
func TestLiveTwoInterfacesPcapng(t *testing.T) {
	tshark := testutil.RequireTool(t, "tshark", "tshark")
	v := testutil.NewVeth(t)
	v.LoopbackUp(t)
	out := filepath.Join(t.TempDir(), "two.pcapng")
	r := startLive(t, v, "-i", testutil.CaptureIf, "-i", "lo", "-w", out, "udp")
	// startLive returns at the first "listening" line; wait for the second.
	for deadline := time.Now().Add(liveTimeout); strings.Count(r.stderr.String(), listening) < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("one interface only is listening:\n%s", r.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	in := ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(1000, 1001, 8)))
	outgoing := ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(2000, 2001, 8)))
	v.Inject(t, in, ethernetFrame(0x0800, tcpV4))
	v.InjectOut(t, outgoing)
	sendLoopbackUDP(t, v, 9, "weir")
	time.Sleep(200 * time.Millisecond)
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	if !strings.Contains(r.stderr.String(), "3 packets captured\n3 packets received by filter\n0 packets dropped by kernel\n") {
		t.Errorf("stderr:\n%s", r.stderr.String())
	}

	args := []string{"-r", out, "-T", "fields", "-E", "separator=|", "-e", "frame.interface_name",
		"-e", "frame.packet_flags_direction", "-e", "udp.dstport"}
	got, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	want := map[string]bool{
		testutil.CaptureIf + "|0x00000001|1001": true, // in
		testutil.CaptureIf + "|0x00000002|2001": true, // out
		"lo|0x00000001|9":                       true, // the loopback copy kept is the incoming one
	}
	for _, l := range lines {
		if !want[l] {
			t.Errorf("tshark shows %q, not one of %v", l, want)
		}
		delete(want, l)
	}
	if len(want) != 0 {
		t.Errorf("tshark does not show %v (it shows %q)", want, lines)
	}

	stats, err := exec.Command(tshark, "-r", out, "-X", "read_format:MIME Files Format", "-T", "fields", "-E", "separator=|",
		"-e", "pcapng.options.option.data.interface.name", "-e", "pcapng.options.option.data.interface.filter.string",
		"-e", "pcapng.options.option.data.interface.delivered_to_user", "-e", "pcapng.options.option.data.interface.dropped").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	wantStats := testutil.CaptureIf + ",lo|udp,udp|2,1|0,0"
	if got := strings.Join(strings.Fields(strings.ReplaceAll(string(stats), "\n", " ")), ""); !strings.Contains(got, wantStats) {
		t.Errorf("blocks as Wireshark reads them: %q, want interface names, filters, delivered and dropped %q", stats, wantStats)
	}
}

// -G with -W: a new file every second, and weir ends by itself, with
// status 0, after the second, as tcpdump does.
func TestLiveRotatesByTimeAndStops(t *testing.T) {
	v := testutil.NewVeth(t)
	dir := t.TempDir()
	r := startLive(t, v, "-i", testutil.CaptureIf, "-G", "1", "-W", "2", "-w", filepath.Join(dir, "g-%s.pcapng"), "udp")
	frame := ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(1000, 1001, 8)))
	deadline := time.Now().Add(8 * time.Second)
	sent := 0
	for done := false; !done && time.Now().Before(deadline); sent++ {
		v.Inject(t, frame)
		select {
		case code := <-r.done:
			r.done <- code
			done = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	names, err := filepath.Glob(filepath.Join(dir, "g-*.pcapng"))
	if err != nil || len(names) != 2 {
		t.Fatalf("files %q (%v), want 2", names, err)
	}
	total := 0
	for _, name := range names {
		rd, got, _ := readFile(t, name)
		// The first file may be empty: as tcpdump, weir compares whole
		// seconds, so a file opened at x.99 s closes at the first packet
		// after x+1.
		if rd.Format() != "pcapng" {
			t.Errorf("%s: %s", name, rd.Format())
		}
		tsharkReads(t, name)
		total += len(got)
	}
	// The packet that found the file limit reached is not written.
	if total < sent-2 || total > sent {
		t.Errorf("%d packets in the files, %d sent", total, sent)
	}
}

// -C on a live capture: every packet in exactly one file.
func TestLiveRotatesBySize(t *testing.T) {
	v := testutil.NewVeth(t)
	dir := t.TempDir()
	frames := manyPackets(200)
	r := startLive(t, v, "-i", testutil.CaptureIf, "-c", "200", "-C", "4k", "-w", filepath.Join(dir, "c.pcap"), "udp")
	v.Inject(t, frames...)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	var all [][]byte
	names := rotatedFiles(t, dir, "c.pcap")
	if len(names) < 4 {
		t.Fatalf("files %q, want several", names)
	}
	for _, name := range names {
		_, got, _ := readPackets(t, filepath.Join(dir, name))
		all = append(all, got...)
	}
	samePackets(t, "rotated live capture", all, frames)
	if _, err := os.Stat(filepath.Join(dir, "c.pcap1")); err != nil {
		t.Error(err)
	}
}

// A full disk ends the copy with a clear error and status 1; the file
// holds whole packets, the first ones of the input.
func TestRunFullDisk(t *testing.T) {
	testutil.RequireRoot(t, "CAP_SYS_ADMIN")
	packets := manyPackets(3000)
	in := writeCapture(t, pcap.LinkTypeEthernet, packets...)
	for _, name := range []string{"full.pcap", "full.pcapng"} {
		out := filepath.Join(testutil.SmallTmpfs(t, "64k"), name)
		r := runWeir(t, nil, "-r", in, "-w", out)
		if r.code != 1 || !strings.Contains(r.stderr, "weir: "+out+": No space left on device\n") {
			t.Errorf("%s: exit %d, stderr %q: want status 1 and ENOSPC named", name, r.code, r.stderr)
		}
		_, got, _ := readFile(t, out)
		if len(got) == 0 {
			t.Fatalf("%s: no packet kept", name)
		}
		samePackets(t, name, got, packets[:len(got)])
		tsharkReads(t, out)
	}
}

// kill -9 during a capture with -U: every packet written so far is in the
// file, which reads cleanly.
func TestLiveKilledKeepsWrittenPackets(t *testing.T) {
	v := testutil.NewVeth(t)
	for _, name := range []string{"killed.pcap", "killed.pcapng"} {
		out := filepath.Join(t.TempDir(), name)
		c, _ := startChild(t, v, false, "-U", "-i", testutil.CaptureIf, "-w", out, "udp")
		frames := manyPackets(5)
		v.Inject(t, frames...)
		deadline := time.Now().Add(liveTimeout)
		for n := 0; n < len(frames); n = packetsSoFar(out) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d packets in the file after %v", name, n, liveTimeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.signal(syscall.SIGKILL)
		c.wait(liveTimeout)
		_, got, _ := readPackets(t, out)
		samePackets(t, name, got, frames)
		tsharkReads(t, out)
	}
}

// packetsSoFar counts the packets of a file being written: those before
// the end or the first one not whole yet.
func packetsSoFar(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil {
		return 0
	}
	n := 0
	for ; ; n++ {
		if _, _, err := r.ReadPacket(); err != nil {
			return n
		}
	}
}
