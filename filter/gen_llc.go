package filter

import (
	"strings"

	"github.com/weircap/weir/pcap"
)

// 802.2 LLC control field: the format bits, and the masks that leave the
// command of S and U frames (the poll/final bit cleared).
const (
	llcSFormat   = 0x01
	llcUFormat   = 0x03
	llcFormatBit = 0x03
	llcSCmdMask  = 0x0f
	llcUCmdMask  = 0xef
)

// LLC supervisory (S) and unnumbered (U) frame commands by name, as
// libpcap's llc_s_subtypes and llc_u_subtypes.
var (
	llcSCommands = map[string]uint32{"rr": 0x01, "rnr": 0x05, "rej": 0x09}
	llcUCommands = map[string]uint32{
		"ui": 0x03, "ua": 0x63, "disc": 0x43, "dm": 0x0f,
		"sabme": 0x6f, "test": 0xe3, "xid": 0xaf, "frmr": 0x87,
	}
)

// Link types libpcap reads LLC frames on without checking anything in the
// header first (Token Ring, FDDI, RFC 1483 ATM).
const (
	linkTypeIEEE802    pcap.LinkType = 6
	linkTypeFDDI       pcap.LinkType = 10
	linkTypeATMRFC1483 pcap.LinkType = 100
)

// dot11LinkTypes are the 802.11 link types, bare or behind a radio header
// (PRISM, radiotap, AVS, PPI).
var dot11LinkTypes = map[pcap.LinkType]bool{105: true, 119: true, 127: true, 163: true, 192: true}

// llc compiles "llc", "llc i", "llc s", "llc u" and the named LLC frame
// commands (libpcap gen_llc, gen_llc_i, gen_llc_s, gen_llc_u and the
// subtype forms, chosen as its grammar chooses them: case-insensitively).
func (g *gen) llc(n *Keyword) frag {
	if len(n.Words) == 1 {
		return g.llcFrame()
	}
	name := strings.ToLower(n.Words[1])
	switch name {
	case "i":
		b0 := g.llcFrame()
		s := g.loadA(relLLC, 2, SizeB)
		b1 := leaf(&block{stmts: s, jump: statement{op: ClassJmp | JmpJset | SrcK, k: 0x01}})
		return and(b0, not(b1))
	case "s":
		return g.llcControl(llcSFormat, llcFormatBit)
	case "u":
		return g.llcControl(llcUFormat, llcFormatBit)
	}
	if cmd, ok := llcSCommands[name]; ok {
		return g.llcControl(cmd, llcSCmdMask)
	}
	if cmd, ok := llcUCommands[name]; ok {
		return g.llcControl(cmd, llcUCmdMask)
	}
	g.fail("unknown LLC type name \"%s\"", n.Words[1])
	return frag{}
}

// llcControl tests an LLC frame's control byte under a mask.
func (g *gen) llcControl(v, mask uint32) frag {
	b0 := g.llcFrame()
	return and(b0, g.mcmp(relLLC, 2, SizeB, v, mask))
}

// llcFrame tests that the frame carries an 802.2 LLC header (libpcap
// gen_llc_internal): on Ethernet, a length rather than a type, and not
// Novell's raw 802.3 (0xffff where the SAPs would be).
func (g *gen) llcFrame() frag {
	switch {
	case g.link == pcap.LinkTypeEthernet:
		b0 := not(g.cmpGT(relLinkType, 0, SizeH, etherMTU))
		b1 := not(g.cmp(relLLC, 0, SizeH, 0xffff))
		return and(b0, b1)
	case g.link == linkTypeIEEE802, g.link == linkTypeFDDI, g.link == linkTypeATMRFC1483:
		return g.genTrue()
	case dot11LinkTypes[g.link]:
		return g.dataFrame80211()
	}
	g.fail("'llc' not supported for %s", g.link.Description())
	return frag{}
}

// dataFrame80211 tests for an 802.11 data frame: type bit 0x08 of the
// frame control set, 0x04 clear (libpcap gen_check_802_11_data_frame).
func (g *gen) dataFrame80211() frag {
	jset := func(k uint32) frag {
		s := g.loadA(relLinkHdr, 0, SizeB)
		return leaf(&block{stmts: s, jump: statement{op: ClassJmp | JmpJset | SrcK, k: k}})
	}
	b0 := jset(0x08)
	b1 := not(jset(0x04))
	return and(b1, b0)
}
