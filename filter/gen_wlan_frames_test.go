package filter

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

// 802.11 frames built for the tests: MAC headers of every shape (control
// frames without addr2 or addr3, four-address frames, QoS data with and
// without the padding a radiotap header announces) carrying LLC/SNAP
// payloads, behind each kind of radio header.

var (
	wlanMAC1  = []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
	wlanMAC2  = []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x66}
	wlanMAC3  = []byte{0x02, 0x00, 0x5e, 0x00, 0x00, 0x01}
	wlanMAC4  = []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x77}
	wlanBcast = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// wlanFrame describes a MAC frame; header builds its bytes.
type wlanFrame struct {
	name     string
	fc0, fc1 byte
	addrs    [][]byte // as many as the frame type carries
	qos      bool
	payload  []byte
}

func (f wlanFrame) header(pad bool) []byte {
	b := []byte{f.fc0, f.fc1, 0, 0}
	for i, a := range f.addrs {
		b = append(b, a...)
		if i == 2 {
			b = append(b, 0x10, 0x00) // sequence control
		}
	}
	if f.qos {
		b = append(b, 0x00, 0x00)
	}
	if pad {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return append(b, f.payload...)
}

func snap(ethertype uint16, rest ...byte) []byte {
	b := []byte{0xaa, 0xaa, 0x03, 0, 0, 0, byte(ethertype >> 8), byte(ethertype)}
	return append(b, rest...)
}

func ipv4Packet(proto byte, l4 []byte) []byte {
	b := []byte{0x45, 0, 0, byte(20 + len(l4)), 0x12, 0x34, 0, 0, 64, proto, 0, 0,
		10, 0, 0, 1, 192, 168, 1, 1}
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(l4)))
	return append(b, l4...)
}

func ipv6Packet(next byte, l4 []byte) []byte {
	b := make([]byte, 40)
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(l4)))
	b[6], b[7] = next, 255
	b[23] = 1                        // ::1 source
	copy(b[24:], []byte{0xff, 0x02}) // ff02::1 destination
	b[39] = 1
	return append(b, l4...)
}

func l4Ports(src, dst uint16, rest ...byte) []byte {
	b := []byte{byte(src >> 8), byte(src), byte(dst >> 8), byte(dst)}
	return append(b, rest...)
}

// wlanPayloads are the LLC payloads of data frames.
func wlanPayloads() map[string][]byte {
	tcpSYN := l4Ports(40000, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0)
	udpDNS := l4Ports(1024, 53, 0, 12, 0, 0, 0x12, 0x34, 0, 0)
	geneve := l4Ports(5000, 6081, 0, 40, 0, 0, 0x00, 0x00, 0x65, 0x58, 0, 0, 5, 0)
	geneve = append(geneve, wlanMAC1...)
	geneve = append(geneve, wlanMAC2...)
	geneve = append(geneve, 0x08, 0x00)
	geneve = append(geneve, ipv4Packet(6, tcpSYN)...)
	return map[string][]byte{
		"ipv4-tcp":   snap(0x0800, ipv4Packet(6, tcpSYN)...),
		"ipv4-udp":   snap(0x0800, ipv4Packet(17, udpDNS)...),
		"ipv4-icmp":  snap(0x0800, ipv4Packet(1, []byte{8, 0, 0, 0, 0, 1, 0, 1})...),
		"ipv4-mcast": snap(0x0800, append(ipv4Packet(17, udpDNS)[:16], 224, 0, 0, 251)...),
		"ipv6-ns":    snap(0x86dd, ipv6Packet(58, []byte{135, 0, 0, 0, 0, 0, 0, 0})...),
		"ipv6-udp":   snap(0x86dd, ipv6Packet(17, udpDNS)...),
		"arp":        snap(0x0806, 0, 1, 8, 0, 6, 4, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2),
		"vlan-tcp":   snap(0x8100, append([]byte{0x00, 100, 0x08, 0x00}, ipv4Packet(6, tcpSYN)...)...),
		"pppoes-ip":  snap(0x8864, append([]byte{0x11, 0, 0x12, 0x34, 0, 44, 0x00, 0x21}, ipv4Packet(6, tcpSYN)...)...),
		"geneve":     snap(0x0800, ipv4Packet(17, geneve)...),
		"stp":        {0x42, 0x42, 0x03, 0, 0, 0, 0, 0},
		"ipx":        {0xe0, 0xe0, 0x03, 0xff, 0xff, 0, 30},
		"isis":       {0xfe, 0xfe, 0x03, 0x83, 27, 1, 0, 20, 1, 0, 0, 0},
		"truncated":  {0xaa, 0xaa, 0x03},
	}
}

