package main

import (
	"encoding/binary"
	"hash/crc32"
	"net/netip"
)

// IP protocol numbers the catalog uses.
const (
	protoHopByHop = 0
	protoICMP     = 1
	protoIGMP     = 2
	protoIPIP     = 4
	protoTCP      = 6
	protoUDP      = 17
	protoIPv6     = 41
	protoRouting  = 43
	protoFragment = 44
	protoGRE      = 47
	protoESP      = 50
	protoAH       = 51
	protoICMPv6   = 58
	protoNoNext   = 59
	protoDstOpts  = 60
	protoPIM      = 103
	protoVRRP     = 112
	protoSCTP     = 132
)

// EtherTypes.
const (
	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
	etherTypeRARP = 0x8035
	etherTypeVLAN = 0x8100
	etherTypeIPv6 = 0x86dd
)

// TCP flags.
const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10
	urg = 0x20
	ece = 0x40
	cwr = 0x80
)

// A segment is an IP payload. Its bytes depend on the addresses around it
// because TCP, UDP and ICMPv6 checksums cover a pseudo-header.
type segment struct {
	proto uint8
	build func(src, dst netip.Addr) []byte
}

// raw is a payload with no checksum to fill.
func raw(proto uint8, data []byte) segment {
	return segment{proto, func(netip.Addr, netip.Addr) []byte { return data }}
}

// withPseudoChecksum fills the 16-bit checksum at offset off of data,
// computed over the IPv4 or IPv6 pseudo-header and data.
func withPseudoChecksum(proto uint8, data []byte, off int) segment {
	return segment{proto, func(src, dst netip.Addr) []byte {
		b := append([]byte(nil), data...)
		binary.BigEndian.PutUint16(b[off:], 0)
		sum := sumPseudo(src, dst, proto, len(b))
		binary.BigEndian.PutUint16(b[off:], fold(sum+sumBytes(b)))
		return b
	}}
}

func sumPseudo(src, dst netip.Addr, proto uint8, length int) uint32 {
	var sum uint32
	s, d := src.AsSlice(), dst.AsSlice()
	sum += sumBytes(s) + sumBytes(d)
	sum += uint32(proto) + uint32(length)
	return sum
}

// sumBytes is the ones' complement sum of data as 16-bit words, unfolded.
func sumBytes(data []byte) uint32 {
	var sum uint32
	for len(data) >= 2 {
		sum += uint32(data[0])<<8 | uint32(data[1])
		data = data[2:]
	}
	if len(data) == 1 {
		sum += uint32(data[0]) << 8
	}
	return sum
}

// fold turns a sum into the Internet checksum (RFC 1071).
func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func checksum(data []byte) uint16 { return fold(sumBytes(data)) }

// tcpOpts is a segment with TCP options (already padded to 4 bytes).
func tcpOpts(sport, dport uint16, flags uint8, seq uint32, options, payload []byte) segment {
	hdrLen := 20 + len(options)
	b := make([]byte, hdrLen+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], seq)
	if flags&ack != 0 {
		binary.BigEndian.PutUint32(b[8:], seq^0x5a5a5a5a)
	}
	b[12] = byte(hdrLen/4) << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], 64240)
	if flags&urg != 0 {
		binary.BigEndian.PutUint16(b[18:], 1)
	}
	copy(b[20:], options)
	copy(b[hdrLen:], payload)
	return withPseudoChecksum(protoTCP, b, 16)
}

func tcp(sport, dport uint16, flags uint8, payload []byte) segment {
	return tcpOpts(sport, dport, flags, uint32(sport)<<16|uint32(dport), nil, payload)
}

// synOptions are the options of a typical Linux SYN: MSS, SACK permitted,
// timestamps, NOP, window scale.
var synOptions = []byte{
	2, 4, 0x05, 0xb4, // MSS 1460
	4, 2, // SACK permitted
	8, 10, 0, 0, 0x10, 0, 0, 0, 0, 0, // timestamps
	1,       // NOP
	3, 3, 7, // window scale 7
}

func udp(sport, dport uint16, payload []byte) segment {
	b := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	copy(b[8:], payload)
	return withPseudoChecksum(protoUDP, b, 6)
}

// icmp is an ICMPv4 message; rest is everything after the checksum.
func icmp(typ, code uint8, rest []byte) segment {
	b := append([]byte{typ, code, 0, 0}, rest...)
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return raw(protoICMP, b)
}

func icmpEcho(typ uint8, id, seq uint16, payloadLen int) segment {
	rest := make([]byte, 4+payloadLen)
	binary.BigEndian.PutUint16(rest[0:], id)
	binary.BigEndian.PutUint16(rest[2:], seq)
	for i := 4; i < len(rest); i++ {
		rest[i] = byte(i)
	}
	return icmp(typ, 0, rest)
}

// icmpError quotes the first bytes of an offending packet after 4 unused
// (or type-specific) bytes, as unreachable and time-exceeded messages do.
func icmpError(typ, code uint8, quoted []byte) segment {
	return icmp(typ, code, append(make([]byte, 4), quoted...))
}

