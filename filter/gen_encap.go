package filter

import "github.com/weircap/weir/pcap"

// Encapsulations: after "vlan", "mpls", "pppoes" or "geneve", the rest of
// the expression looks inside, because the generator moves its offsets
// past the encapsulation header, as libpcap does ("vlan 100 and ip" tests
// the Ethertype after the tag). The move lasts to the end of the
// expression, whatever "or" and parentheses say, exactly as in libpcap.

// Ethertypes of encapsulations.
const (
	ethertype8021AD   = 0x88a8
	ethertype8021QinQ = 0x9100
	ethertypeTEB      = 0x6558 // transparent Ethernet bridging, in Geneve

	genevePort = 6081
)

// Linux ancillary data offsets (classic BPF loads at SKF_AD_OFF + n) for
// the VLAN tag the kernel takes out of the packet.
const (
	skfAdVLANTag        = 44
	skfAdVLANTagPresent = 48
)

// encap compiles "vlan [N]", "mpls [N]", "pppoed", "pppoes [N]" and
// "geneve [N]".
func (g *gen) encap(n *Encap) frag {
	switch n.Keyword {
	case "vlan":
		return g.vlan(n.N, n.HasN)
	case "mpls":
		return g.mpls(n.N, n.HasN)
	case "pppoed":
		g.requireLayout()
		return g.linkType(ethertypePPPoED)
	case "pppoes":
		return g.pppoes(n.N, n.HasN)
	case "geneve":
		return g.geneve(n.N, n.HasN)
	}
	g.fail("'%s' is not supported yet", n.Keyword)
	return frag{}
}

// vlan is libpcap's gen_vlan.
func (g *gen) vlan(vid uint32, hasVID bool) frag {
	if g.labelDepth > 0 {
		g.fail("no VLAN match after MPLS")
	}
	var f frag
	switch g.link {
	case pcap.LinkTypeEthernet:
		outermost := g.vlanDepth == 0 && !g.offLinkHdr.variable &&
			g.offLinkHdr.constant == g.offOutermostLinkHdr.constant
		if g.cfg.KernelVLAN && outermost {
			f = g.vlanKernel(vid, hasVID)
		} else {
			f = g.vlanInPacket(vid, hasVID)
		}
	case pcap.LinkTypeIEEE802_11, pcap.LinkTypePrismHeader, pcap.LinkTypeIEEE802_11Radio, pcap.LinkTypeIEEE802_11AVS:
		f = g.vlanInPacket(vid, hasVID)
	default:
		g.fail("no VLAN support for %s", g.link.Description())
	}
	g.vlanDepth++
	return f
}

// vlanTPID checks for an 802.1Q, 802.1ad or old QinQ tag.
func (g *gen) vlanTPID() frag {
	b1 := or(g.linkType(ethertype8021Q), g.linkType(ethertype8021AD))
	return or(b1, g.linkType(ethertype8021QinQ))
}

func (g *gen) vlanVID(vid uint32) frag {
	if vid > 0x0fff {
		g.fail("VLAN tag %d greater than maximum %d", vid, 0x0fff)
	}
	return g.mcmp(relLinkPL, 0, SizeH, vid, 0x0fff)
}

// vlanInPacket tests a tag that is in the packet data (files, and links
// whose kernel leaves tags in place) and moves past it.
func (g *gen) vlanInPacket(vid uint32, hasVID bool) frag {
	f := g.vlanTPID()
	if hasVID {
		f = and(f, g.vlanVID(vid))
	}
	g.offLinkPL.constant += 4
	g.offLinkType.constant += 4
	return f
}

