package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/internal/testutil"
)

// pings sends n ICMP echo requests from the peer to the capture side and
// counts the replies that come back within a moment.
func pings(t *testing.T, v *testutil.Veth, n int) int {
	t.Helper()
	replies := 0
	err := testutil.Do(v.Peer, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		tv := unix.NsecToTimeval(int64(300 * time.Millisecond))
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return err
		}
		to := &unix.SockaddrInet4{Addr: testutil.CaptureAddr4.As4()}
		for seq := range n {
			echo := []byte{8, 0, 0, 0, 0x77, 0x65, 0, byte(seq)}
			sum := ^checksum16(echo)
			echo[2], echo[3] = byte(sum>>8), byte(sum)
			if err := unix.Sendto(fd, echo, 0, to); err != nil {
				return err
			}
		}
		buf := make([]byte, 1500)
		for {
			m, _, err := unix.Recvfrom(fd, buf, 0)
			if errors.Is(err, unix.EAGAIN) {
				return nil
			}
			if err != nil {
				return err
			}
			if m >= 28 && buf[20] == 0 && buf[24] == 0x77 { // echo reply, ours
				replies++
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return replies
}

func checksum16(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// TestLiveRulesDropAtXDP: a drop rule at XDP really drops (the peer's
// pings get no reply while weir runs, and do after), the dropped packets
// are still captured, each packet's pcapng comment names its rule, a
// rule's snap length holds, and the rules' counters are printed.
func TestLiveRulesDropAtXDP(t *testing.T) {
	v := testutil.NewVeth(t)
	if pings(t, v, 3) != 3 {
		t.Fatal("the capture side does not answer pings: no drop could be seen")
	}
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	text := `rules:
  - name: pings
    match: icmp and src host 198.18.0.2
    action: drop
    capture: true
  - name: quiet
    match: udp port 5353
    action: pass
  - name: udp
    match: udp
    snaplen: 60
`
	if err := os.WriteFile(rulesPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.pcapng")
	r := startLive(t, v, "--xdp", "--rules", rulesPath, "-i", testutil.CaptureIf, "-w", out)
	if got := pings(t, v, 3); got != 0 {
		t.Errorf("%d pings answered with the drop rule in place", got)
	}
	v.Inject(t,
		ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(5353, 5353, 40))),
		ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(40000, 53, 100))),
	)
	time.Sleep(100 * time.Millisecond)
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	if pings(t, v, 2) != 2 {
		t.Error("pings unanswered after weir ended: the XDP program stayed")
	}
	_, packets, infos := readPackets(t, out)
	var comments []string
	for _, ci := range infos {
		comments = append(comments, ci.Comment)
	}
	if want := "rule: pings,rule: pings,rule: pings,rule: udp"; strings.Join(comments, ",") != want {
		t.Errorf("comments %q, want %s", comments, want)
	}
	tshark := testutil.RequireTool(t, "tshark", "tshark")
	shown, err := exec.Command(tshark, "-r", out, "-Y", `frame.comment contains "pings"`, "-T", "fields", "-e", "frame.number").Output()
	if err != nil || strings.Fields(string(shown)) == nil || len(strings.Fields(string(shown))) != 3 {
		t.Errorf("tshark's frame.comment filter found %q (%v), want the 3 packets of rule pings", shown, err)
	}
	if n := len(packets); n == 4 && (len(packets[3]) != 60 || infos[3].Length != 14+20+8+100) {
		t.Errorf("udp rule's packet: %d of %d bytes, want 60 of %d", len(packets[3]), infos[3].Length, 14+20+8+100)
	}
	stderr := r.stderr.String()
	for _, want := range []string{
		`rule "pings": 3 matched, 0 sampled out, 0 rate-limited, 3 captured, 3 dropped`,
		`rule "quiet": 1 matched, 0 sampled out, 0 rate-limited, 0 captured, 0 dropped`,
		`rule "udp": 1 matched, 0 sampled out, 0 rate-limited, 1 captured, 0 dropped`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestLiveRulesOnSocketFilter: rules run as an eBPF socket filter too:
// the first matching rule decides, its snap length holds, a pass rule
// keeps nothing, and the counters are printed.
func TestLiveRulesOnSocketFilter(t *testing.T) {
	v := testutil.NewVeth(t)
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	text := "rules:\n  - name: quiet\n    match: udp port 5353\n    action: pass\n  - name: udp\n    match: udp\n    snaplen: 60\n"
	if err := os.WriteFile(rulesPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.pcap")
	mdns := ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(5353, 5353, 40)))
	dns := ethernetFrame(0x0800, ipv4Packet(protoUDP, udpDatagram(40000, 53, 100)))
	tcp := ethernetFrame(0x0800, ipv4Packet(protoTCP, tcpSegment(40000, 80, 0)))
	r := startLive(t, v, "--ebpf", "--rules", rulesPath, "-i", testutil.CaptureIf, "-w", out)
	v.Inject(t, mdns, dns, tcp, dns)
	time.Sleep(100 * time.Millisecond)
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	_, got, infos := readPackets(t, out)
	if len(got) != 2 || len(got[0]) != 60 || infos[0].Length != len(dns) || !bytes.Equal(got[1], dns[:60]) {
		t.Errorf("%d packets (%v), want the two DNS frames cut to 60 bytes", len(got), infos)
	}
	stderr := r.stderr.String()
	for _, want := range []string{
		"warning: with --ebpf the packets do not carry their rule",
		`rule "quiet": 1 matched, 0 sampled out, 0 rate-limited, 0 captured, 0 dropped`,
		`rule "udp": 2 matched, 0 sampled out, 0 rate-limited, 2 captured, 0 dropped`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
