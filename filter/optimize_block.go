package filter

// atomUse returns the atom a statement reads: a scratch slot, atomA,
// atomX, atomAX for both, or -1 (libpcap's atomuse).
func atomUse(s ostmt) int {
	if s.code == opNop {
		return -1
	}
	c := uint16(s.code)
	switch Class(c) {
	case ClassRet:
		switch c & 0x18 {
		case SrcA:
			return atomA
		case SrcX:
			return atomX
		}
		return -1
	case ClassLd, ClassLdx:
		switch c & 0xe0 {
		case ModeInd:
			return atomX
		case ModeMem:
			return int(s.k)
		}
		return -1
	case ClassSt:
		return atomA
	case ClassStx:
		return atomX
	case ClassJmp, ClassAlu:
		if c&SrcX != 0 {
			return atomAX
		}
		return atomA
	}
	// ClassMisc
	if c&0xf8 == MiscTxa {
		return atomX
	}
	return atomA
}

// atomDef returns the atom a statement writes, or -1 (libpcap's atomdef).
func atomDef(s ostmt) int {
	if s.code == opNop {
		return -1
	}
	c := uint16(s.code)
	switch Class(c) {
	case ClassLd, ClassAlu:
		return atomA
	case ClassLdx:
		return atomX
	case ClassSt, ClassStx:
		return int(s.k)
	case ClassMisc:
		if c&0xf8 == MiscTax {
			return atomX
		}
		return atomA
	}
	return -1
}

// addUse adds to use the atoms s reads that def does not hold yet.
func addUse(s ostmt, def atomset, use *atomset) {
	switch atom := atomUse(s); {
	case atom == atomAX:
		if !def.has(atomX) {
			*use |= 1 << atomX
		}
		if !def.has(atomA) {
			*use |= 1 << atomA
		}
	case atom >= 0:
		if !def.has(atom) {
			*use |= 1 << atom
		}
	}
}

// computeLocalUD finds the atoms a block reads before writing (inUse,
// stored) and writes before reading (returned). As in libpcap, the
// return's own operand is not counted.
func computeLocalUD(b *oblock) (kill atomset) {
	var def, use atomset
	for _, s := range b.stmts {
		if s.code == opNop {
			continue
		}
		addUse(s, def, &use)
		if atom := atomDef(s); atom >= 0 {
			if !use.has(atom) {
				kill |= 1 << atom
			}
			def |= 1 << atom
		}
	}
	if Class(uint16(b.s.code)) == ClassJmp {
		addUse(b.s, def, &use)
	}
	b.inUse = use
	return kill
}

// findUD computes, for every block, the atoms live on entry and on exit,
// level by level from the returns up, so that successors are done first.
func findUD(levels levelList) {
	for level := range levels.len() {
		for _, b := range levels.at(level) {
			kill := computeLocalUD(b)
			b.outUse = 0
			if !b.isLeaf() {
				b.outUse = b.jt().inUse | b.jf().inUse
				b.inUse |= b.outUse &^ kill
			}
		}
	}
}

// optBlock numbers a block's values from its predecessors' exit values,
// simplifies its statements and its jump (libpcap's opt_blk).
func (o *optimizer) optBlock(b *oblock, doStmts bool) {
	if p := b.inEdges; p == nil {
		b.val = [nAtoms]uint32{}
	} else {
		b.val = o.pred(p).val
		for p = p.next; p != nil; p = p.next {
			val := &o.pred(p).val
			for i := range b.val {
				if b.val[i] != val[i] {
					b.val[i] = valUnknown
				}
			}
		}
	}
	aval, xval := b.val[atomA], b.val[atomX]
	for i := range b.stmts {
		o.optStmt(&b.stmts[i], &b.val, doStmts)
	}
	// A block that changes nothing anyone uses, or a return, needs no
	// statements.
	unchanged := b.outUse == 0 && aval != valUnknown && b.val[atomA] == aval &&
		xval != valUnknown && b.val[atomX] == xval
	if doStmts && (unchanged || Class(uint16(b.s.code)) == ClassRet) {
		if len(b.stmts) != 0 {
			b.stmts = nil
			o.changed()
		}
	} else {
		o.peephole(b)
		o.deadStores(b)
	}
	if uint16(b.s.code)&SrcX == SrcK {
		b.oval = o.values.constant(b.s.k)
	} else {
		b.oval = b.val[atomX]
	}
	b.et.code = b.s.code
	b.ef.code = -b.s.code
}

// nextOp returns the index of the first statement at or after i that is
// not deleted, or -1.
func nextOp(stmts []ostmt, i int) int {
	for ; i < len(stmts); i++ {
		if stmts[i].code != opNop {
			return i
		}
	}
	return -1
}

// deadStores deletes statements whose result is overwritten before any
// use, or unused after the block (libpcap's opt_deadstores).
func (o *optimizer) deadStores(b *oblock) {
	var last [nAtoms]*ostmt
	dead := func(s *ostmt) {
		switch atom := atomUse(*s); {
		case atom == atomAX:
			last[atomX], last[atomA] = nil, nil
		case atom >= 0:
			last[atom] = nil
		}
		if atom := atomDef(*s); atom >= 0 {
			if last[atom] != nil {
				last[atom].code = opNop
				o.changed()
			}
			last[atom] = s
		}
	}
	for i := range b.stmts {
		dead(&b.stmts[i])
	}
	dead(&b.s)
	for atom, s := range last {
		if s != nil && !b.outUse.has(atom) {
			s.code = opNop
			o.changed()
		}
	}
}
