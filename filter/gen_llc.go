package filter

// llc compiles "llc", "llc i", "llc s", "llc u" and the named LLC frame
// subtypes.
func (g *gen) llc(n *Keyword) frag {
	g.fail("'llc' is not supported yet")
	return frag{}
}
