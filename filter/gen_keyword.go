package filter

// keyword compiles the link-specific words the parser keeps as Keyword
// nodes: llc, the 802.11 words, and the pflog, ATM and SS7 words that no
// link type weir reads carries.
func (g *gen) keyword(n *Keyword) frag {
	switch n.Words[0] {
	case "llc":
		return g.llc(n)
	case "type", "subtype", "dir":
		return g.wlanKeyword(n)
	}
	g.fail("'%s' is not supported on %s captures", n.Words[0], g.outermostLink.Name())
	return frag{}
}
