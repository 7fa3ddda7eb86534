package filter

import "github.com/weircap/weir/pcap"

// OSI network-layer protocol identifiers and IS-IS PDU types.
const (
	isoCLNP = 0x81
	isoESIS = 0x82
	isoISIS = 0x83

	isisL1LANIIH = 15
	isisL2LANIIH = 16
	isisPTPIIH   = 17
	isisL1LSP    = 18
	isisL2LSP    = 20
	isisL1CSNP   = 24
	isisL2CSNP   = 25
	isisL1PSNP   = 26
	isisL2PSNP   = 27
)

// proto tests a protocol number carried by another protocol's header
// (libpcap gen_proto): "ip proto 6", "ip6 proto 17", "ether proto 0x800".
func (g *gen) proto(v uint32, proto Proto, dir Dir) frag {
	if dir != DirDefault {
		g.fail("direction applied to 'proto'")
	}
	switch proto {
	case ProtoDefault:
		return or(g.proto(v, ProtoIP, dir), g.proto(v, ProtoIPv6, dir))
	case ProtoLink:
		return g.linkType(v)
	case ProtoIP:
		return and(g.linkType(ethertypeIP), g.cmp(relLinkPL, 9, SizeB, v))
	case ProtoIPv6:
		b0 := g.linkType(ethertypeIPv6)
		// Also look behind a fragment header.
		b1 := and(g.cmp(relLinkPL, 6, SizeB, ipprotoFragment), g.cmp(relLinkPL, 40, SizeB, v))
		b1 = or(g.cmp(relLinkPL, 6, SizeB, v), b1)
		return and(b0, b1)
	case ProtoISO:
		if g.link == pcap.LinkTypeCHDLC {
			// Cisco's 0xfefe type, then a byte of padding before the NLPID.
			b0 := g.linkType(llcSAPISONS<<8 | llcSAPISONS)
			return and(b0, g.cmp(relLinkPLNoSnap, 1, SizeB, v))
		}
		b0 := g.linkType(llcSAPISONS)
		return and(b0, g.cmp(relLinkPLNoSnap, 0, SizeB, v))
	case ProtoISIS:
		b0 := g.proto(isoISIS, ProtoISO, DirDefault)
		// The PDU type is at offset 4 of the IS-IS header.
		return and(b0, g.cmp(relLinkPLNoSnap, 4, SizeB, v))
	case ProtoARP, ProtoRARP, ProtoLAT, ProtoSCA, ProtoMOPRC, ProtoMOPDL:
		g.fail("%s does not encapsulate another protocol", proto)
	case ProtoAtalk:
		g.fail("AppleTalk encapsulation is not specifiable")
	case ProtoDecnet:
		g.fail("DECNET encapsulation is not specifiable")
	case ProtoCLNP:
		g.fail("'clnp proto' is not supported")
	}
	g.fail("'%s proto' is bogus", proto)
	return frag{}
}