// wlanFrames is one frame of each shape, data frames once per payload.
func wlanFrames() []wlanFrame {
	frames := []wlanFrame{
		{name: "beacon", fc0: 0x80, addrs: [][]byte{wlanBcast, wlanMAC2, wlanMAC2}, payload: make([]byte, 12)},
		{name: "probe-req", fc0: 0x40, addrs: [][]byte{wlanBcast, wlanMAC1, wlanBcast}},
		{name: "auth", fc0: 0xb0, addrs: [][]byte{wlanMAC1, wlanMAC2, wlanMAC2}, payload: []byte{0, 0, 1, 0, 0, 0}},
		{name: "ack", fc0: 0xd4, addrs: [][]byte{wlanMAC1}},
		{name: "cts", fc0: 0xc4, addrs: [][]byte{wlanMAC2}},
		{name: "rts", fc0: 0xb4, addrs: [][]byte{wlanMAC1, wlanMAC2}},
		{name: "null", fc0: 0x48, fc1: 0x01, addrs: [][]byte{wlanMAC2, wlanMAC1, wlanMAC2}},
	}
	dirs := []struct {
		name  string
		fc1   byte
		addrs [][]byte
	}{
		{"nods", 0x00, [][]byte{wlanMAC1, wlanMAC2, wlanMAC3}},
		{"tods", 0x01, [][]byte{wlanMAC2, wlanMAC1, wlanMAC3}},
		{"fromds", 0x02, [][]byte{wlanMAC3, wlanMAC2, wlanMAC1}},
		{"dstods", 0x03, [][]byte{wlanMAC2, wlanMAC4, wlanMAC3, wlanMAC1}},
	}
	for name, payload := range wlanPayloads() {
		for i, d := range dirs {
			qos := i%2 == 1
			fc0 := byte(0x08)
			if qos {
				fc0 = 0x88
			}
			frames = append(frames, wlanFrame{name: d.name + "-" + name, fc0: fc0, fc1: d.fc1,
				addrs: d.addrs, qos: qos, payload: payload})
		}
	}
	return frames
}

// wlanPacket is a frame behind a radio header, as a capture of lt holds it.
type wlanPacket struct {
	name string
	data []byte
}

