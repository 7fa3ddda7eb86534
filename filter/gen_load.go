package filter

import "github.com/weircap/weir/pcap"

// Link types whose link-layer header does not start at the first byte of
// the packet (a pseudo-header): loads relative to it need layout knowledge
// weir does not have for them yet.
var linkHeaderNotAtStart = map[pcap.LinkType]bool{
	240: true, // NETANALYZER
	241: true, // NETANALYZER_TRANSPARENT
}

func (g *gen) requireLinkHeaderAtStart() {
	if linkHeaderNotAtStart[g.outermostLink] {
		g.requireLayout()
	}
}

// offRel says what a load offset is relative to, as libpcap's e_offrel.
type offRel int

const (
	relPacket       offRel = iota // start of the packet
	relLinkHdr                    // link-layer header
	relPrevLinkHdr                // the link-layer header outside the current one
	relLLC                        // link-layer payload (802.2 LLC header)
	relPrevMPLSHdr                // the MPLS label before the current payload
	relLinkPL                     // network-layer header
	relLinkPLNoSnap               // network-layer header after 802.2 without SNAP
	relLinkType                   // link-layer type field
	relTranIPv4                   // transport header after an IPv4 header of any length
	relTranIPv6                   // transport header after a fixed IPv6 header
)

func ldAbs(size uint16, k int) statement {
	return statement{op: ClassLd | ModeAbs | size, k: uint32(k)}
}

func ldInd(size uint16, k int) statement {
	return statement{op: ClassLd | ModeInd | size, k: uint32(k)}
}

// varPart loads an offset's variable part into X (libpcap
// gen_abs_offset_varpart); nil when the offset is constant.
func (g *gen) varPart(off *absOffset) []statement {
	if !off.variable {
		return nil
	}
	if off.reg < 0 {
		off.reg = g.allocReg()
	}
	return []statement{ldxMem(off.reg)}
}

// loadRel loads the field at offset k from an absolute offset.
func (g *gen) loadRel(off *absOffset, k int, size uint16) []statement {
	if s := g.varPart(off); s != nil {
		return append(s, ldInd(size, off.constant+k))
	}
	return []statement{ldAbs(size, off.constant+k)}
}

// loadA loads the field at off, relative to rel, into A (libpcap gen_load_a).
func (g *gen) loadA(rel offRel, off int, size uint16) []statement {
	switch rel {
	case relPacket:
		return []statement{ldAbs(size, off)}
	case relLinkHdr:
		g.requireLinkHeaderAtStart()
		return g.loadRel(&g.offLinkHdr, off, size)
	}
	g.requireLayout()
	switch rel {
	case relPrevLinkHdr:
		return g.loadRel(&g.offPrevLinkHdr, off, size)
	case relLLC:
		return g.loadRel(&g.offLinkPL, off, size)
	case relPrevMPLSHdr:
		return g.loadRel(&g.offLinkPL, g.offNL-4+off, size)
	case relLinkPL:
		return g.loadRel(&g.offLinkPL, g.offNL+off, size)
	case relLinkPLNoSnap:
		return g.loadRel(&g.offLinkPL, g.offNLNoSnap+off, size)
	case relLinkType:
		return g.loadRel(&g.offLinkType, off, size)
	case relTranIPv4:
		s := g.loadXIPHeaderLen()
		return append(s, ldInd(size, g.offLinkPL.constant+g.offNL+off))
	case relTranIPv6:
		return g.loadRel(&g.offLinkPL, g.offNL+40+off, size)
	}
	panic("filter: unknown offset base")
}

// loadXIPHeaderLen puts in X the IPv4 header length plus the variable part
// of the payload offset (libpcap gen_loadx_iphdrlen).
func (g *gen) loadXIPHeaderLen() []statement {
	g.requireLayout()
	k := g.offLinkPL.constant + g.offNL
	if s := g.varPart(&g.offLinkPL); s != nil {
		// No 4*([k]&0xf) with a variable base: compute it in A.
		return append(s,
			ldInd(SizeB, k),
			statement{op: ClassAlu | AluAnd | SrcK, k: 0xf},
			statement{op: ClassAlu | AluLsh | SrcK, k: 2},
			statement{op: ClassAlu | AluAdd | SrcX},
			statement{op: ClassMisc | MiscTax})
	}
	return []statement{{op: ClassLdx | ModeMsh | SizeB, k: uint32(k)}}
}
