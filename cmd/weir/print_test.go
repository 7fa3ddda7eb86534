package main

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// summary prints one packet and returns the line without its timestamp.
func summary(t *testing.T, lt pcap.LinkType, data []byte) string {
	t.Helper()
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	p := newPrinter(w, lt, false, false)
	p.lookupInterface = func(index int) string {
		if index == 1 {
			return "lo"
		}
		return ""
	}
	if err := p.printPacket(pcap.CaptureInfo{Timestamp: testTime, Length: len(data)}, data); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	line := strings.TrimSuffix(out.String(), "\n")
	clock, rest, ok := strings.Cut(line, " ")
	if !ok || len(clock) != len("15:04:05.000000") {
		t.Fatalf("line %q does not start with a timestamp", line)
	}
	return rest
}

var (
	tcpV4   = ipv4Packet(protoTCP, tcpSegment(443, 51000, 120))
	udpV4   = ipv4Packet(protoUDP, udpDatagram(53, 5353, 30))
	pingV4  = ipv4Packet(protoICMP, icmpEcho(8, 1, 1, 56))
	tcpV6   = ipv6Packet(protoTCP, tcpSegment(443, 51000, 7))
	pingV6  = ipv6Packet(protoICMPv6, icmpEcho(128, 1, 2, 56))
	udpV6   = ipv6Packet(protoUDP, udpDatagram(5000, 53, 29))
	tcpText = "IP 198.18.0.1.443 > 198.18.0.2.51000: tcp 120"
)

