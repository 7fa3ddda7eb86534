package filter

// protochain compiles "[ip|ip6] protochain N".
func (g *gen) protochain(v uint32, proto Proto) frag {
	g.fail("'protochain' is not supported yet")
	return frag{}
}
