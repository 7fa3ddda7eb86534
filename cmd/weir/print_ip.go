package main

import "encoding/binary"

// IP protocol numbers weir summarises, and IPv6 extension headers it
// walks through to find the transport.
const (
	protoHopByHop    = 0
	protoICMP        = 1
	protoTCP         = 6
	protoUDP         = 17
	protoRouting     = 43
	protoFragment    = 44
	protoAH          = 51
	protoICMPv6      = 58
	protoDestination = 60
)

// endpoints holds the addresses of an IP packet for the transport printers.
type endpoints struct {
	src, dst []byte // 4 or 16 bytes
}

func (e endpoints) appendAddr(b []byte, a []byte) []byte {
	if len(a) == 4 {
		return appendIPv4(b, a)
	}
	return appendIPv6(b, a)
}

// appendPair writes "src > dst: ", or with ports "src.sp > dst.dp: ".
func (e endpoints) appendPair(b []byte, withPorts bool, sport, dport uint16) []byte {
	b = e.appendAddr(b, e.src)
	if withPorts {
		b = append(b, '.')
		b = appendInt(b, int(sport))
	}
	b = append(b, " > "...)
	b = e.appendAddr(b, e.dst)
	if withPorts {
		b = append(b, '.')
		b = appendInt(b, int(dport))
	}
	return append(b, ": "...)
}

// appendIPv4Packet prints an IPv4 packet; length is its wire length, used
// when the header's total length is 0 (TCP segmentation offload).
func appendIPv4Packet(b []byte, data []byte, length int) []byte {
	b = append(b, "IP "...)
	if len(data) < 20 {
		return append(b, "[|ip]"...)
	}
	if data[0]>>4 != 4 {
		b = append(b, "bad-version "...)
		return appendInt(b, int(data[0]>>4))
	}
	headerLen := int(data[0]&0x0f) * 4
	if headerLen < 20 {
		b = append(b, "bad-hlen "...)
		return appendInt(b, headerLen)
	}
	totalLen := int(binary.BigEndian.Uint16(data[2:4]))
	if totalLen == 0 {
		totalLen = length
	}
	if totalLen < headerLen {
		b = append(b, "bad-len "...)
		return appendInt(b, totalLen)
	}
	ep := endpoints{src: data[12:16], dst: data[16:20]}
	proto := data[9]
	if binary.BigEndian.Uint16(data[6:8])&0x1fff != 0 {
		// A later fragment has no transport header to read.
		b = ep.appendPair(b, false, 0, 0)
		b = append(b, "ip-proto-"...)
		return appendInt(b, int(proto))
	}
	var payload []byte
	if headerLen <= len(data) {
		payload = data[headerLen:]
	}
	return appendTransport(b, ep, proto, payload, totalLen-headerLen)
}

// appendIPv6Packet prints an IPv6 packet, looking through extension
// headers for the transport.
func appendIPv6Packet(b []byte, data []byte, length int) []byte {
	b = append(b, "IP6 "...)
	if len(data) < 40 {
		return append(b, "[|ip6]"...)
	}
	if data[0]>>4 != 6 {
		b = append(b, "bad-version "...)
		return appendInt(b, int(data[0]>>4))
	}
	payloadLen := int(binary.BigEndian.Uint16(data[4:6]))
	if payloadLen == 0 { // jumbogram or segmentation offload
		payloadLen = length - 40
	}
	ep := endpoints{src: data[8:24], dst: data[24:40]}
	next := data[6]
	data = data[40:]
	for {
		var headerLen int
		switch next {
		case protoHopByHop, protoRouting, protoDestination:
			if len(data) < 2 {
				return append(ep.appendPair(b, false, 0, 0), "[|ip6]"...)
			}
			headerLen = (int(data[1]) + 1) * 8
		case protoAH:
			if len(data) < 2 {
				return append(ep.appendPair(b, false, 0, 0), "[|ah]"...)
			}
			headerLen = (int(data[1]) + 2) * 4
		case protoFragment:
			if len(data) < 8 {
				return append(ep.appendPair(b, false, 0, 0), "[|frag]"...)
			}
			if offset := int(binary.BigEndian.Uint16(data[2:4]) &^ 7); offset != 0 {
				b = ep.appendPair(b, false, 0, 0)
				b = append(b, "frag ("...)
				b = appendInt(b, offset)
				b = append(b, '|')
				b = appendInt(b, payloadLen-8)
				return append(b, ')')
			}
			headerLen = 8
		default:
			return appendTransport(b, ep, next, data, payloadLen)
		}
		if headerLen > len(data) {
			return append(ep.appendPair(b, false, 0, 0), "[|ip6]"...)
		}
		next = data[0]
		data, payloadLen = data[headerLen:], payloadLen-headerLen
	}
}

// appendTransport prints the transport summary of tcpdump -q. data is the
// captured transport bytes, length their length according to IP.
func appendTransport(b []byte, ep endpoints, proto byte, data []byte, length int) []byte {
	switch proto {
	case protoTCP:
		if len(data) < 4 {
			return append(ep.appendPair(b, false, 0, 0), "[|tcp]"...)
		}
		b = ep.appendPair(b, true, binary.BigEndian.Uint16(data[0:2]), binary.BigEndian.Uint16(data[2:4]))
		headerLen := 20
		if len(data) >= 13 {
			headerLen = int(data[12]>>4) * 4
		}
		b = append(b, "tcp "...)
		if headerLen < 20 || headerLen > length {
			b = appendInt(b, length)
			b = append(b, " [bad hdr length "...)
			b = appendInt(b, headerLen)
			return append(b, ']')
		}
		return appendInt(b, length-headerLen)
	case protoUDP:
		if len(data) < 4 {
			return append(ep.appendPair(b, false, 0, 0), "[|udp]"...)
		}
		b = ep.appendPair(b, true, binary.BigEndian.Uint16(data[0:2]), binary.BigEndian.Uint16(data[2:4]))
		udpLen := length
		if len(data) >= 6 {
			udpLen = int(binary.BigEndian.Uint16(data[4:6]))
		}
		if udpLen > length {
			b = append(b, "UDP, bad length "...)
			b = appendInt(b, udpLen-8)
			b = append(b, " > "...)
			return appendInt(b, max(length-8, 0))
		}
		b = append(b, "UDP, length "...)
		return appendInt(b, max(udpLen-8, 0))
	case protoICMP:
		if len(ep.src) == 4 {
			return appendICMPv4(ep.appendPair(b, false, 0, 0), data, length)
		}
	case protoICMPv6:
		if len(ep.src) == 16 {
			return appendICMPv6(ep.appendPair(b, false, 0, 0), data, length)
		}
	}
	// tcpdump's default: a space before the protocol, then the length.
	b = ep.appendPair(b, false, 0, 0)
	b = append(b, " ip-proto-"...)
	b = appendInt(b, int(proto))
	b = append(b, ' ')
	return appendInt(b, length)
}
