package filter

import (
	"strconv"
	"strings"

	"github.com/weircap/weir/pcap"
)

// 802.11 (wireless LAN) captures: the link-layer header is an 802.11 MAC
// header of variable length (24 bytes, 2 more with QoS, padded to 4 when
// a radiotap header says so), optionally after a radio header of variable
// length (radiotap, AVS, Prism, PPI). Payload offsets are therefore
// computed at run time into scratch slots (gen_wlan_offsets.go), and
// protocol tests look at the 802.2 LLC/SNAP header of data frames, as
// libpcap does.

// isWLAN reports whether lt is one of libpcap's 802.11 link types.
func isWLAN(lt pcap.LinkType) bool {
	switch lt {
	case pcap.LinkTypeIEEE802_11, pcap.LinkTypePrismHeader, pcap.LinkTypeIEEE802_11Radio,
		pcap.LinkTypeIEEE802_11AVS, pcap.LinkTypePPI:
		return true
	}
	return false
}

// hasRadioHeader reports whether lt puts a radio header of variable
// length before the 802.11 header.
func hasRadioHeader(lt pcap.LinkType) bool {
	return isWLAN(lt) && lt != pcap.LinkTypeIEEE802_11
}

// initWLAN lays out an 802.11 link type as libpcap's init_linktype: the
// "type" offset is where an LLC header would be after a 24-byte MAC
// header, the payload offset is variable, and radio headers make the
// link-layer header's offset variable too.
func (g *gen) initWLAN(lt pcap.LinkType) {
	g.offLinkType.constant = 24
	g.offLinkPL = absOffset{variable: true, reg: -1}
	g.offLinkHdr.variable = hasRadioHeader(lt)
	g.offNL, g.offNLNoSnap = 8, 3 // 802.2 + SNAP; 802.2 alone
}

// Frame control bits of the first byte (type and subtype) and of the
// second (direction), as libpcap's ieee80211.h.
const (
	wlanTypeMask    = 0x0c
	wlanTypeMgt     = 0x00
	wlanTypeCtl     = 0x04
	wlanTypeData    = 0x08
	wlanSubtypeMask = 0xf0
	wlanSubtypeCTS  = 0xc0
	wlanSubtypeACK  = 0xd0
	wlanSubtypeQoS  = 0x80
	wlanDirMask     = 0x03
	wlanDirDSToDS   = 0x03
)

// jset tests bits of a field: a block "jset #bits" after the load.
func (g *gen) jset(rel offRel, off int, size uint16, bits uint32) frag {
	return leaf(&block{stmts: g.loadA(rel, off, size), jump: statement{op: ClassJmp | JmpJset | SrcK, k: bits}})
}

// checkDataFrame tests for an 802.11 data frame: type bit 0x08 set and
// 0x04 clear (libpcap gen_check_802_11_data_frame).
func (g *gen) checkDataFrame() frag {
	b0 := g.jset(relLinkHdr, 0, SizeB, 0x08)
	b1 := not(g.jset(relLinkHdr, 0, SizeB, 0x04))
	return and(b1, b0)
}

// wlanLinkType tests the protocol of an 802.11 data frame's payload (the
// 802.11 case of libpcap gen_linktype).
func (g *gen) wlanLinkType(llProto uint32) frag {
	b0 := g.checkDataFrame()
	return and(b0, g.llcLinkType(llProto))
}

// llcLinkType tests an 802.2 LLC header for a SAP, or a SNAP header for an
// Ethernet type (libpcap gen_llc_linktype): only the type field of the
// SNAP header is checked, as libpcap does.
func (g *gen) llcLinkType(llProto uint32) frag {
	switch llProto {
	case llcSAPIP, llcSAPISONS, llcSAPNetBEUI:
		return g.cmp(relLLC, 0, SizeH, llProto<<8|llProto)
	case llcSAPIPX:
		return g.cmp(relLLC, 0, SizeB, llcSAPIPX)
	case ethertypeATalk:
		return g.snap(0x080007, ethertypeATalk)
	}
	if llProto <= etherMTU {
		return g.cmp(relLLC, 0, SizeB, llProto)
	}
	return g.cmp(relLLC, 6, SizeH, llProto)
}

// wlanFrameBit tests one bit of a frame control byte, or its absence.
func (g *gen) wlanFrameBit(off int, bit uint32, set bool) frag {
	f := g.jset(relLinkHdr, off, SizeB, bit)
	if !set {
		f = not(f)
	}
	return f
}

