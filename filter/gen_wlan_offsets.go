package filter

import "github.com/weircap/weir/pcap"

// Run-time offsets of 802.11 captures: code put before the whole program
// (libpcap insert_compute_vloffsets) loads the radio header's length into
// the link-layer header's slot, then the 802.11 header's length into the
// payload's slot. Each is computed only when some test uses its slot.

// radioHeaderLength loads the length of the radio header before the
// 802.11 header into the link-layer header's slot and X (libpcap
// gen_load_{radiotap,ppi,avs,prism}_llprefixlen); nil when nothing uses
// it or the capture has no radio header.
func (g *gen) radioHeaderLength() []statement {
	reg := g.offLinkHdr.reg
	if reg < 0 {
		return nil
	}
	store := []statement{stMem(reg), {op: ClassMisc | MiscTax}}
	switch g.outermostLink {
	case pcap.LinkTypeIEEE802_11Radio, pcap.LinkTypePPI:
		// A little-endian 16-bit length at offset 2.
		s := []statement{ldAbs(SizeB, 3), aluK(AluLsh, 8), {op: ClassMisc | MiscTax},
			ldAbs(SizeB, 2), {op: ClassAlu | AluOr | SrcX}}
		return append(s, store...)
	case pcap.LinkTypeIEEE802_11AVS:
		return append([]statement{ldAbs(SizeW, 4)}, store...)
	case pcap.LinkTypePrismHeader:
		// Some drivers give an AVS header on Prism links: the AVS
		// cookie says which, and the Prism header is 144 bytes.
		g.noOptimize = true
		avs, prism, common := g.newLabel(), g.newLabel(), g.newLabel()
		store[0].label = common
		s := []statement{ldAbs(SizeW, 0), aluK(AluAnd, 0xfffff000),
			{op: ClassJmp | JmpJeq | SrcK, k: 0x80211000, jt: avs, jf: prism},
			{op: ClassLd | ModeAbs | SizeW, k: 4, label: avs},
			{op: ClassJmp | JmpJa, k: 1},
			{op: ClassLd | ModeImm, k: 144, label: prism}}
		return append(s, store...)
	}
	return nil
}

// wlanHeaderLength computes where the 802.11 payload starts into the
// payload's slot (libpcap gen_load_802_11_header_len): 24 bytes after the
// link-layer header, 2 more for QoS data frames, rounded up to 4 when a
// radiotap header announces padding. Its jumps skip to next, the first
// statement of the rest of the program. prefix, if any, leaves the radio
// header's length in X.
func (g *gen) wlanHeaderLength(prefix []statement, next *statement) []statement {
	pl := g.offLinkPL.reg
	if pl < 0 {
		return prefix
	}
	g.noOptimize = true
	if next.label == 0 {
		next.label = g.newLabel()
	}
	skip := next.label
	s := prefix
	if s == nil {
		s = []statement{{op: ClassLdx | ModeImm, k: uint32(g.offOutermostLinkHdr.constant)}}
	}
	ctlBit, isData, qos := g.newLabel(), g.newLabel(), g.newLabel()
	afterQoS := skip
	if g.link == pcap.LinkTypeIEEE802_11Radio {
		afterQoS = g.newLabel()
	}
	s = append(s, statement{op: ClassMisc | MiscTxa}, aluK(AluAdd, 24), stMem(pl), ldInd(SizeB, 0),
		jsetIn(wlanTypeData, ctlBit, skip),
		withLabel(jsetIn(wlanTypeCtl, skip, isData), ctlBit),
		withLabel(jsetIn(wlanSubtypeQoS, qos, afterQoS), isData),
		withLabel(ldMem(pl), qos), aluK(AluAdd, 2), stMem(pl))
	if g.link == pcap.LinkTypeIEEE802_11Radio {
		s = append(s, g.radiotapPadding(afterQoS, skip)...)
	}
	return s
}

// radiotapPadding rounds the payload offset up to 4 when the radiotap
// flags (after the TSFT field, if present) carry "data pad", looking only
// at the first presence word as libpcap does. Radiotap words are
// little-endian, hence the swapped bit masks.
func (g *gen) radiotapPadding(start, skip int32) []statement {
	pl := g.offLinkPL.reg
	extCheck, tsftCheck, withTSFT, withoutTSFT, round := g.newLabel(), g.newLabel(), g.newLabel(), g.newLabel(), g.newLabel()
	const (
		flagsPresent = 0x02000000 // bit 1
		extPresent   = 0x00000080 // bit 31
		tsftPresent  = 0x01000000 // bit 0
		dataPad      = 0x20
	)
	return []statement{
		withLabel(ldAbs(SizeW, 4), start),
		jsetIn(flagsPresent, extCheck, skip),
		withLabel(jsetIn(extPresent, skip, tsftCheck), extCheck),
		withLabel(jsetIn(tsftPresent, withTSFT, withoutTSFT), tsftCheck),
		withLabel(ldAbs(SizeB, 16), withTSFT), jsetIn(dataPad, round, skip),
		withLabel(ldAbs(SizeB, 8), withoutTSFT), jsetIn(dataPad, round, skip),
		withLabel(ldMem(pl), round), aluK(AluAdd, 3), aluK(AluAnd, ^uint32(3)), stMem(pl),
	}
}

func aluK(op uint16, k uint32) statement { return statement{op: ClassAlu | op | SrcK, k: k} }

// jsetIn is a "jset" inside a block, to the statements labelled jt and jf.
func jsetIn(bits uint32, jt, jf int32) statement {
	return statement{op: ClassJmp | JmpJset | SrcK, k: bits, jt: jt, jf: jf}
}

func withLabel(s statement, label int32) statement {
	s.label = label
	return s
}

// ppiCheck tests that a PPI capture carries 802.11 (libpcap
// gen_ppi_dlt_check); the PPI header's DLT field is little-endian.
func (g *gen) ppiCheck() (frag, bool) {
	if g.link != pcap.LinkTypePPI {
		return frag{}, false
	}
	return leaf(&block{stmts: []statement{ldAbs(SizeW, 4)},
		jump: statement{op: ClassJmp | JmpJeq | SrcK, k: 0x69000000}}), true
}

// radioLoad is "radio[index]": bytes of the radio header itself.
func (g *gen) radioLoad(index arth, size uint16) arth {
	switch g.link {
	case pcap.LinkTypeIEEE802_11AVS, pcap.LinkTypeIEEE802_11Radio, pcap.LinkTypePrismHeader:
	default:
		g.fail("radio information not present in capture")
	}
	index.stmts = append(index.stmts, ldxMem(index.reg), ldInd(size, 0))
	return index
}