func TestPrintLinkTypes(t *testing.T) {
	tests := []struct {
		name string
		lt   pcap.LinkType
		data []byte
		want string
	}{
		{"ether tcp", pcap.LinkTypeEthernet, ethernetFrame(0x0800, tcpV4), tcpText},
		{"ether udp", pcap.LinkTypeEthernet, ethernetFrame(0x0800, udpV4), "IP 198.18.0.1.53 > 198.18.0.2.5353: UDP, length 30"},
		{"ether icmp echo", pcap.LinkTypeEthernet, ethernetFrame(0x0800, pingV4),
			"IP 198.18.0.1 > 198.18.0.2: ICMP echo request, id 1, seq 1, length 64"},
		{"ether icmp6 echo", pcap.LinkTypeEthernet, ethernetFrame(0x86dd, pingV6),
			"IP6 fd00:beef::1 > fd00:beef::2: ICMP6, echo request, id 1, seq 2, length 64"},
		{"ether tcp6", pcap.LinkTypeEthernet, ethernetFrame(0x86dd, tcpV6), "IP6 fd00:beef::1.443 > fd00:beef::2.51000: tcp 7"},
		{"ether arp request", pcap.LinkTypeEthernet, ethernetFrame(0x0806, arpPacket(1)),
			"ARP, Request who-has 198.18.0.2 tell 198.18.0.1, length 28"},
		{"ether arp reply", pcap.LinkTypeEthernet, ethernetFrame(0x0806, arpPacket(2)),
			"ARP, Reply 198.18.0.1 is-at 02:00:00:00:00:01, length 28"},
		{"ether unknown type", pcap.LinkTypeEthernet, ethernetFrame(0x88b5, make([]byte, 46)), "ethertype 0x88b5, length 60"},
		{"ether vlan", pcap.LinkTypeEthernet, ethernetFrame(0x8100, append([]byte{0, 100, 8, 0}, tcpV4...)), tcpText},
		{"ether short", pcap.LinkTypeEthernet, []byte{1, 2, 3}, "[|ether]"},
		{"sll", pcap.LinkTypeLinuxSLL, sllFrame(0x0800, tcpV4), tcpText},
		{"sll arp", pcap.LinkTypeLinuxSLL, sllFrame(0x0806, arpPacket(1)), "ARP, Request who-has 198.18.0.2 tell 198.18.0.1, length 28"},
		{"sll2 known interface", pcap.LinkTypeLinuxSLL2, sll2Frame(0x0800, 1, 0, tcpV4), "lo    In  " + tcpText},
		{"sll2 unknown interface", pcap.LinkTypeLinuxSLL2, sll2Frame(0x86dd, 9, 4, udpV6),
			"?     Out IP6 fd00:beef::1.5000 > fd00:beef::2.53: UDP, length 29"},
		{"raw v4", pcap.LinkTypeRaw, tcpV4, tcpText},
		{"raw v6", pcap.LinkTypeRaw, pingV6, "IP6 fd00:beef::1 > fd00:beef::2: ICMP6, echo request, id 1, seq 2, length 64"},
		{"ipv4", pcap.LinkTypeIPv4, udpV4, "IP 198.18.0.1.53 > 198.18.0.2.5353: UDP, length 30"},
		{"ipv6", pcap.LinkTypeIPv6, tcpV6, "IP6 fd00:beef::1.443 > fd00:beef::2.51000: tcp 7"},
		{"null v4", pcap.LinkTypeNull, nullFrame(2, tcpV4), tcpText},
		{"null v6 freebsd", pcap.LinkTypeNull, nullFrame(28, tcpV6), "IP6 fd00:beef::1.443 > fd00:beef::2.51000: tcp 7"},
		{"null big-endian writer", pcap.LinkTypeNull, loopFrame(2, tcpV4), tcpText},
		{"null unknown family", pcap.LinkTypeNull, nullFrame(7, make([]byte, 10)), "AF ISO (7), length 14"},
		{"loop v4", pcap.LinkTypeLoop, loopFrame(2, tcpV4), tcpText},
		{"loop v6 darwin", pcap.LinkTypeLoop, loopFrame(30, pingV6),
			"IP6 fd00:beef::1 > fd00:beef::2: ICMP6, echo request, id 1, seq 2, length 64"},
		{"other link type", pcap.LinkTypePPP, []byte{0xff, 3, 0, 0x21}, "link-type PPP, length 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summary(t, tt.lt, tt.data); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPrintIPDetails(t *testing.T) {
	fragment := ipv4Packet(protoTCP, tcpSegment(1, 2, 10))
	fragment[7] = 0x10 // offset 16 bytes: no transport header
	hopByHop := ipv6Packet(protoHopByHop, append([]byte{protoTCP, 0, 1, 4, 0, 0, 0, 0}, tcpSegment(1, 2, 5)...))
	truncated := ipv4Packet(protoTCP, tcpSegment(1, 2, 10))[:22]
	badUDP := ipv4Packet(protoUDP, udpDatagram(1, 2, 4))
	badUDP[20+5] = 200 // UDP length beyond the IP payload
	unreachable := ipv4Packet(protoICMP, append([]byte{3, 3, 0, 0, 0, 0, 0, 0}, ipv4Packet(protoUDP, udpDatagram(5353, 53, 0))...))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"later fragment", fragment, "IP 198.18.0.1 > 198.18.0.2: ip-proto-6"},
		{"other protocol", ipv4Packet(253, make([]byte, 12)), "IP 198.18.0.1 > 198.18.0.2:  ip-proto-253 12"},
		{"ipv6 extension header", hopByHop, "IP6 fd00:beef::1.1 > fd00:beef::2.2: tcp 5"},
		{"truncated transport", truncated, "IP 198.18.0.1 > 198.18.0.2: [|tcp]"},
		{"truncated ip", tcpV4[:10], "IP [|ip]"},
		{"udp bad length", badUDP, "IP 198.18.0.1.1 > 198.18.0.2.2: UDP, bad length 192 > 4"},
		{"port unreachable", unreachable, "IP 198.18.0.1 > 198.18.0.2: ICMP 198.18.0.2 udp port 53 unreachable, length 36"},
		{"icmp echo reply", ipv4Packet(protoICMP, icmpEcho(0, 7, 9, 0)), "IP 198.18.0.1 > 198.18.0.2: ICMP echo reply, id 7, seq 9, length 8"},
		{"icmp unknown type", ipv4Packet(protoICMP, icmpEcho(99, 0, 0, 0)), "IP 198.18.0.1 > 198.18.0.2: ICMP type-#99, length 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summary(t, pcap.LinkTypeRaw, tt.data); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestAppendIPv6(t *testing.T) {
	tests := []struct {
		addr [16]byte
		want string
	}{
		{[16]byte{}, "::"},
		{[16]byte{15: 1}, "::1"},
		{[16]byte{0xfe, 0x80, 15: 1}, "fe80::1"},
		{[16]byte{0x20, 0x01, 0x0d, 0xb8, 5: 1, 7: 0, 9: 1, 15: 1}, "2001:db8:1:0:1::1"}, // single zero group kept
		{[16]byte{0x20, 0x01, 0x0d, 0xb8, 9: 1, 15: 1}, "2001:db8::1:0:0:1"},             // first longest run
		{[16]byte{10: 0xff, 11: 0xff, 12: 192, 13: 0, 14: 2, 15: 1}, "::ffff:192.0.2.1"}, // mapped
		{[16]byte{12: 192, 13: 0, 14: 2, 15: 1}, "::192.0.2.1"},                          // compatible
		{[16]byte{0x20, 0x01, 14: 0, 15: 0}, "2001::"},                                   // trailing run
		{[16]byte{0xff, 0x02, 11: 1, 12: 0xff, 13: 0x46, 14: 0xe8, 15: 0x84}, "ff02::1:ff46:e884"},
	}
	for _, tt := range tests {
		if got := string(appendIPv6(nil, tt.addr[:])); got != tt.want {
			t.Errorf("appendIPv6(%x) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestAppendClock(t *testing.T) {
	ts := time.Date(2024, 3, 9, 7, 5, 3, 4005, time.UTC)
	if got := string(appendClock(nil, ts, false)); got != "07:05:03.000004" {
		t.Errorf("micro: %q", got)
	}
	if got := string(appendClock(nil, ts, true)); got != "07:05:03.000004005" {
		t.Errorf("nano: %q", got)
	}
}

func TestPrintDoesNotAllocate(t *testing.T) {
	p := newPrinter(bufio.NewWriterSize(io.Discard, 4096), pcap.LinkTypeEthernet, false, false)
	frame := ethernetFrame(0x86dd, tcpV6)
	ci := pcap.CaptureInfo{Timestamp: testTime, Length: len(frame)}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := p.printPacket(ci, frame); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("printPacket allocates %v times per packet", allocs)
	}
}

// The lines weir prints are tcpdump -nq's, for the packets both decode
// the same way, on every link type weir summarises.
func TestPrintMatchesTcpdump(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	payloads := [][]byte{tcpV4, udpV4, pingV4, tcpV6, pingV6, udpV6,
		ipv4Packet(protoICMP, icmpEcho(0, 7, 9, 0)), ipv4Packet(253, make([]byte, 12))}
	frame := map[pcap.LinkType]func(ipPacket []byte) []byte{
		pcap.LinkTypeEthernet: func(p []byte) []byte { return ethernetFrame(etherTypeOf(p), p) },
		pcap.LinkTypeLinuxSLL: func(p []byte) []byte { return sllFrame(etherTypeOf(p), p) },
		pcap.LinkTypeRaw:      func(p []byte) []byte { return p },
		pcap.LinkTypeNull:     func(p []byte) []byte { return nullFrame(nullFamilyOf(p), p) },
		pcap.LinkTypeLoop:     func(p []byte) []byte { return loopFrame(nullFamilyOf(p), p) },
	}
	for lt, encapsulate := range frame {
		var packets [][]byte
		for _, p := range payloads {
			packets = append(packets, encapsulate(p))
		}
		if lt == pcap.LinkTypeEthernet {
			packets = append(packets, ethernetFrame(0x0806, arpPacket(1)), ethernetFrame(0x0806, arpPacket(2)))
		}
		path := writeCapture(t, lt, packets...)
		want, err := exec.Command(tcpdump, "-nq", "-r", path).Output()
		if err != nil {
			t.Fatalf("tcpdump: %v", err)
		}
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), []string{"-r", path}, nil, &stdout, &stderr, hostSystem{}); code != 0 {
			t.Fatalf("%s: exit %d: %s", lt, code, stderr.String())
		}
		if stdout.String() != string(want) {
			t.Errorf("%s: weir printed\n%s\ntcpdump printed\n%s", lt, stdout.String(), want)
		}
	}
}

func etherTypeOf(ipPacket []byte) uint16 {
	if ipPacket[0]>>4 == 6 {
		return 0x86dd
	}
	return 0x0800
}

func nullFamilyOf(ipPacket []byte) uint32 {
	if ipPacket[0]>>4 == 6 {
		return 24
	}
	return 2
}
