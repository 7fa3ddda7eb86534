package filter

// lookupEther resolves an Ethernet host name from the ethers database;
// what names the link type in the error ("ether", "802.11").
func (g *gen) lookupEther(name, what string) []byte {
	mac, err := g.resolver().LookupEther(name)
	if err != nil || len(mac) != 6 {
		g.fail("unknown %s host '%s'", what, name)
	}
	return mac
}

// etherHostName compiles "ether [src|dst] host NAME" with the name's
// address from /etc/ethers (libpcap gen_scode with Q_LINK).
func (g *gen) etherHostName(p *Primitive) frag {
	name := p.Value.Text
	switch {
	case g.isEthernet():
		mac := g.lookupEther(name, "ether")
		return g.withLinkHeaderCheck(g.ehostop(mac, p.Q.Dir))
	case dot11LinkTypes[g.link]:
		g.lookupEther(name, "802.11")
		g.fail("ether host names on %s are not supported yet", g.link.Description())
	}
	g.fail("only ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel supports link-level host name")
	return frag{}
}

// gateway compiles "[ip|arp|rarp] gateway NAME": the packet went through
// the host as a router, its Ethernet address (from /etc/ethers) being the
// frame's source or destination while none of its IPv4 addresses (from
// the resolver) is the packet's. This is libpcap's gen_gateway; libpcap
// 1.10 refuses "gateway" when built with IPv6 support, later versions
// compile it this way and ignore the host's IPv6 addresses.
func (g *gen) gateway(p *Primitive) frag {
	name := p.Value.Text
	mac := g.lookupEther(name, "ether")
	addrs, err := g.resolver().LookupHost(name)
	if err != nil || len(addrs) == 0 {
		g.fail("unknown host '%s'", name)
	}
	if p.Q.Dir != DirDefault {
		g.fail("direction applied to 'gateway'")
	}
	switch p.Q.Proto {
	case ProtoDefault, ProtoIP, ProtoARP, ProtoRARP:
	default:
		g.fail("illegal modifier of 'gateway'")
	}
	var b0 frag
	switch {
	case g.isEthernet():
		b0 = g.withLinkHeaderCheck(g.ehostop(mac, DirSrcOrDst))
	case dot11LinkTypes[g.link]:
		g.fail("'gateway' on %s is not supported yet", g.link.Description())
	default:
		g.fail("'gateway' supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel")
	}
	var b1 frag
	have := false
	for _, a := range addrs {
		if !a.Is4() && !a.Is4In6() {
			continue
		}
		v := a.Unmap().As4()
		addr := uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
		tmp := g.host(addr, 0xffffffff, p.Q.Proto, DirSrcOrDst, AddrHost)
		if have {
			tmp = or(b1, tmp)
		}
		b1, have = tmp, true
	}
	if !have {
		g.fail("unknown host '%s'", name)
	}
	return and(b0, not(b1))
}
