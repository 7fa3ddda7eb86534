package filter

import (
	"encoding/binary"

	"github.com/weircap/weir/pcap"
)

// Linux cooked-capture protocol values for 802.2 and raw 802.3 frames.
const (
	sllP8022 = 0x0004
	sllP8023 = 0x0001
)

// BSD address-family values seen in DLT_NULL and DLT_LOOP headers.
const (
	afInet         = 2
	afInet6Linux   = 10
	afInet6BSD     = 24 // NetBSD, OpenBSD, BSD/OS, Npcap
	afInet6FreeBSD = 28
	afInet6Darwin  = 30
)

// linkType tests the packet's link-layer protocol type (libpcap
// gen_linktype): llProto is an Ethernet type, or an LLC SAP when <= 1500.
func (g *gen) linkType(llProto uint32) frag {
	g.requireLayout()
	if g.labelDepth > 0 {
		return g.mplsLinkType(llProto)
	}
	switch g.link {
	case pcap.LinkTypeEthernet:
		// A Geneve payload's type is an Ethertype with or without an
		// inner Ethernet header, so no check that one is there.
		return g.etherLinkType(llProto)
	case pcap.LinkTypeCHDLC:
		if llProto == llcSAPISONS {
			llProto = llProto<<8 | llcSAPISONS
		}
		return g.cmp(relLinkType, 0, SizeH, llProto)
	case pcap.LinkTypePPP:
		return g.cmp(relLinkType, 0, SizeH, pppType(llProto))
	case pcap.LinkTypeIEEE802_11, pcap.LinkTypePrismHeader, pcap.LinkTypeIEEE802_11Radio,
		pcap.LinkTypeIEEE802_11AVS, pcap.LinkTypePPI:
		return g.wlanLinkType(llProto)
	case pcap.LinkTypeLinuxSLL:
		return g.sllLinkType(llProto)
	case pcap.LinkTypeRaw:
		// No type field: the IP version nibble tells.
		switch llProto {
		case ethertypeIP:
			return g.mcmp(relLinkHdr, 0, SizeB, 0x40, 0xf0)
		case ethertypeIPv6:
			return g.mcmp(relLinkHdr, 0, SizeB, 0x60, 0xf0)
		}
		return g.genFalse()
	case pcap.LinkTypeIPv4:
		if llProto == ethertypeIP {
			return g.genTrue()
		}
		return g.genFalse()
	case pcap.LinkTypeIPv6:
		if llProto == ethertypeIPv6 {
			return g.genTrue()
		}
		return g.genFalse()
	case pcap.LinkTypeNull, pcap.LinkTypeLoop:
		return g.loopbackLinkType(llProto)
	}
	// Link types whose type field holds an Ethernet type (LINUX_SLL2).
	return g.cmp(relLinkType, 0, SizeH, llProto)
}

// PPP protocol numbers for the Ethernet types libpcap maps.
const (
	pppIP        = 0x0021
	pppOSI       = 0x0023
	pppNS        = 0x0025
	pppDECnet    = 0x0027
	pppAppleTalk = 0x0029
	pppIPX       = 0x002b
	pppBridgePDU = 0x0031
	pppIPv6      = 0x0057
	pppMPLSUcast = 0x0281

	ethertypeNS = 0x0600
)

// pppType maps an Ethernet type (or LLC SAP) to the PPP protocol number
// (libpcap ethertype_to_ppptype); others pass through.
func pppType(llProto uint32) uint32 {
	switch llProto {
	case ethertypeIP:
		return pppIP
	case ethertypeIPv6:
		return pppIPv6
	case ethertypeDN:
		return pppDECnet
	case ethertypeATalk:
		return pppAppleTalk
	case ethertypeNS:
		return pppNS
	case llcSAPISONS:
		return pppOSI
	case llcSAP8021D:
		return pppBridgePDU
	case llcSAPIPX:
		return pppIPX
	}
	return llProto
}

// mplsLinkType checks for IPv4 or IPv6 inside MPLS: the bottom-of-stack
// bit of the last label, then the IP version (libpcap gen_mpls_linktype).
func (g *gen) mplsLinkType(llProto uint32) frag {
	var version uint32
	switch llProto {
	case ethertypeIP:
		version = 0x40
	case ethertypeIPv6:
		version = 0x60
	default:
		g.fail("unsupported protocol over mpls")
	}
	b0 := g.mcmp(relLinkPL, -2, SizeB, 0x01, 0x01)
	return and(b0, g.mcmp(relLinkPL, 0, SizeB, version, 0xf0))
}

