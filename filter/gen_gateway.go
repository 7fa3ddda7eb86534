package filter

// gateway compiles "gateway NAME".
func (g *gen) gateway(p *Primitive) frag {
	g.failAt(p.Pos(), "'gateway' is not supported yet")
	return frag{}
}

// etherHostName compiles "ether host NAME".
func (g *gen) etherHostName(p *Primitive) frag {
	g.fail("ether host names (/etc/ethers) are not supported yet: give the MAC address")
	return frag{}
}
