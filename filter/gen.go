package filter

import (
	"github.com/weircap/weir/pcap"
)

// offsetUnset marks a link type without a protocol-type field.
const offsetUnset = -1

// linkLayout is where a link type keeps its fields, as libpcap's
// init_linktype: offsets from the start of the packet.
type linkLayout struct {
	offLinkType int // protocol type field, or offsetUnset
	offLinkPL   int // link-layer payload
	offNL       int // network header within the payload (Ethernet II)
	offNLNoSnap int // network header within an 802.2 payload without SNAP
}

var linkLayouts = map[pcap.LinkType]linkLayout{
	pcap.LinkTypeEthernet:  {offLinkType: 12, offLinkPL: 14, offNL: 0, offNLNoSnap: 3},
	pcap.LinkTypeNull:      {offLinkType: 0, offLinkPL: 4},
	pcap.LinkTypeLoop:      {offLinkType: 0, offLinkPL: 4},
	pcap.LinkTypeRaw:       {offLinkType: offsetUnset, offLinkPL: 0},
	pcap.LinkTypeIPv4:      {offLinkType: offsetUnset, offLinkPL: 0},
	pcap.LinkTypeIPv6:      {offLinkType: offsetUnset, offLinkPL: 0},
	pcap.LinkTypeLinuxSLL:  {offLinkType: 14, offLinkPL: 16},
	pcap.LinkTypeLinuxSLL2: {offLinkType: 0, offLinkPL: 20},
}

// gen holds the state of one compilation, libpcap's compiler_state.
type gen struct {
	expr    string
	cfg     Config
	link    pcap.LinkType
	layout  linkLayout
	known   bool // the link type's layout is known
	regUsed [MemWords]bool
	curReg  int
	pos     int // offset of the node being compiled, for errors
	// noOptimize is set by code the optimizer cannot handle (jumps inside
	// statement lists, as libpcap's protochain and 802.11 header length):
	// as pcap_compile, the program is then neither optimized nor checked
	// for rejecting everything.
	noOptimize bool
}

// compileError carries a positioned error out of deep generator calls, as
// libpcap's bpf_error longjmp.
type compileError struct{ err *Error }

func newGen(expr string, cfg Config) *gen {
	layout, known := linkLayouts[cfg.LinkType]
	if !known {
		layout = linkLayout{offLinkType: offsetUnset}
	}
	return &gen{expr: expr, cfg: cfg, link: cfg.LinkType, layout: layout, known: known}
}