// vlanKernel is for live AF_PACKET sockets, where the kernel may have
// taken the outer tag out of the packet into metadata: the tag is either
// there (ancillary "vlanp" and "vlan_tci" loads) or still in the packet,
// so the offsets after it become variable (libpcap
// gen_vlan_bpf_extensions, chosen with BPF_SPECIAL_VLAN_HANDLING).
func (g *gen) vlanKernel(vid uint32, hasVID bool) frag {
	present := leaf(&block{
		stmts: []statement{ldAbs(SizeB, skfAdOff+skfAdVLANTagPresent)},
		jump:  statement{op: ClassJmp | JmpJeq | SrcK, k: 1},
	})
	tpid := g.vlanTPID()
	var vidTest frag
	if hasVID {
		vidTest = g.vlanVID(vid)
	}
	// When the tag is not in metadata it is in the packet: shift the
	// variable parts before testing it there.
	g.vlanVarOffset = true
	shift := g.addToVarOffset(&g.offLinkPL, 4)
	shift = append(shift, g.addToVarOffset(&g.offLinkType, 4)...)
	tpid.head.stmts = append(shift, tpid.head.stmts...)
	f := or(present, tpid)
	if hasVID {
		g.vidFromMetadata(vidTest.head)
		f = and(f, vidTest)
	}
	return f
}

// addToVarOffset makes an offset variable and adds v to its slot.
func (g *gen) addToVarOffset(off *absOffset, v uint32) []statement {
	off.variable = true
	if off.reg < 0 {
		off.reg = g.allocReg()
	}
	return []statement{ldMem(off.reg), {op: ClassAlu | AluAdd | SrcK, k: v}, stMem(off.reg)}
}

// vidFromMetadata makes a VID test read the tag from metadata when the
// kernel holds it, and from the packet otherwise.
func (g *gen) vidFromMetadata(b *block) {
	inPacket := g.newLabel()
	fromMeta := g.newLabel()
	b.stmts[0].label = inPacket
	prefix := []statement{
		ldAbs(SizeB, skfAdOff+skfAdVLANTagPresent),
		{op: ClassJmp | JmpJeq | SrcK, k: 1, jt: fromMeta, jf: inPacket},
		{op: ClassLd | ModeAbs | SizeB, k: skfAdOff + skfAdVLANTag, label: fromMeta},
		// Skip the packet load but not the "and" that extracts the VID.
		{op: ClassJmp | JmpJa, k: uint32(len(b.stmts) - 1)},
	}
	b.stmts = append(prefix, b.stmts...)
}

// mpls is libpcap's gen_mpls.
func (g *gen) mpls(label uint32, hasLabel bool) frag {
	var f frag
	if g.labelDepth > 0 {
		// Inside a label stack: the previous label is not the bottom.
		f = g.mcmp(relPrevMPLSHdr, 2, SizeB, 0, 0x01)
	} else {
		switch g.link {
		case pcap.LinkTypeCHDLC, pcap.LinkTypeEthernet:
			f = g.linkType(ethertypeMPLS)
		case pcap.LinkTypePPP:
			f = g.linkType(pppMPLSUcast)
		default:
			g.requireLayout()
			g.fail("no MPLS support for %s", g.link.Description())
		}
	}
	if hasLabel {
		if label > 0xfffff {
			g.fail("MPLS label %d greater than maximum %d", label, 0xfffff)
		}
		f = and(f, g.mcmp(relLinkPL, 0, SizeW, label<<12, 0xfffff000))
	}
	g.offNLNoSnap += 4
	g.offNL += 4
	g.labelDepth++
	return f
}

// pppoes is libpcap's gen_pppoes: a PPPoE session, whose payload is a PPP
// packet without HDLC framing.
func (g *gen) pppoes(session uint32, hasSession bool) frag {
	g.requireLayout()
	f := g.linkType(ethertypePPPoES)
	if hasSession {
		if session > 0xffff {
			g.fail("PPPoE session number %d greater than maximum %d", session, 0xffff)
		}
		f = and(f, g.mcmp(relLinkPL, 0, SizeW, session, 0xffff))
	}
	hdr := absOffset{variable: g.offLinkPL.variable, reg: g.offLinkPL.reg,
		constant: g.offLinkPL.constant + g.offNL + 6} // past the PPPoE header
	g.pushLinkHeader(pcap.LinkTypePPP, hdr)
	g.offLinkType = g.offLinkHdr
	g.offLinkPL.constant = g.offLinkHdr.constant + 2
	g.offNL, g.offNLNoSnap = 0, 0
	return f
}