// wlanPackets gives every frame behind every radio header variant lt has:
// radiotap without flags, with flags, with TSFT and flags announcing
// padding, and with an extended presence word; AVS; Prism and an AVS
// header on a Prism link; PPI carrying 802.11 or something else.
func wlanPackets(lt pcap.LinkType) []wlanPacket {
	type prefix struct {
		name string
		data []byte
		pad  bool // the radio header says the MAC header is padded
	}
	var prefixes []prefix
	switch lt {
	case pcap.LinkTypeIEEE802_11:
		prefixes = []prefix{{name: "bare"}}
	case pcap.LinkTypeIEEE802_11Radio:
		prefixes = []prefix{
			{name: "radiotap", data: []byte{0, 0, 8, 0, 0, 0, 0, 0}},
			{name: "radiotap-flags", data: []byte{0, 0, 10, 0, 0x02, 0, 0, 0, 0x10, 0}},
			{name: "radiotap-tsft-datapad", data: []byte{0, 0, 20, 0, 0x03, 0, 0, 0,
				1, 2, 3, 4, 5, 6, 7, 8, 0x20, 0, 0, 0}, pad: true},
			{name: "radiotap-datapad", data: []byte{0, 0, 12, 0, 0x02, 0, 0, 0, 0x20, 0, 0, 0}, pad: true},
			{name: "radiotap-ext", data: []byte{0, 0, 16, 0, 0x02, 0, 0, 0x80, 0, 0, 0, 0, 0x20, 0, 0, 0}},
		}
	case pcap.LinkTypeIEEE802_11AVS:
		avs := make([]byte, 64)
		binary.BigEndian.PutUint32(avs, 0x80211001)
		binary.BigEndian.PutUint32(avs[4:], 64)
		prefixes = []prefix{{name: "avs", data: avs}}
	case pcap.LinkTypePrismHeader:
		avs := make([]byte, 64)
		binary.BigEndian.PutUint32(avs, 0x80211001)
		binary.BigEndian.PutUint32(avs[4:], 64)
		prism := make([]byte, 144)
		binary.LittleEndian.PutUint32(prism, 0x44)
		prefixes = []prefix{{name: "prism", data: prism}, {name: "prism-avs", data: avs}}
	case pcap.LinkTypePPI:
		prefixes = []prefix{
			{name: "ppi", data: []byte{0, 0, 8, 0, 105, 0, 0, 0}},
			{name: "ppi-ethernet", data: []byte{0, 0, 8, 0, 1, 0, 0, 0}},
		}
	}
	var packets []wlanPacket
	for _, p := range prefixes {
		for _, f := range wlanFrames() {
			data := append(append([]byte{}, p.data...), f.header(p.pad && f.qos)...)
			packets = append(packets, wlanPacket{name: p.name + "/" + f.name, data: data})
		}
		// A frame cut inside its MAC header.
		packets = append(packets, wlanPacket{name: p.name + "/cut", data: append(append([]byte{}, p.data...), 0x08, 0x01, 0)})
	}
	return packets
}

// TestWLANVerdicts runs tcpdump's programs from the golden and weir's
// optimized programs on every test frame: the verdicts must agree.
func TestWLANVerdicts(t *testing.T) {
	checked := 0
	packets := map[string][]wlanPacket{}
	for _, e := range readWLANGolden(t) {
		if e.err != "" {
			continue
		}
		cfg := e.config(t)
		if libpcapReadsUnsetSlot(e, cfg.LinkType) {
			continue // tcpdump's verdicts there depend on an unset slot
		}
		cfg.Optimize = true
		opt, err := Compile(e.expr, cfg)
		if err != nil {
			// Only an expression that matches nothing may be refused.
			for _, p := range wlanPacketsOf(packets, cfg.LinkType) {
				if Run(e.program, p.data, len(p.data)) != 0 {
					t.Errorf("%s: weir -d refuses it (%v), tcpdump's program accepts %s", e.name(), err, p.name)
				}
			}
			continue
		}
		for _, p := range wlanPacketsOf(packets, cfg.LinkType) {
			want := Run(e.program, p.data, len(p.data))
			if got := Run(opt, p.data, len(p.data)); got != want {
				t.Errorf("%s on %s: weir returns %d, tcpdump's program %d", e.name(), p.name, got, want)
			}
			checked++
		}
	}
	if checked < 50000 {
		t.Errorf("only %d verdicts compared", checked)
	}
}

func wlanPacketsOf(cache map[string][]wlanPacket, lt pcap.LinkType) []wlanPacket {
	if p, ok := cache[lt.Name()]; ok {
		return p
	}
	cache[lt.Name()] = wlanPackets(lt)
	return cache[lt.Name()]
}

