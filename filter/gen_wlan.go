package filter

// wlanKeyword compiles the 802.11 frame words "type", "subtype" and "dir".
func (g *gen) wlanKeyword(n *Keyword) frag {
	g.fail("'%s' is not supported yet", n.Words[0])
	return frag{}
}