// protoAbbrev compiles a protocol name on its own: "tcp", "ip6", "arp"
// (libpcap gen_proto_abbrev).
func (g *gen) protoAbbrev(proto Proto) frag {
	switch proto {
	case ProtoSCTP:
		return g.proto(ipprotoSCTP, ProtoDefault, DirDefault)
	case ProtoTCP:
		return g.proto(ipprotoTCP, ProtoDefault, DirDefault)
	case ProtoUDP:
		return g.proto(ipprotoUDP, ProtoDefault, DirDefault)
	case ProtoICMP:
		return g.proto(ipprotoICMP, ProtoIP, DirDefault)
	case ProtoIGMP:
		return g.proto(ipprotoIGMP, ProtoIP, DirDefault)
	case ProtoIGRP:
		return g.proto(9, ProtoIP, DirDefault)
	case ProtoPIM:
		return g.proto(ipprotoPIM, ProtoDefault, DirDefault)
	case ProtoVRRP, ProtoCARP:
		return g.proto(ipprotoVRRP, ProtoIP, DirDefault)
	case ProtoIP:
		return g.linkType(ethertypeIP)
	case ProtoARP:
		return g.linkType(ethertypeARP)
	case ProtoRARP:
		return g.linkType(ethertypeRevARP)
	case ProtoLink:
		g.fail("link layer applied in wrong context")
	case ProtoAtalk:
		return g.linkType(ethertypeATalk)
	case ProtoAARP:
		return g.linkType(ethertypeAARP)
	case ProtoDecnet:
		return g.linkType(ethertypeDN)
	case ProtoSCA:
		return g.linkType(ethertypeSCA)
	case ProtoLAT:
		return g.linkType(ethertypeLAT)
	case ProtoMOPDL:
		return g.linkType(ethertypeMOPDL)
	case ProtoMOPRC:
		return g.linkType(ethertypeMOPRC)
	case ProtoIPv6:
		return g.linkType(ethertypeIPv6)
	case ProtoICMPv6:
		return g.proto(ipprotoICMPv6, ProtoIPv6, DirDefault)
	case ProtoAH:
		return g.proto(ipprotoAH, ProtoDefault, DirDefault)
	case ProtoESP:
		return g.proto(ipprotoESP, ProtoDefault, DirDefault)
	case ProtoISO:
		return g.linkType(llcSAPISONS)
	case ProtoESIS:
		return g.proto(isoESIS, ProtoISO, DirDefault)
	case ProtoISIS:
		return g.proto(isoISIS, ProtoISO, DirDefault)
	case ProtoISISL1:
		return g.isisTypes(isisL1LANIIH, isisPTPIIH, isisL1LSP, isisL1CSNP, isisL1PSNP)
	case ProtoISISL2:
		return g.isisTypes(isisL2LANIIH, isisPTPIIH, isisL2LSP, isisL2CSNP, isisL2PSNP)
	case ProtoISISIIH:
		return g.isisTypes(isisL1LANIIH, isisL2LANIIH, isisPTPIIH)
	case ProtoISISLSP:
		return g.isisTypes(isisL1LSP, isisL2LSP)
	case ProtoISISSNP:
		return g.isisTypes(isisL1CSNP, isisL2CSNP, isisL1PSNP, isisL2PSNP)
	case ProtoISISCSNP:
		return g.isisTypes(isisL1CSNP, isisL2CSNP)
	case ProtoISISPSNP:
		return g.isisTypes(isisL1PSNP, isisL2PSNP)
	case ProtoCLNP:
		return g.proto(isoCLNP, ProtoISO, DirDefault)
	case ProtoSTP:
		return g.linkType(llcSAP8021D)
	case ProtoIPX:
		return g.linkType(llcSAPIPX)
	case ProtoNetBEUI:
		return g.linkType(llcSAPNetBEUI)
	case ProtoRadio:
		g.fail("'radio' is not a valid protocol type")
	}
	g.fail("'%s' is not a protocol test", proto)
	return frag{}
}

// isisTypes or-s IS-IS PDU type tests the way libpcap builds them: the
// first two or-ed, then each further one or-ed in front.
func (g *gen) isisTypes(types ...uint32) frag {
	b1 := or(g.proto(types[0], ProtoISIS, DirDefault), g.proto(types[1], ProtoISIS, DirDefault))
	for _, t := range types[2:] {
		b1 = or(g.proto(t, ProtoISIS, DirDefault), b1)
	}
	return b1
}

// lookupProto resolves a protocol name for "proto NAME" under a qualifier.
func (g *gen) lookupProto(name string, proto Proto) uint32 {
	switch proto {
	case ProtoDefault, ProtoIP, ProtoIPv6:
		if v, ok := lookupIPProto(name); ok {
			return uint32(v)
		}
		g.fail("unknown ip proto '%s'", name)
	case ProtoLink:
		if v, ok := etherProtoNames[name]; ok {
			return v
		}
		g.fail("unknown ether proto '%s'", name)
	case ProtoISO:
		switch name {
		case "esis":
			return isoESIS
		case "isis":
			return isoISIS
		case "clnp":
			return isoCLNP
		}
		g.fail("unknown osi proto '%s'", name)
	}
	g.fail("unknown protocol: %s", name)
	return 0
}
