package filter

import (
	"encoding/binary"
	"math/rand"
	"net/netip"
)

// testPacket is a frame with its captured bytes and length on the wire.
type testPacket struct {
	data    []byte
	wireLen int
}

// Link types of the dump golden, as tcpdump -y names them.
var verdictLinkTypes = []string{"EN10MB", "LINUX_SLL", "RAW"}

// verdictPackets builds the frames the golden programs run on for one link
// type: IPv4 and IPv6 over TCP, UDP and ICMP, options, fragments, extension
// headers, ARP, VLAN, truncated and tiny frames, then seeded random
// mutations of them. Packet i is written to pcap with timestamp i.
func verdictPackets(linkType string) []testPacket {
	var pkts []testPacket
	add := func(l3 []byte, ethertype uint16, src byte) {
		pkts = append(pkts, frame(linkType, l3, ethertype, src))
	}
	a := netip.MustParseAddr
	add(ipv4(6, a("10.0.0.1"), a("10.0.0.2"), tcp(1234, 80, 0x02, nil)), 0x0800, 1)
	add(ipv4(6, a("192.168.1.5"), a("10.0.0.1"), tcp(443, 40000, 0x18, []byte("hello"))), 0x0800, 2)
	add(ipv4(17, a("10.1.2.3"), a("224.0.0.251"), udp(5353, 5353, make([]byte, 12))), 0x0800, 3)
	add(ipv4(17, a("10.0.0.2"), a("10.0.0.1"), udp(53, 33000, make([]byte, 30))), 0x0800, 2)
	add(ipv4(1, a("10.0.0.1"), a("8.8.8.8"), []byte{8, 0, 0, 0, 0, 1, 0, 1}), 0x0800, 1)
	frag := ipv4(17, a("172.16.0.9"), a("10.0.0.1"), udp(9999, 53, nil))
	frag[6], frag[7] = 0x00, 0x10 // fragment offset 16
	add(frag, 0x0800, 4)
	add(ipv4Options(6, a("10.0.0.3"), a("10.0.0.1"), tcp(22, 5000, 0x10, nil)), 0x0800, 1)
	add(ipv4(17, a("0.0.0.0"), a("255.255.255.255"), udp(68, 67, make([]byte, 20))), 0x0800, 5)
	add(ipv6(6, a("fe80::1"), a("fe80::2"), tcp(5555, 80, 0x02, nil)), 0x86dd, 1)
	add(ipv6(17, a("2001:db8::1"), a("ff02::1:2"), udp(546, 547, make([]byte, 8))), 0x86dd, 6)
	add(ipv6(58, a("fd00::1"), a("fd00::2"), []byte{128, 0, 0, 0, 0, 1, 0, 1}), 0x86dd, 2)
	hop := append([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcp(1000, 443, 0x12, nil)...)
	add(ipv6(0, a("2001:db8::5"), a("2001:db8::6"), hop), 0x86dd, 3)
	fragHdr := append([]byte{17, 0, 0, 0, 0, 0, 0, 7}, udp(53, 53, nil)...)
	add(ipv6(44, a("2001:db8::7"), a("2001:db8::8"), fragHdr), 0x86dd, 4)
	add(ipv4(6, a("10.9.8.7"), a("10.0.0.2"), tcp(8080, 1111, 0x05, nil)), 0x0800, 1)
	add(ipv4(17, a("10.0.0.1"), a("10.0.0.2"), udp(4000, 4001, make([]byte, 1400))), 0x0800, 2)
	if linkType != "RAW" {
		arp := []byte{0, 1, 8, 0, 6, 4, 0, 1, 0xab, 0xcd, 0xef, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2}
		add(arp, 0x0806, 1)
	}
	if linkType == "EN10MB" {
		inner := ipv4(17, a("10.0.0.1"), a("10.0.0.2"), udp(1000, 53, nil))
		tagged := append([]byte{0, 100, 0x08, 0x00}, inner...)
		add(tagged, 0x8100, 2)
	}
	// Truncated capture: loads past the first 34 bytes must fail even
	// though the wire length covers them.
	trunc := frame(linkType, ipv4(6, a("10.0.0.1"), a("10.0.0.2"), tcp(1234, 80, 0x02, nil)), 0x0800, 1)
	trunc.data = trunc.data[:len(trunc.data)-30]
	pkts = append(pkts, trunc, testPacket{data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, wireLen: 10})

	rng := rand.New(rand.NewSource(int64(len(linkType))))
	for i, n := 0, len(pkts); i < 16; i++ {
		base := pkts[rng.Intn(n)]
		data := append([]byte(nil), base.data...)
		for j := 0; j < 1+rng.Intn(4); j++ {
			data[rng.Intn(len(data))] = byte(rng.Intn(256))
		}
		pkts = append(pkts, testPacket{data: data, wireLen: base.wireLen})
	}
	return pkts
}

// frame wraps an L3 packet in the link layer header.
func frame(linkType string, l3 []byte, ethertype uint16, src byte) testPacket {
	var hdr []byte
	switch linkType {
	case "EN10MB":
		hdr = make([]byte, 14)
		copy(hdr, destinationMAC(l3, ethertype))
		copy(hdr[6:], []byte{0xab, 0xcd, 0xef, 0, 0, src})
		binary.BigEndian.PutUint16(hdr[12:], ethertype)
	case "LINUX_SLL":
		hdr = make([]byte, 16)
		binary.BigEndian.PutUint16(hdr[0:], uint16(src%5)) // packet type
		binary.BigEndian.PutUint16(hdr[2:], 1)             // ARPHRD_ETHER
		binary.BigEndian.PutUint16(hdr[4:], 6)
		copy(hdr[6:], []byte{0xab, 0xcd, 0xef, 0, 0, src})
		binary.BigEndian.PutUint16(hdr[14:], ethertype)
	}
	data := append(hdr, l3...)
	return testPacket{data: data, wireLen: len(data)}
}

// destinationMAC maps IP broadcast and multicast destinations to their
// Ethernet addresses, anything else to one unicast address.
func destinationMAC(l3 []byte, ethertype uint16) []byte {
	switch {
	case ethertype == 0x0800 && string(l3[16:20]) == "\xff\xff\xff\xff":
		return []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	case ethertype == 0x0800 && l3[16] >= 224:
		return []byte{0x01, 0x00, 0x5e, l3[17] & 0x7f, l3[18], l3[19]}
	case ethertype == 0x86dd && l3[24] == 0xff:
		return []byte{0x33, 0x33, l3[36], l3[37], l3[38], l3[39]}
	}
	return []byte{0xab, 0xcd, 0xef, 0, 0, 9}
}

func ipv4(proto byte, src, dst netip.Addr, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	h[8], h[9] = 64, proto
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	return append(h, payload...)
}

func ipv4Options(proto byte, src, dst netip.Addr, payload []byte) []byte {
	p := ipv4(proto, src, dst, nil)
	p[0] = 0x46
	p = append(p, 1, 1, 1, 0) // NOPs and end of options
	binary.BigEndian.PutUint16(p[2:], uint16(24+len(payload)))
	return append(p, payload...)
}

func ipv6(next byte, src, dst netip.Addr, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6], h[7] = next, 64
	s, d := src.As16(), dst.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, payload...)
}

func tcp(sport, dport uint16, flags byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	h[12], h[13] = 0x50, flags
	binary.BigEndian.PutUint16(h[14:], 8192)
	return append(h, payload...)
}

func udp(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}