// wlanHostop tests a MAC address in the 802.11 header, whose position
// depends on the frame type and the To DS / From DS bits (libpcap
// gen_wlanhostop). Construction order is libpcap's, for identical code.
func (g *gen) wlanHostop(mac []byte, dir Dir) frag {
	switch dir {
	case DirSrc:
		// Data frames: SA at 24 (To DS and From DS), 16 (From DS), 10.
		b0 := and(g.wlanFrameBit(1, 0x01, true), g.bcmp(relLinkHdr, 24, mac))
		b1 := and(g.wlanFrameBit(1, 0x01, false), g.bcmp(relLinkHdr, 16, mac))
		b0 = or(b1, b0)
		b0 = and(g.wlanFrameBit(1, 0x02, true), b0)
		b1 = and(g.wlanFrameBit(1, 0x02, false), g.bcmp(relLinkHdr, 10, mac))
		b0 = or(b1, b0)
		return g.wlanDataOrMgt(b0, func() frag { return g.bcmp(relLinkHdr, 10, mac) })
	case DirDst:
		// Data frames: DA at 16 (To DS) or 4.
		b0 := and(g.wlanFrameBit(1, 0x01, true), g.bcmp(relLinkHdr, 16, mac))
		b1 := and(g.wlanFrameBit(1, 0x01, false), g.bcmp(relLinkHdr, 4, mac))
		b0 = or(b1, b0)
		return g.wlanDataOrMgt(b0, func() frag { return g.bcmp(relLinkHdr, 4, mac) })
	case DirSrcAndDst:
		b0 := g.wlanHostop(mac, DirSrc)
		return and(b0, g.wlanHostop(mac, DirDst))
	case DirDefault, DirSrcOrDst:
		b0 := g.wlanHostop(mac, DirSrc)
		return or(b0, g.wlanHostop(mac, DirDst))
	case DirAddr1:
		return g.bcmp(relLinkHdr, 4, mac)
	case DirAddr2:
		// Not in CTS and ACK control frames.
		b2 := g.wlanNotCTSOrACK()
		return and(b2, g.bcmp(relLinkHdr, 10, mac))
	case DirAddr3:
		// Not in control frames.
		b0 := not(g.mcmp(relLinkHdr, 0, SizeB, wlanTypeCtl, wlanTypeMask))
		return and(b0, g.bcmp(relLinkHdr, 16, mac))
	case DirAddr4:
		// Only with both To DS and From DS.
		b0 := g.mcmp(relLinkHdr, 1, SizeB, wlanDirDSToDS, wlanDirMask)
		return and(b0, g.bcmp(relLinkHdr, 24, mac))
	case DirRA:
		// addr1, except in management frames.
		b1 := g.wlanFrameBit(0, 0x08, true)
		return and(b1, g.bcmp(relLinkHdr, 4, mac))
	case DirTA:
		// addr2, except in management, CTS and ACK frames.
		b2 := g.wlanNotCTSOrACK()
		b2 = and(g.wlanFrameBit(0, 0x08, true), b2)
		return and(b2, g.bcmp(relLinkHdr, 10, mac))
	}
	panic("filter: unknown direction")
}

// wlanNotCTSOrACK is libpcap's test that a frame carries addr2: not a
// control frame, or (sic) neither a CTS nor an ACK.
func (g *gen) wlanNotCTSOrACK() frag {
	b0 := not(g.mcmp(relLinkHdr, 0, SizeB, wlanTypeCtl, wlanTypeMask))
	b1 := not(g.mcmp(relLinkHdr, 0, SizeB, wlanSubtypeCTS, wlanSubtypeMask))
	b2 := not(g.mcmp(relLinkHdr, 0, SizeB, wlanSubtypeACK, wlanSubtypeMask))
	b2 = and(b1, b2)
	return or(b0, b2)
}

// wlanDataOrMgt finishes a source or destination test: data's checks
// under "data frame", or mgt's address test under "management frame",
// and never a control frame.
func (g *gen) wlanDataOrMgt(data frag, mgt func() frag) frag {
	b0 := and(g.wlanFrameBit(0, 0x08, true), data)
	b2 := g.wlanFrameBit(0, 0x08, false)
	b1 := and(b2, mgt())
	b0 = or(b1, b0)
	return and(g.wlanFrameBit(0, 0x04, false), b0)
}

// wlanMulticast tests the group bit of the destination address, found
// where wlanHostop looks for it (libpcap gen_multicast on 802.11).
func (g *gen) wlanMulticast() frag {
	group := func(off int) frag { return g.jset(relLinkHdr, off, SizeB, 1) }
	b0 := and(g.wlanFrameBit(1, 0x01, true), group(16))
	b1 := and(g.wlanFrameBit(1, 0x01, false), group(4))
	b0 = or(b1, b0)
	return g.wlanDataOrMgt(b0, func() frag { return group(4) })
}