// etherLinkType tells Ethernet II from 802.3 frames the way libpcap's
// gen_ether_linktype does.
func (g *gen) etherLinkType(llProto uint32) frag {
	switch llProto {
	case llcSAPISONS, llcSAPIP, llcSAPNetBEUI:
		// Always 802.2: check DSAP and SSAP.
		b0 := not(g.cmpGT(relLinkType, 0, SizeH, etherMTU))
		b1 := g.cmp(relLLC, 0, SizeH, llProto<<8|llProto)
		return and(b0, b1)
	case llcSAPIPX:
		// Ethernet_II, Ethernet_802.3 (0xffff), Ethernet_802.2 and SNAP.
		b1 := or(g.cmp(relLLC, 0, SizeB, llcSAPIPX), g.cmp(relLLC, 0, SizeH, 0xffff))
		b1 = or(g.snap(0x000000, ethertypeIPX), b1)
		b1 = and(not(g.cmpGT(relLinkType, 0, SizeH, etherMTU)), b1)
		return or(g.cmp(relLinkType, 0, SizeH, ethertypeIPX), b1)
	case ethertypeATalk, ethertypeAARP:
		b0 := not(g.cmpGT(relLinkType, 0, SizeH, etherMTU))
		var b1 frag
		if llProto == ethertypeATalk {
			b1 = g.snap(0x080007, ethertypeATalk)
		} else {
			b1 = g.snap(0x000000, ethertypeAARP)
		}
		b1 = and(b0, b1)
		return or(g.cmp(relLinkType, 0, SizeH, llProto), b1)
	}
	if llProto <= etherMTU {
		// An LLC SAP: an 802.3 frame with that DSAP.
		b0 := not(g.cmpGT(relLinkType, 0, SizeH, etherMTU))
		return and(b0, g.cmp(relLinkType, 2, SizeB, llProto))
	}
	return g.cmp(relLinkType, 0, SizeH, llProto)
}

// sllLinkType is libpcap's gen_linux_sll_linktype: 802.2 and 802.3 frames
// carry pseudo protocol values in the cooked header.
func (g *gen) sllLinkType(llProto uint32) frag {
	switch llProto {
	case llcSAPISONS, llcSAPIP, llcSAPNetBEUI:
		b0 := g.cmp(relLinkType, 0, SizeH, sllP8022)
		return and(b0, g.cmp(relLLC, 0, SizeH, llProto<<8|llProto))
	case llcSAPIPX:
		b1 := or(g.cmp(relLLC, 0, SizeB, llcSAPIPX), g.snap(0x000000, ethertypeIPX))
		b1 = and(g.cmp(relLinkType, 0, SizeH, sllP8022), b1)
		b1 = or(g.cmp(relLinkType, 0, SizeH, sllP8023), b1)
		return or(g.cmp(relLinkType, 0, SizeH, ethertypeIPX), b1)
	case ethertypeATalk, ethertypeAARP:
		b0 := g.cmp(relLinkType, 0, SizeH, sllP8022)
		var b1 frag
		if llProto == ethertypeATalk {
			b1 = g.snap(0x080007, ethertypeATalk)
		} else {
			b1 = g.snap(0x000000, ethertypeAARP)
		}
		b1 = and(b0, b1)
		return or(g.cmp(relLinkType, 0, SizeH, llProto), b1)
	}
	if llProto <= etherMTU {
		b0 := g.cmp(relLinkType, 0, SizeH, sllP8022)
		return and(b0, g.cmp(relLinkHdr, g.offLinkPL.constant, SizeB, llProto))
	}
	return g.cmp(relLinkType, 0, SizeH, llProto)
}

// snap checks an 802.2 SNAP header with the given OUI and protocol type.
func (g *gen) snap(orgCode, ptype uint32) frag {
	block := []byte{llcSAPSNAP, llcSAPSNAP, 0x03,
		byte(orgCode >> 16), byte(orgCode >> 8), byte(orgCode),
		byte(ptype >> 8), byte(ptype)}
	return g.bcmp(relLLC, 0, block)
}

// loopbackLinkType compares the address family word of DLT_NULL and
// DLT_LOOP headers. DLT_LOOP stores it big-endian; DLT_NULL in the byte
// order of the machine that captured, which for a file is the file's.
// Reading a file, every BSD value of AF_INET6 counts, as libpcap does.
func (g *gen) loopbackLinkType(llProto uint32) frag {
	switch llProto {
	case ethertypeIP:
		return g.loopbackFamily(afInet)
	case ethertypeIPv6:
		if g.cfg.Savefile {
			b1 := or(g.loopbackFamily(afInet6BSD), g.loopbackFamily(afInet6FreeBSD))
			return or(g.loopbackFamily(afInet6Darwin), b1)
		}
		return g.loopbackFamily(afInet6Linux)
	}
	return g.genFalse()
}

func (g *gen) loopbackFamily(af uint32) frag {
	if g.link == pcap.LinkTypeNull && !g.nullHeaderBigEndian() {
		af = af<<24 | (af<<8)&0xff0000 | (af>>8)&0xff00 | af>>24
	}
	return g.cmp(relLinkHdr, 0, SizeW, af)
}

// nullHeaderBigEndian tells the byte order of DLT_NULL's family word: the
// file's for a capture file, this machine's otherwise.
func (g *gen) nullHeaderBigEndian() bool {
	if g.cfg.Savefile {
		return g.cfg.SavefileBigEndian
	}
	var probe [2]byte
	binary.NativeEndian.PutUint16(probe[:], 1)
	return probe[0] == 0
}
