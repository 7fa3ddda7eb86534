package filter

import (
	"fmt"
	"slices"
)

// setLookups compiles "qualifiers @name" for eBPF backends: each field
// the primitive tests is looked up in the set (one lookup per field and
// IP version, whatever the set's size) instead of compared with each
// entry. Entries are checked as the expansion checks them, so both
// compile the same expressions.
func (g *gen) setLookups(p *Primitive, set *Set) frag {
	var v4, v6, ports, macs bool
	for i := range set.Entries {
		e := &set.Entries[i]
		if otherFamily(p.Q.Proto, e) {
			continue
		}
		g.checkLookupEntry(p.Q, set, e)
		switch {
		case e.Kind == SetPort || e.Kind == SetPortRange:
			ports = true
		case e.Kind == SetMAC:
			macs = true
		case !e.IPv6:
			v4 = true
		default:
			v6 = true
		}
	}
	idx := slices.Index(SetNames(g.cfg.Sets), set.Name)
	var parts []frag
	if ports {
		parts = append(parts, g.portLookup(p.Q, idx))
	}
	if macs {
		parts = append(parts, g.macLookup(p.Q, idx))
	}
	if v4 {
		parts = append(parts, g.hostLookup4(p.Q, idx))
	}
	if v6 {
		parts = append(parts, g.hostLookup6(p.Q, idx))
	}
	if len(parts) == 0 {
		return g.genFalse() // an empty set matches nothing
	}
	f := parts[0]
	for _, part := range parts[1:] {
		f = or(f, part)
	}
	return f
}

// checkLookupEntry fails, naming the entry and its line, when it cannot be
// the primitive's value.
func (g *gen) checkLookupEntry(q Qualifiers, set *Set, e *SetEntry) {
	msg := setEntryMismatch(q, e)
	if msg == "" {
		switch {
		case e.Kind == SetMAC && ((q.Addr != AddrHost && q.Addr != AddrDefault) || q.Proto != ProtoLink):
			msg = "ethernet address used in non-ether expression"
		case (e.Kind == SetAddress || e.Kind == SetPrefix) && q.Proto == ProtoLink:
			msg = fmt.Sprintf("link-layer modifier applied to %s", e.Kind)
		}
	}
	if msg != "" {
		g.fail("%s (set @%s, %s:%d: %s)", replaceName(msg, set.Name), set.Name, set.Source, e.Line, e.String())
	}
}

// lookup is a lookup of the field at off (relative to rel) in set idx:
// the statements that address the field, then the lookup jump in place
// of the load.
func (g *gen) lookup(rel offRel, off int, kind LookupKind, idx int) frag {
	s := g.loadA(rel, off, SizeB)
	last := s[len(s)-1]
	if last.k > maxLookupOffset {
		g.fail("a set lookup at offset %d, beyond %d", last.k, maxLookupOffset)
	}
	g.noOptimize = true // the optimizer knows nothing of lookups yet
	jump := statement{op: lookupOp(kind, last.op&ModeInd != 0), k: uint32(idx)<<16 | last.k}
	return leaf(&block{stmts: s[:len(s)-1], jump: jump})
}

// lookupDirs applies a direction qualifier to lookups of an address at
// the source and destination offsets of a network header.
func (g *gen) lookupDirs(dir Dir, llProto uint32, srcOff, dstOff int, kind LookupKind, idx int) frag {
	atom := func(off int) frag { return and(g.linkType(llProto), g.lookup(relLinkPL, off, kind, idx)) }
	switch dir {
	case DirSrc:
		return atom(srcOff)
	case DirDst:
		return atom(dstOff)
	case DirSrcAndDst:
		return and(atom(srcOff), atom(dstOff))
	case DirDefault, DirSrcOrDst:
		return or(atom(srcOff), atom(dstOff))
	}
	g.dirQualifierError(dir, "addresses other than 802.11 MAC addresses")
	return frag{}
}

// hostLookup4 looks IPv4 addresses up where libpcap's gen_host compares
// them: IP, ARP and RARP unless a protocol says which.
func (g *gen) hostLookup4(q Qualifiers, idx int) frag {
	switch q.Proto {
	case ProtoDefault:
		ip := q
		ip.Proto = ProtoIP
		b0 := g.hostLookup4(ip, idx)
		if g.labelDepth > 0 {
			return b0 // inside MPLS only IP can be there
		}
		arp, rarp := q, q
		arp.Proto, rarp.Proto = ProtoARP, ProtoRARP
		return or(or(b0, g.hostLookup4(arp, idx)), g.hostLookup4(rarp, idx))
	case ProtoIP:
		return g.lookupDirs(q.Dir, ethertypeIP, 12, 16, LookupIPv4, idx)
	case ProtoARP:
		return g.lookupDirs(q.Dir, ethertypeARP, 14, 24, LookupIPv4, idx)
	case ProtoRARP:
		return g.lookupDirs(q.Dir, ethertypeRevARP, 14, 24, LookupIPv4, idx)
	}
	g.fail("'%s' modifier applied to a set of IPv4 addresses", q.Proto)
	return frag{}
}

// hostLookup6 looks IPv6 addresses up as gen_host6 compares them.
func (g *gen) hostLookup6(q Qualifiers, idx int) frag {
	if q.Proto != ProtoDefault && q.Proto != ProtoIPv6 {
		g.fail("'%s' modifier applied to a set of IPv6 addresses", q.Proto)
	}
	return g.lookupDirs(q.Dir, ethertypeIPv6, 8, 24, LookupIPv6, idx)
}

// portLookup looks ports up where gen_port and gen_port6 compare them.
func (g *gen) portLookup(q Qualifiers, idx int) frag {
	what := "port"
	if q.Addr == AddrPortRange {
		what = "portrange"
	}
	ipProto := g.transportOf(q.Proto, what)
	atom4 := func(off int) frag { return g.lookup(relTranIPv4, off, LookupPort, idx) }
	atom6 := func(off int) frag { return g.lookup(relTranIPv6, off, LookupPort, idx) }
	v4 := and(g.linkType(ethertypeIP), overTransports(ipProto, func(p uint32) frag {
		return g.portop(p, q.Dir, "ports", atom4)
	}))
	v6 := and(g.linkType(ethertypeIPv6), overTransports(ipProto, func(p uint32) frag {
		return g.portop6(p, q.Dir, "ports", atom6)
	}))
	return or(v6, v4)
}

// macLookup looks Ethernet addresses up as gen_ehostop compares them.
func (g *gen) macLookup(q Qualifiers, idx int) frag {
	if !g.isEthernet() {
		g.fail("a set of MAC addresses needs Ethernet frames, not %s", g.link.Name())
	}
	atom := func(off int) frag { return g.lookup(relLinkHdr, off, LookupMAC, idx) }
	var f frag
	switch q.Dir {
	case DirSrc:
		f = atom(6)
	case DirDst:
		f = atom(0)
	case DirSrcAndDst:
		f = and(atom(6), atom(0))
	case DirDefault, DirSrcOrDst:
		f = or(atom(6), atom(0))
	default:
		g.fail("'%s' is only supported on 802.11 with 802.11 headers", q.Dir)
	}
	return g.withLinkHeaderCheck(f)
}