// geneve is libpcap's gen_geneve: a Geneve packet over UDP port 6081 (IPv4
// or IPv6), version 0, with the VNI if given; what follows looks at the
// encapsulated frame, which may or may not start with an Ethernet header.
func (g *gen) geneve(vni uint32, hasVNI bool) frag {
	g.requireLayout()
	b0 := g.geneve4(vni, hasVNI)
	f := or(b0, g.geneve6(vni, hasVNI))
	offsets := g.geneveOffsets()
	t := g.genTrue()
	t.head.stmts = append(offsets, t.head.stmts...)
	f = and(f, t)
	g.isGeneve = true
	return f
}

// geneveCheck tests the port, the version and the VNI.
func (g *gen) geneveCheck(port func(uint32, int, Dir) frag, rel offRel, vni uint32, hasVNI bool) frag {
	f := port(genevePort, ipprotoUDP, DirDst)
	f = and(f, g.mcmp(rel, 8, SizeB, 0, 0xc0))
	if hasVNI {
		if vni > 0xffffff {
			g.fail("Geneve VNI %d greater than maximum %d", vni, 0xffffff)
		}
		f = and(f, g.mcmp(rel, 12, SizeW, vni<<8, 0xffffff00))
	}
	return f
}

// geneve4 leaves the IPv4 header length (plus any variable link prefix)
// in A and X, in an always-true block after the checks.
func (g *gen) geneve4(vni uint32, hasVNI bool) frag {
	f := g.geneveCheck(g.port4, relTranIPv4, vni, hasVNI)
	s := append(g.loadXIPHeaderLen(), statement{op: ClassMisc | MiscTxa})
	return and(f, leaf(&block{stmts: s, jump: statement{op: ClassJmp | JmpJeq | SrcX}}))
}

// geneve6 does the same with IPv6's fixed 40-byte header.
func (g *gen) geneve6(vni uint32, hasVNI bool) frag {
	f := g.geneveCheck(g.port6, relTranIPv6, vni, hasVNI)
	var s []statement
	if v := g.varPart(&g.offLinkPL); v != nil {
		s = append(v, statement{op: ClassLd | ModeImm, k: 40}, statement{op: ClassAlu | AluAdd | SrcX})
	} else {
		s = []statement{{op: ClassLd | ModeImm, k: 40}}
	}
	s = append(s, statement{op: ClassMisc | MiscTax})
	return and(f, leaf(&block{stmts: s, jump: statement{op: ClassJmp | JmpJeq | SrcX}}))
}

// geneveOffsets computes, from the IP header length in A, where the
// encapsulated frame's type field, header and payload are, and makes them
// the current offsets (libpcap gen_geneve_offsets). Its jump inside the
// block keeps libpcap from optimizing, and weir follows.
func (g *gen) geneveOffsets() []statement {
	alu := func(op uint16, k uint32) statement { return statement{op: ClassAlu | op | SrcK, k: k} }
	tax := statement{op: ClassMisc | MiscTax}
	// The Geneve header: after the IP header (in A) and the UDP header.
	s := []statement{alu(AluAdd, uint32(g.offLinkPL.constant+g.offNL+8)), tax, alu(AluAdd, 2)}
	g.offLinkType = absOffset{variable: true, reg: g.allocReg()}
	s = append(s, stMem(g.offLinkType.reg),
		ldInd(SizeB, 0), alu(AluAnd, 0x3f), alu(AluMul, 4), // option length
		alu(AluAdd, 8), statement{op: ClassAlu | AluAdd | SrcX})
	g.pushLinkHeader(pcap.LinkTypeEthernet, absOffset{variable: true, reg: g.allocReg()})
	s = append(s, stMem(g.offLinkHdr.reg))
	g.noOptimize = true
	isEthernet, notEthernet := g.newLabel(), g.newLabel()
	s = append(s, ldInd(SizeH, 2), ldxMem(g.offLinkHdr.reg),
		statement{op: ClassJmp | JmpJeq | SrcK, k: ethertypeTEB, jt: isEthernet, jf: notEthernet},
		// An inner Ethernet frame: its type field and payload.
		statement{op: ClassMisc | MiscTxa, label: isEthernet}, alu(AluAdd, 12),
		stMem(g.offLinkType.reg), alu(AluAdd, 2), tax)
	g.offLinkPL = absOffset{variable: true, reg: g.allocReg()}
	s = append(s, statement{op: ClassStx, k: uint32(g.offLinkPL.reg), label: notEthernet})
	g.offNL = 0
	return s
}

