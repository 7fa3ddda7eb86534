package filter

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// Goldens for protochain, llc, decnet and the other legacy words, recorded
// from the local tcpdump by -update: the unoptimized programs (or
// tcpdump's refusal) per link type, and the packets tcpdump keeps from a
// set built here (DECnet routing headers, LLC frame kinds, IPv4 and IPv6
// header chains).
var (
	legacyProgramsGolden = filepath.Join("testdata", "legacy", "programs.golden")
	legacyVerdictsGolden = filepath.Join("testdata", "legacy", "verdicts.golden")
)

var legacyLinkTypes = []string{"EN10MB", "LINUX_SLL", "LINUX_SLL2", "RAW", "PPP", "C_HDLC", "NULL"}

// legacyProgramExpressions compile on every link type of legacyLinkTypes.
var legacyProgramExpressions = []string{
	"protochain 6", "ip protochain 17", "ip6 protochain 58", "ip6 protochain 0",
	"protochain 256", "ip protochain \\ah", "tcp protochain 6", "ether protochain 6",
	"vlan and protochain 6", "vlan 10 and ip6 protochain 17", "mpls and ip protochain 6",
	"pppoes and protochain 17", "geneve and protochain 6", "protochain 6 and protochain 17",
	"not protochain 6 or ip6 protochain 44", "protochain 6 and tcp port 80",
	"llc", "llc i", "llc s", "llc u", "llc rr", "llc rnr", "llc rej", "llc ui", "llc ua",
	"llc disc", "llc dm", "llc sabme", "llc test", "llc xid", "llc frmr", "llc UI", "llc Sabme",
	"llc rulenum", "llc nosuch", "not llc", "llc and stp", "vlan and llc u", "pppoes and llc",
	"geneve and llc s", "llc or ip",
	"decnet host 1.4", "decnet src 1.4", "decnet dst 50.764", "decnet host 1028",
	"decnet net 2.3", "decnet src and dst 1.1", "decnet src or dst 63.1023", "decnet host 64.120",
	"decnet host 1.2.3", "decnet net 1.0/8", "decnet host 0x10.5", "decnet host foo",
	"decnet host ::1", "decnet addr1 1.2", "vlan and decnet host 1.4", "mpls and decnet host 1.4",
	"decnet and decnet src 1.4", "not decnet host 1.4",
	"stp", "ipx", "netbeui", "iso", "esis", "isis", "clnp", "l1", "l2", "iih", "lsp", "snp",
	"csnp", "psnp", "atalk", "aarp", "decnet", "lat", "mopdl", "moprc", "sca",
	"isis proto 20", "iso proto \\isis", "ip6 multicast", "ip multicast",
	"gateway 1.2.3.4", "ip gateway 10.0.0.1",
}

// legacyVerdictExpressions run on the packets of legacyPackets.
var legacyVerdictExpressions = []string{
	"protochain 6", "protochain 17", "protochain 58", "protochain 51", "protochain 59",
	"protochain 44", "protochain 0", "protochain 60", "ip protochain 6", "ip protochain 17",
	"ip protochain 51", "ip6 protochain 6", "ip6 protochain 17", "ip6 protochain 43",
	"ip6 protochain 58", "ip6 protochain 59", "vlan and protochain 6", "not protochain 6",
	"llc", "llc i", "llc s", "llc u", "llc rr", "llc rnr", "llc rej", "llc ui", "llc ua",
	"llc disc", "llc dm", "llc sabme", "llc test", "llc xid", "llc frmr", "not llc",
	"decnet host 1.4", "decnet src 1.4", "decnet dst 1.4", "decnet dst 2.3", "decnet src 2.3",
	"decnet host 1028", "decnet src and dst 1.4", "decnet dst 1.4 and decnet src 2.3",
	"decnet net 5.6", "decnet host 7.8", "decnet", "stp", "ipx", "netbeui", "iso",
}

// legacyPacket is an Ethernet frame; caplen 0 keeps all of it.
type legacyPacket struct {
	desc   string
	data   []byte
	caplen int
}

