package filter

import (
	"net/netip"
	"strings"
)

// dirQualifierError is libpcap's complaint about 802.11 direction words
// applied to something other than a MAC address.
func (g *gen) dirQualifierError(dir Dir, what string) {
	switch dir {
	case DirAddr1, DirAddr2, DirAddr3, DirAddr4:
		n := string("1234"[dir-DirAddr1])
		g.fail("'addr%s' and 'address%s' are not valid qualifiers for %s", n, n, what)
	case DirRA, DirTA:
		g.fail("'%s' is not a valid qualifier for %s", dir, what)
	}
}

// hostop tests an IPv4 address under a mask at the source and/or
// destination offsets of a protocol's header (libpcap gen_hostop).
func (g *gen) hostop(addr, mask uint32, dir Dir, llProto uint32, srcOff, dstOff int) frag {
	var off int
	switch dir {
	case DirSrc:
		off = srcOff
	case DirDst:
		off = dstOff
	case DirSrcAndDst:
		return and(g.hostop(addr, mask, DirSrc, llProto, srcOff, dstOff), g.hostop(addr, mask, DirDst, llProto, srcOff, dstOff))
	case DirDefault, DirSrcOrDst:
		return or(g.hostop(addr, mask, DirSrc, llProto, srcOff, dstOff), g.hostop(addr, mask, DirDst, llProto, srcOff, dstOff))
	default:
		g.dirQualifierError(dir, "addresses other than 802.11 MAC addresses")
	}
	b0 := g.linkType(llProto)
	return and(b0, g.mcmp(relLinkPL, off, SizeW, addr, mask))
}

// host is libpcap's gen_host for IPv4 hosts and networks.
func (g *gen) host(addr, mask uint32, proto Proto, dir Dir, addrKind Addr) frag {
	typ := "host"
	if addrKind == AddrNet {
		typ = "net"
	}
	switch proto {
	case ProtoDefault:
		b0 := g.host(addr, mask, ProtoIP, dir, addrKind)
		if g.labelDepth > 0 {
			return b0 // inside MPLS only IP can be there
		}
		b1 := or(b0, g.host(addr, mask, ProtoARP, dir, addrKind))
		return or(b1, g.host(addr, mask, ProtoRARP, dir, addrKind))
	case ProtoIP:
		return g.hostop(addr, mask, dir, ethertypeIP, 12, 16)
	case ProtoARP:
		return g.hostop(addr, mask, dir, ethertypeARP, 14, 24)
	case ProtoRARP:
		return g.hostop(addr, mask, dir, ethertypeRevARP, 14, 24)
	case ProtoLink:
		g.fail("link-layer modifier applied to %s", typ)
	case ProtoIPv6:
		g.fail("'ip6' modifier applied to ip host")
	case ProtoAtalk, ProtoLAT, ProtoSCA, ProtoMOPRC, ProtoMOPDL, ProtoAARP, ProtoISO, ProtoIPX:
		g.fail("%s host filtering not implemented", strings.ToUpper(proto.String()))
	case ProtoDecnet:
		return g.dnhostop(addr, dir)
	}
	g.fail("'%s' modifier applied to %s", proto, typ)
	return frag{}
}

// hostop6 compares an IPv6 address under a mask, last word first in the
// graph's construction but first word first in the program (gen_hostop6).
func (g *gen) hostop6(addr, mask [16]byte, dir Dir, srcOff, dstOff int) frag {
	var off int
	switch dir {
	case DirSrc:
		off = srcOff
	case DirDst:
		off = dstOff
	case DirSrcAndDst:
		return and(g.hostop6(addr, mask, DirSrc, srcOff, dstOff), g.hostop6(addr, mask, DirDst, srcOff, dstOff))
	case DirDefault, DirSrcOrDst:
		return or(g.hostop6(addr, mask, DirSrc, srcOff, dstOff), g.hostop6(addr, mask, DirDst, srcOff, dstOff))
	default:
		g.dirQualifierError(dir, "addresses other than 802.11 MAC addresses")
	}
	word := func(b [16]byte, i int) uint32 {
		return uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3])
	}
	b1 := g.mcmp(relLinkPL, off+12, SizeW, word(addr, 3), word(mask, 3))
	b1 = and(g.mcmp(relLinkPL, off+8, SizeW, word(addr, 2), word(mask, 2)), b1)
	b1 = and(g.mcmp(relLinkPL, off+4, SizeW, word(addr, 1), word(mask, 1)), b1)
	b1 = and(g.mcmp(relLinkPL, off, SizeW, word(addr, 0), word(mask, 0)), b1)
	return and(g.linkType(ethertypeIPv6), b1)
}

