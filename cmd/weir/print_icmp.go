package main

import "encoding/binary"

// icmpNames are tcpdump's words for ICMP types printed without detail.
var icmpNames = map[byte]string{
	4:  "source quench",
	9:  "router advertisement",
	10: "router solicitation",
	12: "parameter problem",
	14: "time stamp reply",
	15: "information request",
	16: "information reply",
	17: "address mask request",
	18: "address mask reply",
}

// unreachableText is how tcpdump words a destination-unreachable code:
// prefix, the original destination, suffix.
var unreachableText = [...]struct{ prefix, suffix string }{
	0:  {"net ", " unreachable"},
	1:  {"host ", " unreachable"},
	5:  {"", " unreachable - source route failed"},
	6:  {"net ", " unreachable - unknown"},
	7:  {"host ", " unreachable - unknown"},
	8:  {"", " unreachable - source host isolated"},
	9:  {"net ", " unreachable - admin prohibited"},
	10: {"host ", " unreachable - admin prohibited"},
	11: {"net ", " unreachable - tos prohibited"},
	12: {"host ", " unreachable - tos prohibited"},
	13: {"host ", " unreachable - admin prohibited filter"},
	14: {"host ", " unreachable - host precedence violation"},
	15: {"host ", " unreachable - precedence cutoff"},
}

// appendICMPv4 prints "ICMP <what>, length N" as tcpdump's icmp_print
// without -v; errors name the destination of the packet they quote.
func appendICMPv4(b []byte, data []byte, length int) []byte {
	b = append(b, "ICMP "...)
	if len(data) < 8 {
		return append(b, "[|icmp]"...)
	}
	typ, code := data[0], data[1]
	switch typ {
	case 0, 8:
		if typ == 0 {
			b = append(b, "echo reply"...)
		} else {
			b = append(b, "echo request"...)
		}
		b = append(b, ", id "...)
		b = appendInt(b, int(binary.BigEndian.Uint16(data[4:6])))
		b = append(b, ", seq "...)
		b = appendInt(b, int(binary.BigEndian.Uint16(data[6:8])))
	case 3:
		var ok bool
		if b, ok = appendUnreachable(b, code, data); !ok {
			return b
		}
	case 5:
		if len(data) < 8+20 {
			return append(b, "[|icmp]"...)
		}
		if code >= 2 {
			b = append(b, "redirect-tos "...)
		} else {
			b = append(b, "redirect "...)
		}
		b = appendIPv4(b, data[8+16:8+20])
		if code%2 == 0 {
			b = append(b, " to net "...)
		} else {
			b = append(b, " to host "...)
		}
		b = appendIPv4(b, data[4:8])
	case 13:
		b = append(b, "time stamp query id "...)
		b = appendInt(b, int(binary.BigEndian.Uint16(data[4:6])))
		b = append(b, " seq "...)
		b = appendInt(b, int(binary.BigEndian.Uint16(data[6:8])))
	case 11:
		switch code {
		case 0:
			b = append(b, "time exceeded in-transit"...)
		case 1:
			b = append(b, "ip reassembly time exceeded"...)
		default:
			b = append(b, "time exceeded-#"...)
			b = appendInt(b, int(code))
		}
	default:
		if name, ok := icmpNames[typ]; ok {
			b = append(b, name...)
		} else {
			b = append(b, "type-#"...)
			b = appendInt(b, int(typ))
		}
	}
	b = append(b, ", length "...)
	return appendInt(b, length)
}

// appendUnreachable words a destination-unreachable message from the IP
// header it quotes; ok is false when that header was not captured.
func appendUnreachable(b []byte, code byte, data []byte) ([]byte, bool) {
	quoted := data[8:]
	if len(quoted) < 20 {
		return append(b, "[|icmp]"...), false
	}
	dst := quoted[16:20]
	proto := quoted[9]
	switch code {
	case 2:
		b = appendIPv4(b, dst)
		b = append(b, " protocol "...)
		b = appendInt(b, int(proto))
		return append(b, " unreachable"...), true
	case 3:
		headerLen := int(quoted[0]&0x0f) * 4
		if len(quoted) < headerLen+4 {
			return append(b, "[|icmp]"...), false
		}
		port := int(binary.BigEndian.Uint16(quoted[headerLen+2:]))
		b = appendIPv4(b, dst)
		switch proto {
		case protoTCP:
			b = append(b, " tcp port "...)
		case protoUDP:
			b = append(b, " udp port "...)
		default:
			b = append(b, " protocol "...)
			b = appendInt(b, int(proto))
			b = append(b, " port "...)
		}
		b = appendInt(b, port)
		return append(b, " unreachable"...), true
	case 4:
		b = appendIPv4(b, dst)
		b = append(b, " unreachable - need to frag"...)
		if mtu := int(binary.BigEndian.Uint16(data[6:8])); mtu != 0 {
			b = append(b, " (mtu "...)
			b = appendInt(b, mtu)
			b = append(b, ')')
		}
		return b, true
	}
	if int(code) < len(unreachableText) && unreachableText[code].suffix != "" {
		text := unreachableText[code]
		b = append(b, text.prefix...)
		b = appendIPv4(b, dst)
		return append(b, text.suffix...), true
	}
	b = appendIPv4(b, dst)
	b = append(b, " unreachable - #"...)
	return appendInt(b, int(code)), true
}

// icmp6Names are tcpdump's words for ICMPv6 types.
var icmp6Names = map[byte]string{
	1:   "destination unreachable",
	2:   "packet too big",
	3:   "time exceeded in-transit",
	4:   "parameter problem",
	128: "echo request",
	129: "echo reply",
	130: "multicast listener query",
	131: "multicast listener report",
	132: "multicast listener done",
	133: "router solicitation",
	134: "router advertisement",
	135: "neighbor solicitation",
	136: "neighbor advertisement",
	137: "redirect",
	138: "router renumbering",
	139: "node information query",
	140: "node information reply",
	141: "inverse neighbor discovery solicitation",
	142: "inverse neighbor discovery advertisement",
	143: "multicast listener report v2",
	144: "ha discovery request",
	145: "ha discovery reply",
	146: "mobile router solicitation",
	147: "mobile router advertisement",
}

// appendICMPv6 prints "ICMP6, <what>, length N" as tcpdump's icmp6_print
// without -v.
func appendICMPv6(b []byte, data []byte, length int) []byte {
	b = append(b, "ICMP6, "...)
	if len(data) < 4 {
		return append(b, "[|icmp6]"...)
	}
	typ := data[0]
	if name, ok := icmp6Names[typ]; ok {
		b = append(b, name...)
	} else {
		b = append(b, "type-#"...)
		b = appendInt(b, int(typ))
	}
	switch {
	case (typ == 128 || typ == 129) && len(data) >= 8:
		b = append(b, ", id "...)
		b = appendInt(b, int(binary.BigEndian.Uint16(data[4:6])))
		b = append(b, ", seq "...)
		b = appendInt(b, int(binary.BigEndian.Uint16(data[6:8])))
	case typ == 135 && len(data) >= 24:
		b = append(b, ", who has "...)
		b = appendIPv6(b, data[8:24])
	case typ == 136 && len(data) >= 24:
		b = append(b, ", tgt is "...)
		b = appendIPv6(b, data[8:24])
	}
	b = append(b, ", length "...)
	return appendInt(b, length)
}