var (
	legacyDstMAC = []byte{0x02, 0, 0, 0, 0, 0x01}
	legacySrcMAC = []byte{0x02, 0, 0, 0, 0, 0x02}
)

func etherFrame(ethertype uint16, payload ...[]byte) []byte {
	b := slices.Concat(legacyDstMAC, legacySrcMAC, []byte{byte(ethertype >> 8), byte(ethertype)})
	return slices.Concat(append([][]byte{b}, payload...)...)
}

// ether8023 is an 802.3 frame with an LLC header and some data.
func ether8023(dsap, ssap, control byte) []byte {
	body := append([]byte{dsap, ssap, control}, bytes.Repeat([]byte{'L'}, 43)...)
	return etherFrame(uint16(len(body)), body)
}

// decnetAddr is a DECnet "area.node" in the little-endian wire form.
func decnetAddr(area, node uint16) []byte {
	v := area<<10 | node
	return []byte{byte(v), byte(v >> 8)}
}

// decnetLong is a DECnet data packet with a long routing header and pad
// bytes of padding before it.
func decnetLong(pad int, dst, src []byte) []byte {
	h := []byte{0x3c, 0x00} // length
	if pad > 0 {
		h = append(h, 0x80|byte(pad))
		h = append(h, make([]byte, pad-1)...)
	}
	hiord := []byte{0xaa, 0x00, 0x04, 0x00}
	h = append(h, 0x26, 0, 0) // flags: long data; destination area, subarea
	h = slices.Concat(h, hiord, dst, []byte{0, 0}, hiord, src, []byte{0, 0, 0, 0})
	return etherFrame(ethertypeDN, h, bytes.Repeat([]byte{'D'}, 20))
}

// decnetShort is a DECnet data packet with a short routing header.
func decnetShort(pad int, dst, src []byte) []byte {
	h := []byte{0x20, 0x00}
	if pad > 0 {
		h = append(h, 0x80|byte(pad))
		h = append(h, make([]byte, pad-1)...)
	}
	h = slices.Concat(h, []byte{0x02}, dst, src, []byte{0x00})
	return etherFrame(ethertypeDN, h, bytes.Repeat([]byte{'d'}, 20))
}

