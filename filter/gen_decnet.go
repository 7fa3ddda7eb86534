package filter

import "math"

// DECnet Phase IV addresses: a 6-bit area and a 10-bit node in 16 bits,
// stored little-endian in the routing header.
const (
	decnetAreaShift = 10
	decnetAreaMask  = 0xfc00
	decnetNodeMask  = 0x03ff
)

// parseDECnet reads "area.node" the way libpcap's __pcap_atodn does
// (sscanf "%d.%d": anything after the node is ignored, the area keeps its
// low six bits).
func parseDECnet(s string) (uint32, bool) {
	area, rest, ok := leadingDecimal(s)
	if !ok || len(rest) == 0 || rest[0] != '.' {
		return 0, false
	}
	node, _, ok := leadingDecimal(rest[1:])
	if !ok {
		return 0, false
	}
	return uint32(area<<decnetAreaShift)&decnetAreaMask | uint32(node)&decnetNodeMask, true
}

// leadingDecimal reads the decimal digits at the start of s, saturating
// as strtol does.
func leadingDecimal(s string) (uint64, string, bool) {
	var v uint64
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if v > (math.MaxInt64-9)/10 {
			v = math.MaxInt64
			continue
		}
		v = v*10 + uint64(s[i]-'0')
	}
	return v, s[i:], i > 0
}

// decnetHost compiles "decnet [src|dst] host|net ADDR" for a number or
// an "area.node" address (libpcap gen_ncode with Q_DECNET).
func (g *gen) decnetHost(text string, v uint32, q Qualifiers) frag {
	if text != "" {
		var ok bool
		if v, ok = parseDECnet(text); !ok {
			g.fail("malformed decnet address '%s'", text)
		}
	}
	return g.host(v, 0, ProtoDecnet, q.Dir, q.Addr)
}

// dnhostop tests a DECnet source or destination address in data packets
// with long or short routing headers, with or without one byte of
// padding before them (libpcap gen_dnhostop). The header follows a
// 2-byte length; the flags byte tells the format.
func (g *gen) dnhostop(addr uint32, dir Dir) frag {
	var offLong, offShort int
	switch dir {
	case DirDst:
		offShort, offLong = 1, 7 // flags; flags, area, subarea, HIORD
	case DirSrc:
		offShort, offLong = 3, 15 // and the destination before it
	case DirSrcAndDst:
		b0 := g.dnhostop(addr, DirSrc)
		return and(b0, g.dnhostop(addr, DirDst))
	case DirDefault, DirSrcOrDst:
		b0 := g.dnhostop(addr, DirSrc)
		return or(b0, g.dnhostop(addr, DirDst))
	default:
		g.dirQualifierError(dir, "addresses other than 802.11 MAC addresses")
	}
	// The address is little-endian in the packet; loads are big-endian.
	swapped := (addr&0xff)<<8 | (addr>>8)&0xff
	b0 := g.linkType(ethertypeDN)
	// Padding byte 0x81, then a long-format data header (flags & 7 == 6).
	tmp := g.mcmp(relLinkPL, 2, SizeH, 0x8106, 0xff07)
	b1 := and(tmp, g.cmp(relLinkPL, 2+1+offLong, SizeH, swapped))
	// No padding, long format.
	tmp = g.mcmp(relLinkPL, 2, SizeB, 0x06, 0x07)
	b2 := and(tmp, g.cmp(relLinkPL, 2+offLong, SizeH, swapped))
	b1 = or(b2, b1)
	// Padding, short format (flags & 7 == 2).
	tmp = g.mcmp(relLinkPL, 2, SizeH, 0x8102, 0xff07)
	b2 = and(tmp, g.cmp(relLinkPL, 2+1+offShort, SizeH, swapped))
	b1 = or(b2, b1)
	// No padding, short format.
	tmp = g.mcmp(relLinkPL, 2, SizeB, 0x02, 0x07)
	b2 = and(tmp, g.cmp(relLinkPL, 2+offShort, SizeH, swapped))
	b1 = or(b2, b1)
	return and(b0, b1)
}
