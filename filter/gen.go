package filter

import (
	"github.com/weircap/weir/pcap"
)

// offsetUnset marks an offset a link type does not have (no protocol-type
// field), as libpcap's OFFSET_NOT_SET.
const offsetUnset = -1

// absOffset is an offset from the start of the packet: a constant part
// and, when variable, a part computed at run time into a scratch slot
// (libpcap's bpf_abs_offset). Encapsulations (vlan, mpls, pppoes, geneve)
// and variable-length radio headers move these as the expression goes on.
type absOffset struct {
	variable bool
	constant int
	reg      int // scratch slot of the variable part, -1 until assigned
}

func fixedOffset(c int) absOffset { return absOffset{constant: c, reg: -1} }

// gen holds the state of one compilation, libpcap's compiler_state.
type gen struct {
	expr string
	cfg  Config
	pos  int // offset of the node being compiled, for errors

	// The link layer being looked at, the one outside it (pppoes,
	// geneve), and the capture's own.
	link, prevLink, outermostLink pcap.LinkType
	known                         bool // the capture's link type is one weir lays out

	offLinkHdr, offPrevLinkHdr, offOutermostLinkHdr absOffset
	offLinkPL                                       absOffset // link-layer payload
	offLinkType                                     absOffset // protocol type field; constant offsetUnset if none
	offNL                                           int       // network header within the payload
	offNLNoSnap                                     int       // same, after 802.2 without SNAP

	labelDepth    int  // mpls labels seen: what follows is inside MPLS
	vlanDepth     int  // vlan tags seen
	isGeneve      bool // what follows is a Geneve payload
	vlanVarOffset bool // kernel VLAN metadata made payload offsets variable
	noOptimize    bool // code with jumps inside blocks: libpcap leaves it unoptimized

	// The capture's own link-header and payload offsets, kept when an
	// encapsulation replaces them: the code computing variable offsets
	// at the start of the program must fill the slots the tests before
	// the encapsulation read.
	pushed                                  bool
	outerLinkHdr, outerLinkPL, outerLinkTyp absOffset

	regUsed [MemWords]bool
	curReg  int
	labels  int32 // last label handed out for jumps inside blocks
}

// newLabel names a statement that a jump inside its block targets.
func (g *gen) newLabel() int32 {
	g.labels++
	return g.labels
}

// compileError carries a positioned error out of deep generator calls, as
// libpcap's bpf_error longjmp.
type compileError struct{ err *Error }

func newGen(expr string, cfg Config) *gen {
	g := &gen{expr: expr, cfg: cfg}
	g.initLinkType(cfg.LinkType)
	return g
}

// initLinkType sets the offsets of a capture's link type, as libpcap's
// init_linktype.
func (g *gen) initLinkType(lt pcap.LinkType) {
	g.link, g.prevLink, g.outermostLink = lt, lt, lt
	g.offLinkHdr = fixedOffset(0)
	g.offLinkPL = fixedOffset(0)
	g.offLinkType = fixedOffset(0)
	g.known = true
	set := func(linkType, linkPL, nl, nlNoSnap int) {
		g.offLinkType.constant, g.offLinkPL.constant = linkType, linkPL
		g.offNL, g.offNLNoSnap = nl, nlNoSnap
	}
	switch lt {
	case pcap.LinkTypeEthernet:
		set(12, 14, 0, 3) // Ethernet II; 802.3 + 802.2
	case pcap.LinkTypeNull, pcap.LinkTypeLoop:
		set(0, 4, 0, 0)
	case pcap.LinkTypePPP, pcap.LinkTypeCHDLC:
		set(2, 4, 0, 0) // HDLC-like framing, then the protocol field
	case pcap.LinkTypeRaw, pcap.LinkTypeIPv4, pcap.LinkTypeIPv6:
		set(offsetUnset, 0, 0, 0)
	case pcap.LinkTypeLinuxSLL:
		set(14, 16, 0, 0)
	case pcap.LinkTypeLinuxSLL2:
		set(0, 20, 0, 0)
	case pcap.LinkTypeIEEE802_11, pcap.LinkTypePrismHeader, pcap.LinkTypeIEEE802_11Radio,
		pcap.LinkTypeIEEE802_11AVS, pcap.LinkTypePPI:
		g.initWLAN(lt)
	default:
		set(offsetUnset, 0, 0, 0)
		g.known = false
	}
	g.offOutermostLinkHdr, g.offPrevLinkHdr = g.offLinkHdr, g.offLinkHdr
}

// pushLinkHeader makes an encapsulated link layer the current one (libpcap
// PUSH_LINKHDR): pppoes carries PPP, geneve carries Ethernet.
func (g *gen) pushLinkHeader(lt pcap.LinkType, hdr absOffset) {
	if !g.pushed {
		g.pushed = true
		g.outerLinkHdr, g.outerLinkPL, g.outerLinkTyp = g.offLinkHdr, g.offLinkPL, g.offLinkType
	}
	g.prevLink, g.offPrevLinkHdr = g.link, g.offLinkHdr
	g.link, g.offLinkHdr = lt, hdr
	g.isGeneve = false
}

// requireLayout stops compiling a test that needs to know where the link
// type keeps its fields when weir does not know it: tests on the raw
// bytes ("link[0]", "len", "byte") still work there.
func (g *gen) requireLayout() {
	if !g.known {
		g.fail("link type %s (%d) is not supported yet for this test", g.outermostLink.Name(), uint32(g.outermostLink))
	}
}

// fail aborts the compilation with an error at the current node.
func (g *gen) fail(format string, args ...any) {
	panic(compileError{errorAt(g.expr, g.pos, format, args...)})
}

// failAt aborts with an error at a given offset.
func (g *gen) failAt(pos int, format string, args ...any) {
	panic(compileError{errorAt(g.expr, pos, format, args...)})
}

// allocReg hands out a scratch memory slot the way libpcap's alloc_reg
// does (round robin from the last one given), so that the unoptimized
// program uses the same slots as tcpdump's.
func (g *gen) allocReg() int {
	for n := 0; n < MemWords; n++ {
		if g.regUsed[g.curReg] {
			g.curReg = (g.curReg + 1) % MemWords
			continue
		}
		g.regUsed[g.curReg] = true
		return g.curReg
	}
	g.fail("too many registers needed to evaluate expression")
	return 0
}

func (g *gen) freeReg(r int) { g.regUsed[r] = false }