func etherIPv4Packet(proto byte, payload ...[]byte) []byte {
	body := slices.Concat(payload...)
	h := make([]byte, 20)
	h[0], h[8], h[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(body)))
	copy(h[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	return etherFrame(ethertypeIP, h, body)
}

func etherIPv6Packet(next byte, payload ...[]byte) []byte {
	body := slices.Concat(payload...)
	h := make([]byte, 40)
	h[0], h[6], h[7] = 0x60, next, 64
	binary.BigEndian.PutUint16(h[4:], uint16(len(body)))
	h[8], h[23], h[24], h[39] = 0xfd, 1, 0xfd, 2
	return etherFrame(ethertypeIPv6, h, body)
}

// ext6 is an IPv6 extension header of 8*(units+1) bytes.
func ipv6Ext(next byte, units int) []byte {
	h := make([]byte, 8*(units+1))
	h[0], h[1] = next, byte(units)
	return h
}

// ah is an authentication header with a 12-byte ICV.
func ahHeader(next byte) []byte {
	h := make([]byte, 24)
	h[0], h[1] = next, 24/4-2
	return h
}

func ipv6Fragment(next byte) []byte { return []byte{next, 0, 0, 0, 0, 0, 0x12, 0x34} }

var (
	tcpHeader  = []byte{0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0}
	udpHeader  = []byte{0x9c, 0x41, 0, 53, 0, 8, 0, 0}
	icmpHeader = []byte{128, 0, 0, 0, 0, 1, 0, 1}
)

func legacyPackets() []legacyPacket {
	a14, a23, a56, a78 := decnetAddr(1, 4), decnetAddr(2, 3), decnetAddr(5, 6), decnetAddr(7, 8)
	vlanIPv6 := etherFrame(ethertype8021Q, []byte{0, 10, 0x86, 0xdd})
	vlanIPv6 = append(vlanIPv6, etherIPv6Packet(ipprotoHopopts, ipv6Ext(ipprotoTCP, 0), tcpHeader)[14:]...)
	return []legacyPacket{
		{desc: "DECnet long header to 2.3 from 1.4", data: decnetLong(0, a23, a14)},
		{desc: "DECnet long header after padding, to 1.4 from 2.3", data: decnetLong(1, a14, a23)},
		{desc: "DECnet short header to 1.4 from 5.6", data: decnetShort(0, a14, a56)},
		{desc: "DECnet short header after padding, to 7.8 from 1.4", data: decnetShort(1, a78, a14)},
		{desc: "DECnet long header, 2 bytes of padding, to 1.4 from 1.4", data: decnetLong(2, a14, a14)},
		{desc: "DECnet hello (not a data packet) naming 1.4", data: etherFrame(ethertypeDN, []byte{0x20, 0, 0x0d}, a14, a14, bytes.Repeat([]byte{'h'}, 30))},
		{desc: "802.3 LLC I frame", data: ether8023(0x42, 0x42, 0x0a)},
		{desc: "802.3 LLC RR", data: ether8023(0xf0, 0xf0, 0x01)},
		{desc: "802.3 LLC RNR", data: ether8023(0xfe, 0xfe, 0x05)},
		{desc: "802.3 LLC REJ with P/F bits", data: ether8023(0xe0, 0xe0, 0xf9)},
		{desc: "802.3 LLC UI", data: ether8023(0x42, 0x42, 0x03)},
		{desc: "802.3 LLC UA with F", data: ether8023(0x06, 0x06, 0x73)},
		{desc: "802.3 LLC DISC", data: ether8023(0xfe, 0xfe, 0x43)},
		{desc: "802.3 LLC DM with F", data: ether8023(0xf0, 0xf0, 0x1f)},
		{desc: "802.3 LLC SABME", data: ether8023(0x04, 0x04, 0x6f)},
		{desc: "802.3 LLC TEST with P", data: ether8023(0x00, 0x01, 0xf3)},
		{desc: "802.3 LLC XID", data: ether8023(0x42, 0x42, 0xaf)},
		{desc: "802.3 LLC FRMR", data: ether8023(0xaa, 0xaa, 0x87)},
		{desc: "Novell raw 802.3", data: ether8023(0xff, 0xff, 0x03)},
		{desc: "802.3 LLC truncated before the control byte", data: ether8023(0x42, 0x42, 0x03), caplen: 16},
		{desc: "IPv4 TCP", data: etherIPv4Packet(ipprotoTCP, tcpHeader)},
		{desc: "IPv4 UDP", data: etherIPv4Packet(ipprotoUDP, udpHeader)},
		{desc: "IPv4 AH then TCP", data: etherIPv4Packet(ipprotoAH, ahHeader(ipprotoTCP), tcpHeader)},
		{desc: "IPv4 AH, AH then UDP", data: etherIPv4Packet(ipprotoAH, ahHeader(ipprotoAH), ahHeader(ipprotoUDP), udpHeader)},
		{desc: "IPv4 no next header", data: etherIPv4Packet(ipprotoNone, udpHeader)},
		{desc: "IPv6 TCP", data: etherIPv6Packet(ipprotoTCP, tcpHeader)},
		{desc: "IPv6 hop-by-hop, destination options, routing then TCP", data: etherIPv6Packet(ipprotoHopopts,
			ipv6Ext(ipprotoDstopts, 0), ipv6Ext(ipprotoRouting, 1), ipv6Ext(ipprotoTCP, 0), tcpHeader)},
		{desc: "IPv6 fragment then UDP", data: etherIPv6Packet(ipprotoFragment, ipv6Fragment(ipprotoUDP), udpHeader)},
		{desc: "IPv6 AH then ICMPv6", data: etherIPv6Packet(ipprotoAH, ahHeader(ipprotoICMPv6), icmpHeader)},
		{desc: "IPv6 hop-by-hop, AH then TCP", data: etherIPv6Packet(ipprotoHopopts, ipv6Ext(ipprotoAH, 0), ahHeader(ipprotoTCP), tcpHeader)},
		{desc: "IPv6 hop-by-hop then no next header", data: etherIPv6Packet(ipprotoHopopts, ipv6Ext(ipprotoNone, 0))},
		{desc: "IPv6 chain cut short in the capture", data: etherIPv6Packet(ipprotoHopopts, ipv6Ext(ipprotoDstopts, 2), ipv6Ext(ipprotoTCP, 0), tcpHeader), caplen: 70},
		{desc: "VLAN 10, IPv6 hop-by-hop then TCP", data: vlanIPv6},
	}
}

// legacyPcap writes the packets as a pcap file for tcpdump.
func legacyPcap(packets []legacyPacket) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], uint32(pcap.LinkTypeEthernet))
	b.Write(hdr)
	for i, p := range packets {
		data := p.captured()
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(1700000000+i))
		le.PutUint32(rec[8:], uint32(len(data)))
		le.PutUint32(rec[12:], uint32(len(p.data)))
		b.Write(rec)
		b.Write(data)
	}
	return b.Bytes()
}