// requireLayout stops compiling a test that needs to know where the link
// type keeps its fields when weir does not know it: tests on the raw
// bytes ("link[0]", "len", "byte") still work there.
func (g *gen) requireLayout() {
	if !g.known {
		g.fail("link type %s (%d) is not supported yet for this test", g.link.Name(), uint32(g.link))
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

// Link types whose link-layer header does not start at the first byte of
// the packet (a radio header of variable length, a pseudo-header): loads
// relative to it need layout knowledge weir does not have for them yet.
var linkHeaderNotAtStart = map[pcap.LinkType]bool{
	119: true, // PRISM_HEADER
	127: true, // IEEE802_11_RADIO
	163: true, // IEEE802_11_RADIO_AVS
	192: true, // PPI
	240: true, // NETANALYZER
	241: true, // NETANALYZER_TRANSPARENT
}

func (g *gen) requireLinkHeaderAtStart() {
	if linkHeaderNotAtStart[g.link] {
		g.requireLayout()
	}
}

// offRel says what a load offset is relative to, as libpcap's e_offrel.
type offRel int

const (
	relPacket       offRel = iota // start of the packet
	relLinkHdr                    // link-layer header
	relLLC                        // link-layer payload (802.2 LLC header)
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

// loadA loads the field at off, relative to rel, into A (libpcap gen_load_a).
func (g *gen) loadA(rel offRel, off int, size uint16) []statement {
	l := g.layout
	switch rel {
	case relPacket:
		return []statement{ldAbs(size, off)}
	case relLinkHdr:
		g.requireLinkHeaderAtStart()
		return []statement{ldAbs(size, off)}
	}
	g.requireLayout()
	switch rel {
	case relLLC:
		return []statement{ldAbs(size, l.offLinkPL+off)}
	case relLinkPL:
		return []statement{ldAbs(size, l.offLinkPL+l.offNL+off)}
	case relLinkPLNoSnap:
		return []statement{ldAbs(size, l.offLinkPL+l.offNLNoSnap+off)}
	case relLinkType:
		return []statement{ldAbs(size, l.offLinkType+off)}
	case relTranIPv4:
		return []statement{g.loadXIPHeaderLen(), ldInd(size, l.offLinkPL+l.offNL+off)}
	case relTranIPv6:
		return []statement{ldAbs(size, l.offLinkPL+l.offNL+40+off)}
	}
	panic("filter: unknown offset base")
}

// loadXIPHeaderLen puts the IPv4 header length in X: ldxb 4*([k]&0xf).
func (g *gen) loadXIPHeaderLen() statement {
	g.requireLayout()
	return statement{op: ClassLdx | ModeMsh | SizeB, k: uint32(g.layout.offLinkPL + g.layout.offNL)}
}

// ncmp loads a field, masks it and tests it against v (libpcap gen_ncmp);
// reverse negates a greater-than test to get less-or-equal and the like.
func (g *gen) ncmp(rel offRel, off int, size uint16, mask uint32, jtype uint16, reverse bool, v uint32) frag {
	s := g.loadA(rel, off, size)
	if mask != 0xffffffff {
		s = append(s, statement{op: ClassAlu | AluAnd | SrcK, k: mask})
	}
	f := leaf(&block{stmts: s, jump: statement{op: ClassJmp | jtype | SrcK, k: v}})
	if reverse && (jtype == JmpJgt || jtype == JmpJge) {
		f = not(f)
	}
	return f
}

func (g *gen) cmp(rel offRel, off int, size uint16, v uint32) frag {
	return g.ncmp(rel, off, size, 0xffffffff, JmpJeq, false, v)
}

func (g *gen) cmpGT(rel offRel, off int, size uint16, v uint32) frag {
	return g.ncmp(rel, off, size, 0xffffffff, JmpJgt, false, v)
}

func (g *gen) cmpGE(rel offRel, off int, size uint16, v uint32) frag {
	return g.ncmp(rel, off, size, 0xffffffff, JmpJge, false, v)
}

func (g *gen) cmpLT(rel offRel, off int, size uint16, v uint32) frag {
	return g.ncmp(rel, off, size, 0xffffffff, JmpJge, true, v)
}

func (g *gen) cmpLE(rel offRel, off int, size uint16, v uint32) frag {
	return g.ncmp(rel, off, size, 0xffffffff, JmpJgt, true, v)
}

func (g *gen) mcmp(rel offRel, off int, size uint16, v, mask uint32) frag {
	return g.ncmp(rel, off, size, mask, JmpJeq, false, v)
}

// bcmp compares a byte string, last bytes first in words, half-words and
// a byte (libpcap gen_bcmp).
func (g *gen) bcmp(rel offRel, off int, v []byte) frag {
	var f frag
	have := false
	add := func(t frag) {
		if have {
			f = and(f, t)
		} else {
			f, have = t, true
		}
	}
	size := len(v)
	for size >= 4 {
		p := v[size-4:]
		w := uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
		// libpcap ANDs the earlier test before the later one: gen_and(b, tmp).
		add(g.cmp(rel, off+size-4, SizeW, w))
		size -= 4
	}
	for size >= 2 {
		p := v[size-2:]
		add(g.cmp(rel, off+size-2, SizeH, uint32(p[0])<<8|uint32(p[1])))
		size -= 2
	}
	if size > 0 {
		add(g.cmp(rel, off, SizeB, uint32(v[0])))
	}
	return f
}

// uncond is a test that always (rsense) or never holds: ld #!rsense; jeq #0.
func (g *gen) uncond(rsense bool) frag {
	k := uint32(1)
	if rsense {
		k = 0
	}
	return leaf(&block{
		stmts: []statement{{op: ClassLd | ModeImm, k: k}},
		jump:  statement{op: ClassJmp | JmpJeq | SrcK, k: 0},
	})
}

func (g *gen) genTrue() frag  { return g.uncond(true) }
func (g *gen) genFalse() frag { return g.uncond(false) }
