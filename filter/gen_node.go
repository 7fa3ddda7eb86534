package filter

import "github.com/weircap/weir/pcap"

// node compiles a boolean expression; operands in source order, as
// libpcap's parser actions run.
func (g *gen) node(n Node) frag {
	switch n := n.(type) {
	case *And:
		x := g.node(n.X)
		return and(x, g.node(n.Y))
	case *Or:
		x := g.node(n.X)
		return or(x, g.node(n.Y))
	case *Not:
		return not(g.node(n.X))
	case *Compare:
		g.pos = n.Pos()
		return g.relation(n)
	}
	g.pos = n.Pos()
	switch n := n.(type) {
	case *Primitive:
		return g.primitive(n)
	case *ProtoAbbrev:
		return g.protoAbbrev(n.Proto)
	case *Broadcast:
		return g.broadcast(n.Proto)
	case *Multicast:
		return g.multicast(n.Proto)
	case *Length:
		return g.length(n)
	case *ByteOp:
		return g.byteOp(n)
	case *Direction:
		return g.direction(n.Out)
	case *Ifindex:
		return g.ifindex(n.N)
	case *Encap:
		return g.encap(n)
	case *Keyword:
		return g.keyword(n)
	}
	g.fail("unsupported expression")
	return frag{}
}

// primitive compiles a qualified value, dispatching on how the value was
// written as libpcap's grammar does (gen_scode, gen_ncode, gen_mcode...).
func (g *gen) primitive(p *Primitive) frag {
	g.pos = p.ValuePos
	q := p.Q
	if q.Addr == AddrGateway && p.Value.Kind == ValueName {
		return g.gateway(p)
	}
	if p.Value.Kind == ValueSet {
		return g.setPrimitive(p)
	}
	switch p.Value.Kind {
	case ValueName:
		return g.namedValue(p)
	case ValueNumber:
		return g.numberValue(p.Value.Number, q)
	case ValueHost:
		g.checkAddressQualifier(q, "IPv4 address")
		if p.Value.Prefix >= 0 || p.Value.Mask != "" {
			return g.maskedNet(p)
		}
		if q.Addr != AddrDefault && q.Addr != AddrHost && q.Addr != AddrNet {
			g.fail("'%s' applied to an IPv4 address", q.Addr)
		}
		return g.hostNumber(p.Value.Text, 0, q)
	case ValueHost6:
		g.checkAddressQualifier(q, "IPv6 address")
		return g.host6Address(p)
	case ValueMAC:
		return g.macAddress(p)
	case ValueArcnet:
		g.fail("ARCnet addresses are supported only on ARCnet captures")
	}
	g.fail("unsupported value")
	return frag{}
}

// checkAddressQualifier rejects address values under port and protocol
// qualifiers, as libpcap's grammar does.
func (g *gen) checkAddressQualifier(q Qualifiers, what string) {
	switch q.Addr {
	case AddrPort, AddrPortRange, AddrProto, AddrProtochain:
		g.fail("'%s' qualifier applied to an %s", q.Addr, what)
	}
}

// numberValue compiles a plain number under its qualifiers (gen_ncode).
func (g *gen) numberValue(v uint32, q Qualifiers) frag {
	switch q.Addr {
	case AddrDefault, AddrHost, AddrNet:
		return g.hostNumber("", v, q)
	case AddrPort:
		ipProto := g.transportOf(q.Proto, "port")
		if v > 65535 {
			g.fail("illegal port number %d > 65535", v)
		}
		return g.port(v, ipProto, q.Dir)
	case AddrPortRange:
		ipProto := g.transportOf(q.Proto, "portrange")
		if v > 65535 {
			g.fail("illegal port number %d > 65535", v)
		}
		return g.portRange(v, v, ipProto, q.Dir)
	case AddrProto:
		return g.proto(v, q.Proto, q.Dir)
	case AddrProtochain:
		return g.protochain(v, q.Proto)
	}
	g.fail("'%s' requires a name", q.Addr)
	return frag{}
}

// namedValue compiles a name under its qualifiers (gen_scode).
func (g *gen) namedValue(p *Primitive) frag {
	switch p.Q.Addr {
	case AddrNet:
		return g.netName(p)
	case AddrDefault, AddrHost:
		return g.hostName(p)
	case AddrPort:
		return g.portName(p)
	case AddrPortRange:
		return g.portRangeName(p)
	case AddrProto:
		return g.proto(g.lookupProto(p.Value.Text, p.Q.Proto), p.Q.Proto, p.Q.Dir)
	case AddrProtochain:
		return g.protochain(g.lookupProto(p.Value.Text, p.Q.Proto), p.Q.Proto)
	}
	g.fail("unsupported qualifier '%s'", p.Q.Addr)
	return frag{}
}

func (g *gen) isEthernet() bool { return g.link == pcap.LinkTypeEthernet }