// host6 is libpcap's gen_host6.
func (g *gen) host6(addr, mask [16]byte, proto Proto, dir Dir, addrKind Addr) frag {
	typ := "host"
	if addrKind == AddrNet {
		typ = "net"
	}
	switch proto {
	case ProtoDefault, ProtoIPv6:
		return g.hostop6(addr, mask, dir, 8, 24)
	case ProtoLink:
		g.fail("link-layer modifier applied to ip6 %s", typ)
	case ProtoAtalk:
		g.fail("AppleTalk modifier applied to ip6 %s", typ)
	}
	g.fail("'%s' modifier applied to ip6 %s", proto, typ)
	return frag{}
}

// parseDotted reads a dotted IPv4 form of one to four decimal parts, as
// libpcap's __pcap_atoin: it returns the value of the parts and their
// length in bits ("10.1" is 0x0a01, 16 bits).
func parseDotted(s string) (value uint32, bits int, ok bool) {
	for part := range strings.SplitSeq(s, ".") {
		if part == "" || len(part) > 3 {
			return 0, 0, false
		}
		n := 0
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, 0, false
			}
			n = n*10 + int(c-'0')
		}
		if n > 255 {
			return 0, 0, false
		}
		value = value<<8 | uint32(n)
		bits += 8
	}
	if bits == 0 || bits > 32 {
		return 0, 0, false
	}
	return value, bits, true
}

// hostNumber compiles a numeric IPv4 host or network: a NUM (text "") or
// a dotted HID (libpcap gen_ncode's address part).
func (g *gen) hostNumber(text string, v uint32, q Qualifiers) frag {
	if q.Proto == ProtoDecnet {
		return g.decnetHost(text, v, q)
	}
	bits := 32
	if text != "" {
		var ok bool
		v, bits, ok = parseDotted(text)
		if !ok {
			g.fail("invalid IPv4 address '%s'", text)
		}
	}
	if q.Proto == ProtoLink {
		g.fail("illegal link layer address")
	}
	mask := uint32(0xffffffff)
	if text == "" && q.Addr == AddrNet {
		// A short network number is left-justified: "net 10" is 10/8.
		for v != 0 && v&0xff000000 == 0 {
			v <<= 8
			mask <<= 8
		}
	} else {
		// A short dotted address is a network: "host 10.1" is 10.1/16.
		v <<= 32 - bits
		mask <<= 32 - bits
	}
	return g.host(v, mask, q.Proto, q.Dir, q.Addr)
}

// maskedNet compiles "a.b.c.d/len" and "a.b.c.d mask m.m.m.m" (libpcap
// gen_mcode).
func (g *gen) maskedNet(p *Primitive) frag {
	text := p.Value.Text
	n, nbits, ok := parseDotted(text)
	if !ok {
		g.fail("invalid IPv4 address '%s'", text)
	}
	n <<= 32 - nbits
	var m uint32
	if p.Value.Mask != "" {
		mv, mbits, ok := parseDotted(p.Value.Mask)
		if !ok {
			g.fail("invalid IPv4 address '%s'", p.Value.Mask)
		}
		m = mv << (32 - mbits)
		if n&^m != 0 {
			g.fail("non-network bits set in \"%s mask %s\"", text, p.Value.Mask)
		}
	} else {
		if p.Value.Prefix > 32 {
			g.fail("mask length must be <= 32")
		}
		if p.Value.Prefix > 0 {
			m = 0xffffffff << (32 - p.Value.Prefix)
		}
		if n&^m != 0 {
			g.fail("non-network bits set in \"%s/%d\"", text, p.Value.Prefix)
		}
	}
	if p.Q.Addr != AddrNet {
		g.fail("mask syntax is for networks only: write 'net %s'", p.Value.Text)
	}
	return g.host(n, m, p.Q.Proto, p.Q.Dir, p.Q.Addr)
}

// host6Address compiles an IPv6 address with an optional prefix length
// (libpcap gen_mcode6).
func (g *gen) host6Address(p *Primitive) frag {
	addr, err := netip.ParseAddr(p.Value.Text)
	if err != nil || !addr.Is6() {
		g.fail("invalid ip6 address %s", p.Value.Text)
	}
	prefix := 128
	if p.Value.Prefix >= 0 {
		prefix = p.Value.Prefix
	}
	if prefix > 128 {
		g.fail("mask length must be <= 128")
	}
	var mask [16]byte
	for i := 0; i < prefix; i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	a := addr.As16()
	for i := range a {
		if a[i]&^mask[i] != 0 {
			g.fail("non-network bits set in \"%s/%d\"", p.Value.Text, prefix)
		}
	}
	switch p.Q.Addr {
	case AddrDefault, AddrHost:
		if prefix != 128 {
			g.fail("mask syntax is for networks only: write 'net %s/%d'", p.Value.Text, prefix)
		}
	case AddrNet:
	default:
		g.fail("invalid qualifier against IPv6 address")
	}
	return g.host6(a, mask, p.Q.Proto, p.Q.Dir, p.Q.Addr)
}