func (p legacyPacket) captured() []byte {
	if p.caplen > 0 {
		return p.data[:p.caplen]
	}
	return p.data
}

func TestLegacyProgramsMatchTcpdump(t *testing.T) {
	if testutil.Update() {
		writeLegacyProgramsGolden(t)
	}
	golden := readLegacyGolden(t, legacyProgramsGolden)
	want := len(legacyLinkTypes) * len(legacyProgramExpressions)
	if len(golden) != want {
		t.Fatalf("%s has %d entries, want %d (run with -update)", legacyProgramsGolden, len(golden), want)
	}
	compiled := 0
	for _, e := range golden {
		lt, ok := pcap.LinkTypeByName(e.linkType)
		if !ok {
			t.Fatalf("unknown link type %q", e.linkType)
		}
		got, err := Compile(e.expr, Config{LinkType: lt, Resolver: offlineResolver{}})
		tcpdumpErr, rejected := strings.CutPrefix(e.body, "error: ")
		switch {
		case rejected && err == nil:
			t.Errorf("%s %q: tcpdump -O rejects it (%s), weir compiles it", e.linkType, e.expr, strings.TrimSpace(tcpdumpErr))
		case !rejected && err != nil:
			t.Errorf("%s %q: tcpdump -O compiles it, weir: %v", e.linkType, e.expr, err)
		case !rejected && strings.TrimSpace(Dump(got, DumpDecimal)) != strings.TrimSpace(e.body):
			t.Errorf("%s %q:\nweir -O:\n%s\ntcpdump -O:\n%s", e.linkType, e.expr, Dump(got, DumpAssembly), e.body)
		case !rejected:
			compiled++
		}
	}
	if compiled < 300 {
		t.Errorf("only %d programs compared; the golden looks wrong", compiled)
	}
}

func TestLegacyVerdictsMatchTcpdump(t *testing.T) {
	packets := legacyPackets()
	if testutil.Update() {
		writeLegacyVerdictsGolden(t, packets)
	}
	golden := readLegacyGolden(t, legacyVerdictsGolden)
	if len(golden) != 2*len(legacyVerdictExpressions) {
		t.Fatalf("%s has %d entries, want %d (run with -update)", legacyVerdictsGolden, len(golden), 2*len(legacyVerdictExpressions))
	}
	matched := 0
	for _, e := range golden {
		optimize := e.linkType == "optimized"
		prog, err := Compile(e.expr, Config{LinkType: pcap.LinkTypeEthernet, Optimize: optimize, Savefile: true})
		if err != nil {
			t.Errorf("%q: %v", e.expr, err)
			continue
		}
		vm, err := NewVM(prog)
		if err != nil {
			t.Fatalf("%q: NewVM: %v", e.expr, err)
		}
		var kept []string
		for i, p := range packets {
			verdict := Run(prog, p.captured(), len(p.data))
			if decoded := vm.Run(p.captured(), len(p.data)); decoded != verdict {
				t.Errorf("%q on packet %d: Run says %d, the decoded VM %d", e.expr, i+1, verdict, decoded)
			}
			if verdict > 0 {
				kept = append(kept, fmt.Sprint(i+1))
			}
		}
		if got := strings.Join(kept, " "); got != strings.TrimSpace(e.body) {
			t.Errorf("%s %q: weir keeps [%s], tcpdump [%s]", e.linkType, e.expr, got, strings.TrimSpace(e.body))
		}
		if strings.TrimSpace(e.body) != "" {
			matched++
		}
	}
	if matched < len(golden)/2 {
		t.Errorf("only %d of %d expressions keep any packet: the packets do not exercise them", matched, len(golden))
	}
}