var etherBroadcast = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// broadcast is libpcap's gen_broadcast.
func (g *gen) broadcast(proto Proto) frag {
	switch proto {
	case ProtoDefault, ProtoLink:
		if isWLAN(g.link) {
			return g.wlanHostop(etherBroadcast, DirDst)
		}
		if !g.isEthernet() {
			g.fail("not a broadcast link: %s has no link-layer broadcast address", g.link.Name())
		}
		check, hasCheck := g.prevLinkHeaderCheck()
		f := g.ehostop(etherBroadcast, DirDst)
		if hasCheck {
			f = and(check, f)
		}
		return f
	case ProtoIP:
		if g.cfg.Netmask == 0xffffffff {
			g.fail("netmask not known, so 'ip broadcast' not supported")
		}
		b0 := g.linkType(ethertypeIP)
		hostmask := ^g.cfg.Netmask
		b1 := g.mcmp(relLinkPL, 16, SizeW, 0, hostmask)
		b2 := or(b1, g.mcmp(relLinkPL, 16, SizeW, hostmask, hostmask))
		return and(b0, b2)
	}
	g.fail("only link-layer/IP broadcast filters supported")
	return frag{}
}

// multicast is libpcap's gen_multicast.
func (g *gen) multicast(proto Proto) frag {
	switch proto {
	case ProtoDefault, ProtoLink:
		if g.isEthernet() {
			check, hasCheck := g.prevLinkHeaderCheck()
			// ether[0] & 1 != 0
			s := g.loadA(relLinkHdr, 0, SizeB)
			f := leaf(&block{stmts: s, jump: statement{op: ClassJmp | JmpJset | SrcK, k: 1}})
			if hasCheck {
				f = and(check, f)
			}
			return f
		}
		if isWLAN(g.link) {
			return g.wlanMulticast()
		}
	case ProtoIP:
		return and(g.linkType(ethertypeIP), g.cmpGE(relLinkPL, 16, SizeB, 224))
	case ProtoIPv6:
		return and(g.linkType(ethertypeIPv6), g.cmp(relLinkPL, 24, SizeB, 255))
	}
	g.fail("link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel")
	return frag{}
}

// length is "less N" (len <= N) or "greater N" (len >= N).
func (g *gen) length(n *Length) frag {
	lenLoad := []statement{{op: ClassLd | ModeLen}}
	if n.Greater {
		return leaf(&block{stmts: lenLoad, jump: statement{op: ClassJmp | JmpJge | SrcK, k: n.N}})
	}
	return not(leaf(&block{stmts: lenLoad, jump: statement{op: ClassJmp | JmpJgt | SrcK, k: n.N}}))
}

// byteOp is libpcap's gen_byteop. Its '&' and '|' forms test the A
// register without loading the byte first; weir keeps that behaviour so
// verdicts stay identical.
func (g *gen) byteOp(n *ByteOp) frag {
	idx := int(n.Index)
	switch n.Op {
	case '=':
		return g.cmp(relLinkHdr, idx, SizeB, n.Value)
	case '<':
		return g.cmpLT(relLinkHdr, idx, SizeB, n.Value)
	case '>':
		return g.cmpGT(relLinkHdr, idx, SizeB, n.Value)
	}
	alu := AluAnd
	if n.Op == '|' {
		alu = AluOr
	}
	return not(leaf(&block{
		stmts: []statement{{op: ClassAlu | alu | SrcK, k: n.Value}},
		jump:  statement{op: ClassJmp | JmpJeq | SrcK},
	}))
}

// Linux packet-type value of outgoing packets, and the kernel's ancillary
// data offsets for live captures.
const (
	linuxSLLOutgoing = 4
	skfAdOff         = 0xfffff000 // -0x1000
	skfAdPktType     = 4
	skfAdIfindex     = 8
)

// direction is "inbound" or "outbound" (libpcap gen_inbound).
func (g *gen) direction(out bool) frag {
	var f frag
	switch {
	case g.link == pcap.LinkTypeLinuxSLL:
		f = g.cmp(relLinkHdr, 0, SizeH, linuxSLLOutgoing)
	case g.link == pcap.LinkTypeLinuxSLL2:
		f = g.cmp(relLinkHdr, 10, SizeB, linuxSLLOutgoing)
	case g.cfg.Savefile:
		g.fail("inbound/outbound not supported on %s when reading savefiles", g.link.Description())
	default:
		f = g.cmp(relLinkHdr, skfAdOff+skfAdPktType, SizeH, linuxSLLOutgoing)
	}
	if !out {
		f = not(f)
	}
	return f
}

// ifindex is "ifindex N" (libpcap gen_ifindex).
func (g *gen) ifindex(n uint32) frag {
	switch {
	case g.link == pcap.LinkTypeLinuxSLL2:
		return g.cmp(relLinkHdr, 4, SizeW, n)
	case g.cfg.Savefile:
		g.fail("ifindex not supported on %s when reading savefiles", g.link.Description())
	}
	return g.cmp(relLinkHdr, skfAdOff+skfAdIfindex, SizeW, n)
}