// parseMAC reads a MAC address the way pcap_ether_aton does: groups of one
// or two hex digits, optionally separated by ':', '.' or '-'.
func parseMAC(s string) ([]byte, bool) {
	var out []byte
	hex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	for i := 0; i < len(s); {
		if s[i] == ':' || s[i] == '.' || s[i] == '-' {
			i++
			if i == len(s) {
				return nil, false
			}
		}
		d, ok := hex(s[i])
		if !ok {
			return nil, false
		}
		i++
		if i < len(s) {
			if d2, ok := hex(s[i]); ok {
				d = d<<4 | d2
				i++
			}
		}
		out = append(out, d)
	}
	return out, len(out) == 6
}

// ehostop tests an Ethernet address at the source and/or destination.
func (g *gen) ehostop(mac []byte, dir Dir) frag {
	switch dir {
	case DirSrc:
		return g.bcmp(relLinkHdr, 6, mac)
	case DirDst:
		return g.bcmp(relLinkHdr, 0, mac)
	case DirSrcAndDst:
		return and(g.ehostop(mac, DirSrc), g.ehostop(mac, DirDst))
	case DirDefault, DirSrcOrDst:
		return or(g.ehostop(mac, DirSrc), g.ehostop(mac, DirDst))
	}
	switch dir {
	case DirAddr1, DirAddr2, DirAddr3, DirAddr4:
		n := string("1234"[dir-DirAddr1])
		g.fail("'addr%s' and 'address%s' are only supported on 802.11 with 802.11 headers", n, n)
	}
	g.fail("'%s' is only supported on 802.11 with 802.11 headers", dir)
	return frag{}
}

// macAddress compiles a MAC address value (libpcap gen_ecode).
func (g *gen) macAddress(p *Primitive) frag {
	if (p.Q.Addr != AddrHost && p.Q.Addr != AddrDefault) || p.Q.Proto != ProtoLink {
		g.fail("ethernet address used in non-ether expression")
	}
	mac, ok := parseMAC(p.Value.Text)
	if !ok {
		g.fail("invalid MAC address '%s'", p.Value.Text)
	}
	if isWLAN(g.link) {
		return g.wlanHostop(mac, p.Q.Dir)
	}
	if !g.isEthernet() {
		g.fail("ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel, not on %s", g.link.Name())
	}
	return g.withLinkHeaderCheck(g.ehostop(mac, p.Q.Dir))
}

// withLinkHeaderCheck puts the encapsulation's link-header check (inside
// Geneve: is there an Ethernet header?) before a link-header test.
func (g *gen) withLinkHeaderCheck(f frag) frag {
	if check, ok := g.prevLinkHeaderCheck(); ok {
		return and(check, f)
	}
	return f
}

// hostName compiles a host given by name: every address the resolver
// returns, or-ed together (libpcap gen_scode).
func (g *gen) hostName(p *Primitive) frag {
	name := p.Value.Text
	if p.Q.Proto == ProtoLink {
		return g.etherHostName(p)
	}
	if p.Q.Proto == ProtoDecnet {
		g.fail("decnet name support not included, '%s' cannot be translated", name)
	}
	addrs, err := g.resolver().LookupHost(name)
	if err != nil || len(addrs) == 0 {
		g.fail("unknown host '%s'", name)
	}
	proto4, proto6 := p.Q.Proto, p.Q.Proto
	if g.offLinkType.constant == offsetUnset && p.Q.Proto == ProtoDefault {
		// No link-layer type field: only IP can be there.
		proto4, proto6 = ProtoIP, ProtoIPv6
	}
	var b frag
	have := false
	full := [16]byte{}
	for i := range full {
		full[i] = 0xff
	}
	for _, a := range addrs {
		var tmp frag
		if a.Is4() || a.Is4In6() {
			if proto4 == ProtoIPv6 {
				continue
			}
			v := a.Unmap().As4()
			tmp = g.host(uint32(v[0])<<24|uint32(v[1])<<16|uint32(v[2])<<8|uint32(v[3]), 0xffffffff, proto4, p.Q.Dir, p.Q.Addr)
		} else {
			if proto6 == ProtoIP {
				continue
			}
			tmp = g.host6(a.As16(), full, proto6, p.Q.Dir, p.Q.Addr)
		}
		if have {
			tmp = or(b, tmp)
		}
		b, have = tmp, true
	}
	if !have {
		if p.Q.Proto == ProtoDefault {
			g.fail("unknown host '%s'", name)
		}
		g.fail("unknown host '%s' for specified address family", name)
	}
	return b
}

// netName compiles "net NAME" from the networks database.
func (g *gen) netName(p *Primitive) frag {
	addr, err := g.resolver().LookupNetwork(p.Value.Text)
	if err != nil || addr == 0 {
		g.fail("unknown network '%s'", p.Value.Text)
	}
	mask := uint32(0xffffffff)
	for addr != 0 && addr&0xff000000 == 0 {
		addr <<= 8
		mask <<= 8
	}
	return g.host(addr, mask, p.Q.Proto, p.Q.Dir, p.Q.Addr)
}