// prevLinkHeaderCheck is what a test of the link header needs first inside
// an encapsulation (libpcap gen_prevlinkhdr_check): inside Geneve, that
// the frame has an Ethernet header at all.
func (g *gen) prevLinkHeaderCheck() (frag, bool) {
	if !g.isGeneve {
		return frag{}, false
	}
	// Geneve's offsets are purely variable: a frame with an Ethernet
	// header has its payload after its header.
	b := leaf(&block{
		stmts: []statement{ldMem(g.offLinkHdr.reg), ldxMem(g.offLinkPL.reg)},
		jump:  statement{op: ClassJmp | JmpJeq | SrcX},
	})
	return not(b), true
}

// insertVarOffsets puts, before everything else, the code that sets the
// scratch slots holding variable offsets (libpcap
// insert_compute_vloffsets): the lengths of 802.11 radio and MAC headers,
// or, with kernel VLAN metadata, payload and type offsets that start with
// no tag to skip. A PPI capture is then checked to carry 802.11.
func (g *gen) insertVarOffsets(f frag) frag {
	root := f.head
	if g.pushed {
		// libpcap fills the slots of the offsets in force at the end,
		// those of the encapsulated frame (geneve, pppoes), and leaves the
		// capture's own unset for the tests that came before: a read of
		// uninitialized scratch memory (the kernel refuses such a
		// program; libpcap's interpreter reads stack garbage). weir fills
		// the capture's own.
		// libpcap also decides on the radiotap padding and the PPI
		// check by the link type in force at the end; weir by the
		// capture's.
		innerHdr, innerPL, innerType, innerLink := g.offLinkHdr, g.offLinkPL, g.offLinkType, g.link
		g.offLinkHdr, g.offLinkPL, g.offLinkType, g.link = g.outerLinkHdr, g.outerLinkPL, g.outerLinkTyp, g.outermostLink
		defer func() {
			g.offLinkHdr, g.offLinkPL, g.offLinkType, g.link = innerHdr, innerPL, innerType, innerLink
		}()
	}
	// The payload offset includes the link header's: compute both.
	if g.offLinkPL.reg >= 0 && g.offLinkHdr.variable && g.offLinkHdr.reg < 0 {
		g.offLinkHdr.reg = g.allocReg()
	}
	s := g.radioHeaderLength()
	if isWLAN(g.outermostLink) {
		s = g.wlanHeaderLength(s, &root.stmts[0])
	}
	if s == nil && g.vlanVarOffset {
		if g.offLinkPL.reg < 0 {
			g.offLinkPL.reg = g.allocReg()
		}
		if g.offLinkType.reg < 0 {
			g.offLinkType.reg = g.allocReg()
		}
		s = []statement{{op: ClassLd | ModeImm, k: 0}, stMem(g.offLinkPL.reg), stMem(g.offLinkType.reg)}
	}
	root.stmts = append(s, root.stmts...)
	if check, ok := g.ppiCheck(); ok {
		f = and(check, f)
	}
	return f
}