func icmp6(typ, code uint8, rest []byte) segment {
	return withPseudoChecksum(protoICMPv6, append([]byte{typ, code, 0, 0}, rest...), 2)
}

func icmp6Echo(typ uint8, id, seq uint16, payloadLen int) segment {
	rest := make([]byte, 4+payloadLen)
	binary.BigEndian.PutUint16(rest[0:], id)
	binary.BigEndian.PutUint16(rest[2:], seq)
	for i := 4; i < len(rest); i++ {
		rest[i] = byte(i)
	}
	return icmp6(typ, 0, rest)
}

// sctp is an SCTP packet with one chunk; its checksum is CRC32c.
func sctp(sport, dport uint16, chunkType uint8, chunkValue []byte) segment {
	chunkLen := 4 + len(chunkValue)
	b := make([]byte, 12+(chunkLen+3)&^3)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	if chunkType != 1 { // INIT carries verification tag 0
		binary.BigEndian.PutUint32(b[4:], 0x1badcafe)
	}
	b[12] = chunkType
	b[13] = 0x03
	binary.BigEndian.PutUint16(b[14:], uint16(chunkLen))
	copy(b[16:], chunkValue)
	crc := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	binary.LittleEndian.PutUint32(b[8:], crc)
	return raw(protoSCTP, b)
}

func sctpInit() []byte {
	v := make([]byte, 16)
	binary.BigEndian.PutUint32(v[0:], 0x1badcafe) // initiate tag
	binary.BigEndian.PutUint32(v[4:], 65536)      // a_rwnd
	binary.BigEndian.PutUint16(v[8:], 10)         // outbound streams
	binary.BigEndian.PutUint16(v[10:], 10)        // inbound streams
	binary.BigEndian.PutUint32(v[12:], 1)         // initial TSN
	return v
}

func sctpData(payload []byte) []byte {
	v := make([]byte, 12+len(payload))
	binary.BigEndian.PutUint32(v[0:], 1) // TSN
	binary.BigEndian.PutUint32(v[8:], 0) // PPID
	copy(v[12:], payload)
	return v
}

// igmp is an IGMPv1/v2 message.
func igmp(typ, maxResp uint8, group netip.Addr) segment {
	b := make([]byte, 8)
	b[0], b[1] = typ, maxResp
	copy(b[4:], group.AsSlice())
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return raw(protoIGMP, b)
}

// pimHello is a PIMv2 Hello with a holdtime option.
func pimHello() segment {
	b := []byte{0x20, 0, 0, 0, 0, 1, 0, 2, 0, 105}
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return raw(protoPIM, b)
}

// vrrp is a VRRPv2 advertisement for one virtual address.
func vrrp(vrid uint8, addr netip.Addr) segment {
	b := []byte{0x21, vrid, 100, 1, 0, 1, 0, 0}
	b = append(b, addr.AsSlice()...)
	b = append(b, make([]byte, 8)...) // authentication data
	binary.BigEndian.PutUint16(b[6:], checksum(b))
	return raw(protoVRRP, b)
}

// esp is an ESP packet: SPI, sequence, then opaque ciphertext.
func esp(spi, seq uint32, n int) segment {
	b := make([]byte, 8+n)
	binary.BigEndian.PutUint32(b[0:], spi)
	binary.BigEndian.PutUint32(b[4:], seq)
	for i := 8; i < len(b); i++ {
		b[i] = byte(i*151 + 7)
	}
	return raw(protoESP, b)
}

// ah wraps inner in an Authentication Header with a 12-byte ICV.
func ah(spi uint32, inner segment) segment {
	return segment{protoAH, func(src, dst netip.Addr) []byte {
		h := make([]byte, 24)
		h[0] = inner.proto
		h[1] = 4 // (24 / 4) - 2
		binary.BigEndian.PutUint32(h[4:], spi)
		binary.BigEndian.PutUint32(h[8:], 1)
		for i := 12; i < 24; i++ {
			h[i] = byte(i * 37)
		}
		return append(h, inner.build(src, dst)...)
	}}
}

// gre wraps a packet of the given EtherType in a plain GRE header.
func gre(etherType uint16, inner []byte) segment {
	h := []byte{0, 0, byte(etherType >> 8), byte(etherType)}
	return raw(protoGRE, append(h, inner...))
}

// arp is an Ethernet/IPv4 ARP or RARP body.
func arp(op uint16, sha mac, spa netip.Addr, tha mac, tpa netip.Addr) []byte {
	b := make([]byte, 28)
	binary.BigEndian.PutUint16(b[0:], 1)
	binary.BigEndian.PutUint16(b[2:], etherTypeIPv4)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:], op)
	copy(b[8:], sha[:])
	copy(b[14:], spa.AsSlice())
	copy(b[18:], tha[:])
	copy(b[24:], tpa.AsSlice())
	return b
}
