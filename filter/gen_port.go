package filter

// ipFrag holds for IPv4 packets that are not a fragment other than the
// first: "not ip[6:2] & 0x1fff" (libpcap gen_ipfrag).
func (g *gen) ipFrag() frag {
	s := g.loadA(relLinkPL, 6, SizeH)
	return not(leaf(&block{stmts: s, jump: statement{op: ClassJmp | JmpJset | SrcK, k: 0x1fff}}))
}

// portDirs applies a direction qualifier to a source (offset 0) and
// destination (offset 2) port test.
func (g *gen) portDirs(dir Dir, what string, atom func(off int) frag) frag {
	switch dir {
	case DirSrc:
		return atom(0)
	case DirDst:
		return atom(2)
	case DirSrcAndDst:
		return and(atom(0), atom(2))
	case DirDefault, DirSrcOrDst:
		return or(atom(0), atom(2))
	}
	g.dirQualifierError(dir, what)
	return frag{}
}

// portop tests an IPv4 transport protocol, the fragment offset, and the
// port(s) (libpcap gen_portop and gen_portrangeop).
func (g *gen) portop(ipProto uint32, dir Dir, what string, atom func(off int) frag) frag {
	b0 := and(g.cmp(relLinkPL, 9, SizeB, ipProto), g.ipFrag())
	return and(b0, g.portDirs(dir, what, atom))
}

// portop6 is the IPv6 counterpart; libpcap looks only at the first next
// header.
func (g *gen) portop6(ipProto uint32, dir Dir, what string, atom func(off int) frag) frag {
	b0 := g.cmp(relLinkPL, 6, SizeB, ipProto)
	return and(b0, g.portDirs(dir, what, atom))
}

// overTransports runs op for one transport protocol, or for TCP, UDP and
// SCTP or-ed together when the protocol is open (libpcap gen_port).
func overTransports(ipProto int, op func(p uint32) frag) frag {
	if ipProto != protoUndef {
		return op(uint32(ipProto))
	}
	b1 := or(op(ipprotoTCP), op(ipprotoUDP))
	return or(op(ipprotoSCTP), b1)
}

// port matches a port over IPv6 or IPv4, as libpcap's gen_port6 or-ed
// with gen_port.
func (g *gen) port(port uint32, ipProto int, dir Dir) frag {
	v4 := g.port4(port, ipProto, dir)
	return or(g.port6(port, ipProto, dir), v4)
}

// port4 is libpcap's gen_port: the port over IPv4.
func (g *gen) port4(port uint32, ipProto int, dir Dir) frag {
	atom := func(off int) frag { return g.cmp(relTranIPv4, off, SizeH, port) }
	return and(g.linkType(ethertypeIP), overTransports(ipProto, func(p uint32) frag {
		return g.portop(p, dir, "ports", atom)
	}))
}

// port6 is libpcap's gen_port6: the port over IPv6.
func (g *gen) port6(port uint32, ipProto int, dir Dir) frag {
	atom := func(off int) frag { return g.cmp(relTranIPv6, off, SizeH, port) }
	return and(g.linkType(ethertypeIPv6), overTransports(ipProto, func(p uint32) frag {
		return g.portop6(p, dir, "ports", atom)
	}))
}

// portRange matches a port range the same way (gen_portrange6 or-ed with
// gen_portrange).
func (g *gen) portRange(lo, hi uint32, ipProto int, dir Dir) frag {
	if lo > hi {
		lo, hi = hi, lo
	}
	atom := func(rel offRel) func(off int) frag {
		return func(off int) frag {
			return and(g.cmpGE(rel, off, SizeH, lo), g.cmpLE(rel, off, SizeH, hi))
		}
	}
	v4 := and(g.linkType(ethertypeIP), overTransports(ipProto, func(p uint32) frag {
		return g.portop(p, dir, "port ranges", atom(relTranIPv4))
	}))
	v6 := and(g.linkType(ethertypeIPv6), overTransports(ipProto, func(p uint32) frag {
		return g.portop6(p, dir, "port ranges", atom(relTranIPv6))
	}))
	return or(v6, v4)
}

// transportOf maps a port's protocol qualifier to an IP protocol.
func (g *gen) transportOf(proto Proto, what string) int {
	switch proto {
	case ProtoDefault:
		return protoUndef
	case ProtoTCP:
		return ipprotoTCP
	case ProtoUDP:
		return ipprotoUDP
	case ProtoSCTP:
		return ipprotoSCTP
	}
	g.fail("illegal qualifier of '%s': only tcp, udp and sctp have ports", what)
	return 0
}

// namedTransport reconciles a qualifier with the protocol a service name
// is registered for ("udp port http" is an error: http is tcp only).
func (g *gen) namedTransport(q Proto, registered int, name, what string) int {
	want := g.transportOf(q, what)
	if want == protoUndef || registered == protoUndef {
		if want == protoUndef {
			return registered
		}
		return want
	}
	if want != registered {
		g.fail("%s '%s' is %s", what, name, transportName(registered))
	}
	return want
}

func transportName(p int) string {
	switch p {
	case ipprotoTCP:
		return "tcp"
	case ipprotoUDP:
		return "udp"
	}
	return "sctp"
}

func (g *gen) checkPort(n int) {
	if n < 0 {
		g.fail("illegal port number %d < 0", n)
	}
	if n > 65535 {
		g.fail("illegal port number %d > 65535", n)
	}
}

// portName compiles "port NAME".
func (g *gen) portName(p *Primitive) frag {
	g.transportOf(p.Q.Proto, "port")
	port, registered, ok := lookupPort(p.Value.Text)
	if !ok {
		g.fail("unknown port '%s'", p.Value.Text)
	}
	ipProto := g.namedTransport(p.Q.Proto, registered, p.Value.Text, "port")
	g.checkPort(port)
	return g.port(uint32(port), ipProto, p.Q.Dir)
}

// portRangeName compiles "portrange A-B" where A and B are numbers or
// service names.
func (g *gen) portRangeName(p *Primitive) frag {
	g.transportOf(p.Q.Proto, "portrange")
	lo, hi, registered, ok := lookupPortRange(p.Value.Text)
	if !ok {
		g.fail("unknown port in range '%s'", p.Value.Text)
	}
	ipProto := g.namedTransport(p.Q.Proto, registered, p.Value.Text, "port in range")
	g.checkPort(lo)
	g.checkPort(hi)
	return g.portRange(uint32(lo), uint32(hi), ipProto, p.Q.Dir)
}