type legacyEntry struct{ linkType, expr, body string }

// readLegacyGolden reads "=== HEAD\tEXPR" entries, each followed by its
// body lines.
func readLegacyGolden(t *testing.T, path string) []legacyEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	var out []legacyEntry
	for _, chunk := range strings.Split(string(data), "=== ")[1:] {
		head, body, _ := strings.Cut(chunk, "\n")
		lt, expr, ok := strings.Cut(head, "\t")
		if !ok {
			t.Fatalf("%s: bad entry head %q", path, head)
		}
		out = append(out, legacyEntry{lt, expr, body})
	}
	return out
}

func writeLegacyProgramsGolden(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	var b strings.Builder
	for _, lt := range legacyLinkTypes {
		for _, expr := range legacyProgramExpressions {
			cmd := exec.Command(tcpdump, "-O", "-ddd", "-y", lt, "--", expr)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			fmt.Fprintf(&b, "=== %s\t%s\n", lt, expr)
			if err != nil {
				fmt.Fprintf(&b, "error: %s\n", lastLine(stderr.String()))
				continue
			}
			b.Write(out)
		}
	}
	writeLegacyFile(t, legacyProgramsGolden, b.String())
}

func writeLegacyVerdictsGolden(t *testing.T, packets []legacyPacket) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	dir := t.TempDir()
	path := filepath.Join(dir, "legacy.pcap")
	if err := os.WriteFile(path, legacyPcap(packets), 0o644); err != nil {
		t.Fatal(err)
	}
	records, err := parseRawPcap(legacyPcap(packets))
	if err != nil {
		t.Fatal(err)
	}
	c := diffCapture{name: "legacy", path: path, records: records}
	var b strings.Builder
	for _, mode := range []struct {
		name string
		args []string
	}{{"optimized", nil}, {"unoptimized", []string{"-O"}}} {
		for _, expr := range legacyVerdictExpressions {
			v := runTcpdump(tcpdump, mode.args, c, expr)
			if v.rejected || v.failure != "" {
				t.Fatalf("tcpdump %q: %s%s", expr, v.message, v.failure)
			}
			var kept []string
			for _, n := range v.kept {
				kept = append(kept, fmt.Sprint(n))
			}
			fmt.Fprintf(&b, "=== %s\t%s\n%s\n", mode.name, expr, strings.Join(kept, " "))
		}
	}
	writeLegacyFile(t, legacyVerdictsGolden, b.String())
}

func writeLegacyFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestProtochainIsLeftUnoptimized: like libpcap, weir does not optimize a
// program holding the protochain loop, and the kernel's rules refuse its
// backward jump.
func TestProtochainIsLeftUnoptimized(t *testing.T) {
	for _, expr := range []string{"protochain 6", "tcp port 80 and ip6 protochain 17", "ip protochain 51 or udp"} {
		cfg := Config{LinkType: pcap.LinkTypeEthernet}
		plain, err := Compile(expr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Optimize = true
		optimized, err := Compile(expr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(plain, optimized) {
			t.Errorf("%q: the optimizer changed the program", expr)
		}
		backward := slices.ContainsFunc(plain, func(in Instruction) bool {
			return in.Op == ClassJmp|JmpJa && int32(in.K) < 0
		})
		if !backward {
			t.Errorf("%q: no backward jump in\n%s", expr, Dump(plain, DumpAssembly))
		}
		if err := Validate(plain); err == nil {
			t.Errorf("%q: Validate accepts a backward jump", expr)
		}
	}
}
