package capture

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// Frames for live tests. Unicast frames go to a MAC address nobody has, so
// the capture side's stack drops them silently after the capture.
var (
	foreignMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
	senderMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x42}
	broadcast  = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	hostA      = netip.MustParseAddr("198.18.1.10")
	hostB      = netip.MustParseAddr("198.18.1.20")
	hostA6     = netip.MustParseAddr("fd00:beef::10")
	hostB6     = netip.MustParseAddr("fd00:beef::20")
)

const (
	protoICMP = 1
	protoTCP  = 6
	protoUDP  = 17
)

// ether builds an Ethernet frame; tags are (TPID, TCI) pairs, outermost
// first.
func ether(dst net.HardwareAddr, etherType uint16, payload []byte, tags ...[2]uint16) []byte {
	f := append([]byte{}, dst...)
	f = append(f, senderMAC...)
	for _, tag := range tags {
		f = binary.BigEndian.AppendUint16(f, tag[0])
		f = binary.BigEndian.AppendUint16(f, tag[1])
	}
	f = binary.BigEndian.AppendUint16(f, etherType)
	return append(f, payload...)
}

// ipv4 builds an IPv4 packet (no options, checksum left zero: nothing
// checks it on the way).
func ipv4(src, dst netip.Addr, proto byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0], h[8], h[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	copy(h[12:16], src.AsSlice())
	copy(h[16:20], dst.AsSlice())
	return append(h, payload...)
}

// ipv6 builds an IPv6 packet.
func ipv6(src, dst netip.Addr, next byte, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0], h[6], h[7] = 0x60, next, 64
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	copy(h[8:24], src.AsSlice())
	copy(h[24:40], dst.AsSlice())
	return append(h, payload...)
}

// udp builds a UDP datagram.
func udp(sport, dport uint16, payloadLen int) []byte {
	h := make([]byte, 8+payloadLen)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+payloadLen))
	for i := range payloadLen {
		h[8+i] = byte(i)
	}
	return h
}

// tcpSYN builds a TCP SYN segment.
func tcpSYN(sport, dport uint16) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	h[12], h[13] = 5<<4, 0x02
	binary.BigEndian.PutUint16(h[14:], 65535)
	return h
}

// icmpEcho builds an ICMP echo request.
func icmpEcho(seq uint16) []byte {
	h := make([]byte, 16)
	h[0] = 8
	binary.BigEndian.PutUint16(h[6:], seq)
	return h
}

// arpRequest asks who has 198.18.1.20.
func arpRequest() []byte {
	p := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	p = append(p, senderMAC...)
	p = append(p, hostA.AsSlice()...)
	p = append(p, make([]byte, 6)...)
	return append(p, hostB.AsSlice()...)
}

// mixedFrames is the traffic the filter table is run on.
func mixedFrames() [][]byte {
	return [][]byte{
		ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(1000, 53, 20))),
		ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoTCP, tcpSYN(40000, 80))),
		ether(foreignMAC, 0x0800, ipv4(hostB, hostA, protoTCP, tcpSYN(443, 40001))),
		ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoICMP, icmpEcho(1))),
		ether(foreignMAC, 0x86dd, ipv6(hostA6, hostB6, protoUDP, udp(5353, 5353, 30))),
		ether(broadcast, 0x0806, arpRequest()),
		ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(1001, 53, 10)), [2]uint16{0x8100, 100}),
		ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoTCP, tcpSYN(40002, 80)), [2]uint16{0x8100, 0x2000 | 200}),
		ether(foreignMAC, 0x0800, ipv4(hostB, hostA, protoUDP, udp(2000, 3000, 1000))),
		ether(foreignMAC, 0x0800, ipv4(hostA, hostB, protoUDP, udp(1002, 53, 10)), [2]uint16{0x88a8, 300}, [2]uint16{0x8100, 400}),
	}
}