// Frame type and subtype names, as libpcap's grammar knows them.
var (
	wlanTypes = map[string]uint32{"data": wlanTypeData, "mgt": wlanTypeMgt,
		"management": wlanTypeMgt, "ctl": wlanTypeCtl, "control": wlanTypeCtl}
	wlanMgtSubtypes = map[string]uint32{
		"assocreq": 0x00, "assoc-req": 0x00, "assocresp": 0x10, "assoc-resp": 0x10,
		"reassocreq": 0x20, "reassoc-req": 0x20, "reassocresp": 0x30, "reassoc-resp": 0x30,
		"probereq": 0x40, "probe-req": 0x40, "proberesp": 0x50, "probe-resp": 0x50,
		"beacon": 0x80, "atim": 0x90, "disassoc": 0xa0, "disassociation": 0xa0,
		"auth": 0xb0, "authentication": 0xb0, "deauth": 0xc0, "deauthentication": 0xc0,
	}
	wlanCtlSubtypes = map[string]uint32{
		"ps-poll": 0xa0, "rts": 0xb0, "cts": 0xc0, "ack": 0xd0, "cf-end": 0xe0, "cf-end-ack": 0xf0,
	}
	wlanDataSubtypes = map[string]uint32{
		"data": 0x00, "data-cf-ack": 0x10, "data-cf-poll": 0x20, "data-cf-ack-poll": 0x30,
		"null": 0x40, "cf-ack": 0x50, "cf-poll": 0x60, "cf-ack-poll": 0x70,
		"qos-data": 0x80, "qos-data-cf-ack": 0x90, "qos-data-cf-poll": 0xa0,
		"qos-data-cf-ack-poll": 0xb0, "qos": 0xc0, "qos-cf-poll": 0xe0, "qos-cf-ack-poll": 0xf0,
	}
	// wlanSubtypesByType is searched in libpcap's order for a bare
	// "subtype NAME".
	wlanSubtypesByType = []struct {
		typ   uint32
		names map[string]uint32
	}{{wlanTypeMgt, wlanMgtSubtypes}, {wlanTypeCtl, wlanCtlSubtypes}, {wlanTypeData, wlanDataSubtypes}}
	wlanDirs = map[string]uint32{"nods": 0, "tods": 1, "fromds": 2, "dstods": 3}
)

// wlanKeyword compiles "type T [subtype S]", "subtype S" and "dir D"
// (libpcap's p80211 grammar rules, gen_p80211_type and gen_p80211_fcdir).
// Values are checked first, as the grammar does before generating code.
func (g *gen) wlanKeyword(n *Keyword) frag {
	w := n.Words
	switch w[0] {
	case "type":
		typ := g.wlanType(w[1])
		if len(w) == 4 {
			sub := g.wlanSubtype(typ, w[3])
			return g.wlanTypeTest(typ|sub, wlanTypeMask|wlanSubtypeMask)
		}
		return g.wlanTypeTest(typ, wlanTypeMask)
	case "subtype":
		return g.wlanTypeTest(g.wlanTypeSubtype(w[1]), wlanTypeMask|wlanSubtypeMask)
	}
	dir, ok := wlanNumber(w[1])
	if !ok {
		if dir, ok = wlanDirs[strings.ToLower(w[1])]; !ok {
			g.fail("unknown 802.11 direction")
		}
	}
	if !wlanHasMACHeader(g.link) {
		g.fail("frame direction supported only with 802.11 headers")
	}
	return g.mcmp(relLinkHdr, 1, SizeB, dir, wlanDirMask)
}

// wlanHasMACHeader reports whether type, subtype and direction tests can
// read the frame control field: PPI is left out, as in libpcap.
func wlanHasMACHeader(lt pcap.LinkType) bool {
	return isWLAN(lt) && lt != pcap.LinkTypePPI
}

func (g *gen) wlanTypeTest(v, mask uint32) frag {
	if !wlanHasMACHeader(g.link) {
		g.fail("802.11 link-layer types supported only on 802.11")
	}
	return g.mcmp(relLinkHdr, 0, SizeB, v, mask)
}

// wlanNumber reads a number the parser wrote in decimal.
func wlanNumber(word string) (uint32, bool) {
	v, err := strconv.ParseUint(word, 10, 32)
	return uint32(v), err == nil
}

func (g *gen) wlanType(word string) uint32 {
	if v, ok := wlanNumber(word); ok {
		if v&^wlanTypeMask != 0 {
			g.fail("invalid 802.11 type value 0x%02x", v)
		}
		return v
	}
	v, ok := wlanTypes[strings.ToLower(word)]
	if !ok {
		g.fail("unknown 802.11 type name \"%s\"", word)
	}
	return v
}

func (g *gen) wlanSubtype(typ uint32, word string) uint32 {
	if v, ok := wlanNumber(word); ok {
		if v&^wlanSubtypeMask != 0 {
			g.fail("invalid 802.11 subtype value 0x%02x", v)
		}
		return v
	}
	for _, t := range wlanSubtypesByType {
		if t.typ == typ {
			v, ok := t.names[strings.ToLower(word)]
			if !ok {
				g.fail("unknown 802.11 subtype name \"%s\"", word)
			}
			return v
		}
	}
	g.fail("unknown 802.11 type")
	return 0
}

// wlanTypeSubtype finds a bare subtype name under the first type that
// has it, and returns type and subtype bits together.
func (g *gen) wlanTypeSubtype(word string) uint32 {
	for _, t := range wlanSubtypesByType {
		if v, ok := t.names[strings.ToLower(word)]; ok {
			return v | t.typ
		}
	}
	g.fail("unknown 802.11 type name")
	return 0
}
