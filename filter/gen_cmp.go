package filter

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