// TestWLANPayloadOffsets checks the meaning, not just the shape, of the
// run-time offsets: behind every radio header, with and without QoS and
// padding, protocol tests find the LLC payload and address tests the
// right address field. Like libpcap, weir takes the payload of a
// four-address frame to start where a three-address frame's would.
func TestWLANPayloadOffsets(t *testing.T) {
	payload := func(names ...string) func(string) bool {
		return func(packet string) bool {
			_, frame, _ := strings.Cut(packet, "/")
			if strings.HasPrefix(frame, "dstods-") {
				return false
			}
			for _, n := range names {
				if strings.HasSuffix(frame, "-"+n) {
					return true
				}
			}
			return false
		}
	}
	frames := func(prefixes ...string) func(string) bool {
		return func(packet string) bool {
			_, frame, _ := strings.Cut(packet, "/")
			for _, p := range prefixes {
				if strings.HasPrefix(frame, p) {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		expr  string
		match func(packet string) bool
	}{
		{"tcp port 80", payload("ipv4-tcp")},
		{"tcp[13] & 2 != 0", payload("ipv4-tcp")},
		{"udp port 53", payload("ipv4-udp", "ipv6-udp")},
		{"udp port 6081", payload("geneve")},
		{"icmp", payload("ipv4-icmp")},
		{"icmp6 and ip6[40] = 135", payload("ipv6-ns")},
		{"ip multicast", payload("ipv4-mcast")},
		{"arp host 10.0.0.2", payload("arp")},
		{"vlan 100 and tcp dst port 80", payload("vlan-tcp")},
		// Behind a radio header too: libpcap leaves a slot unset there,
		// weir fills it (see libpcapReadsUnsetSlot).
		{"pppoes 0x1234 and ip[9] = 6", payload("pppoes-ip")},
		{"geneve and ip", payload("geneve")},
		{"stp", payload("stp")},
		{"ipx", payload("ipx")},
		{"isis", payload("isis")},
		{"type mgt", frames("beacon", "probe-req", "auth")},
		{"type ctl", frames("ack", "cts", "rts")},
		{"subtype qos-data", frames("tods-", "dstods-")},
		{"dir fromds", frames("fromds-")},
		{"wlan addr4 " + fmtMAC(wlanMAC1), frames("dstods-")},
		{"wlan src " + fmtMAC(wlanMAC1), frames("probe-req", "null", "tods-", "fromds-", "dstods-")},
		{"wlan dst " + fmtMAC(wlanMAC1), frames("auth", "nods-")},
		{"wlan dst " + fmtMAC(wlanMAC3), frames("tods-", "fromds-", "dstods-")},
		// As libpcap: ra and ta look at data frames only.
		{"wlan ra " + fmtMAC(wlanMAC1), frames("nods-")},
		{"wlan ta " + fmtMAC(wlanMAC2), frames("nods-", "fromds-")},
		{"broadcast", frames("beacon", "probe-req")},
	}
	for _, lt := range []pcap.LinkType{pcap.LinkTypeIEEE802_11, pcap.LinkTypeIEEE802_11Radio,
		pcap.LinkTypeIEEE802_11AVS, pcap.LinkTypePrismHeader, pcap.LinkTypePPI} {
		for _, tt := range tests {
			prog, err := Compile(tt.expr, Config{LinkType: lt})
			if err != nil {
				if lt == pcap.LinkTypePPI {
					continue // no VLAN, type, subtype or direction tests on PPI
				}
				t.Fatalf("%s %q: %v", lt, tt.expr, err)
			}
			for _, p := range wlanPackets(lt) {
				want := tt.match(p.name) && !strings.HasPrefix(p.name, "ppi-ethernet/") && !strings.HasSuffix(p.name, "/cut")
				if got := Run(prog, p.data, len(p.data)) != 0; got != want {
					t.Errorf("%s %q on %s: match %v, want %v", lt, tt.expr, p.name, got, want)
				}
			}
		}
	}
}

func fmtMAC(m []byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}
